// The options of `npm run bench:realtime` (bench/realtime.ts): its usage text and their parsing.
import { parseArgs } from "node:util";

export interface Options {
  subscribers: number;
  perUser: number;
  rate: number;
  duration: number;
  /** Seconds of alerts at the same rate before each measured window, not counted. */
  warmUp: number;
  webhookEvents: number;
  endpoints: number;
  webhookRate: number;
  connectConcurrency: number;
  /** Connections the alert publisher commits on at once (each alert is one transaction). */
  publisherConnections: number;
  /** Worker threads the subscribers are split over. */
  subscriberThreads: number;
  seed: number;
  selections: Selection[];
  cpuProf: boolean;
  cpuProfDir: string | undefined;
  /** Keep a profile of what the server child allocated in each measured window, garbage included, in this folder. */
  heapProfDir: string | undefined;
  /** Extra flags for the server child's node (`--server-node-flag F`, repeatable). */
  serverNodeFlags: string[];
  /** Extra environment for the server child (`--env KEY=VALUE`, repeatable). */
  serverEnv: Record<string, string>;
  quick: boolean;
}

export type Selection = "flat" | "federated";

export const USAGE = `Usage: npm run bench:realtime -- [options]
  --subscribers N         graphql-ws subscribers, one socket each (default 10000; --quick 200)
  --per-user K            subscribers (devices) per person; N/K people are seeded (default 1)
  --rate R                alerts per second while measuring delivery (default 100)
  --duration S            seconds of alerts per selection (default 20; --quick 5)
  --warm-up S             seconds of alerts at the same rate before each measured window, not
                          counted (default 3; 0 measures from a cold start)
  --webhook-events W      alerts raised in one burst for the webhook phase (default 2000; --quick 200; 0 skips it)
  --endpoints E           webhook endpoints registered on the loopback receiver (default 4)
  --webhook-rate P        WEBHOOK_RATE_PER_SECOND for the server child (default 100000, i.e. no
                          per-endpoint limit, so the figure is the dispatcher's; the deployed default is 20)
  --connect-concurrency C WebSocket handshakes in flight at once (default 100)
  --publisher-connections P  connections the alerts are committed on, one transaction each
                          (default 4; at 500 alerts/s on a busy machine commits queue behind 4)
  --subscriber-threads T  worker threads of this process the subscribers are split over, so a
                          collection in one pauses only its share of the sockets (default 4)
  --seed N                seed of the synthetic data (default 42)
  --selection S           flat, federated or both (default both, flat first)
  --cpu-prof              profile the server child over each measured window and print where its CPU went
  --cpu-prof-dir D        the same, and keep the .cpuprofile of each window in D
  --heap-prof-dir D       keep what the server child allocated in each measured window, by call
                          stack and garbage included, as D/<selection>.heapprofile (and each
                          subscribers' thread N as D/<selection>.subscribers.N.heapprofile)
  --server-node-flag F    a flag for the server child's node, repeatable (e.g. --max-semi-space-size=64)
  --env KEY=VALUE         extra environment for the server child, repeatable (e.g. DB_POOL_SIZE=20)
  --quick                 a small smoke run`;

export function parseOptions(argv: string[]): Options {
  const names = ["subscribers", "per-user", "rate", "duration", "warm-up", "webhook-events", "endpoints", "webhook-rate", "connect-concurrency", "publisher-connections", "subscriber-threads", "seed"] as const;
  const { values } = parseArgs({
    args: argv,
    options: {
      ...Object.fromEntries(names.map((name) => [name, { type: "string" }] as const)),
      selection: { type: "string" },
      "cpu-prof": { type: "boolean" },
      "cpu-prof-dir": { type: "string" },
      "heap-prof-dir": { type: "string" },
      env: { type: "string", multiple: true },
      "server-node-flag": { type: "string", multiple: true },
      quick: { type: "boolean" },
    },
    strict: true,
  });
  const quick = values.quick === true;
  const integer = (name: (typeof names)[number], fallback: number, min: number, max: number) => {
    const raw = (values as Record<string, unknown>)[name];
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) throw new Error(`--${name} takes an integer from ${min} to ${max}, not "${String(raw)}"`);
    return value;
  };
  const serverEnv: Record<string, string> = {};
  for (const entry of values.env ?? []) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(entry);
    if (!match) throw new Error(`--env takes KEY=VALUE, not "${entry}"`);
    serverEnv[match[1]!] = match[2]!;
  }
  const selection = values.selection ?? "both";
  if (!["flat", "federated", "both"].includes(selection)) throw new Error(`--selection takes flat, federated or both, not "${selection}"`);
  return {
    subscribers: integer("subscribers", quick ? 200 : 10_000, 1, 60_000),
    perUser: integer("per-user", 1, 1, 1000),
    rate: integer("rate", 100, 1, 10_000),
    duration: integer("duration", quick ? 5 : 20, 1, 600),
    warmUp: integer("warm-up", 3, 0, 600),
    webhookEvents: integer("webhook-events", quick ? 200 : 2_000, 0, 100_000),
    endpoints: integer("endpoints", 4, 1, 100),
    webhookRate: integer("webhook-rate", 100_000, 1, 1_000_000),
    connectConcurrency: integer("connect-concurrency", 100, 1, 5_000),
    publisherConnections: integer("publisher-connections", 4, 1, 64),
    subscriberThreads: integer("subscriber-threads", 4, 1, 32),
    seed: integer("seed", 42, -(2 ** 31), 2 ** 31 - 1),
    selections: selection === "both" ? ["flat", "federated"] : [selection as Selection],
    cpuProf: values["cpu-prof"] === true || values["cpu-prof-dir"] !== undefined,
    cpuProfDir: values["cpu-prof-dir"],
    heapProfDir: values["heap-prof-dir"],
    serverEnv,
    serverNodeFlags: values["server-node-flag"] ?? [],
    quick,
  };
}
