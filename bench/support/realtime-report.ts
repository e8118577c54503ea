// bench:realtime's figures and how they are printed: the summary table, and what slowed a window.
import { performance } from "node:perf_hooks";
import type { Published } from "./alert-publisher.ts";
import { addCount } from "./counts.ts";
import type { LoopReport, Stall } from "./loop-watch.ts";
import { fixed, loadAverage, type Cpu, type Spread } from "./realtime-figures.ts";
import { summariseProfile } from "./cpu-profile.ts";
import { codeVersion, distinctLines, machineFacts } from "./report.ts";
import type { ServerChild } from "../../testkit/server-child.ts";
import type { Options } from "./realtime-options.ts";
import type { ServerProbe } from "./realtime-server.ts";
import type { Arrival } from "./realtime-subscribers.ts";

const log = (message: string) => console.log(`[bench] ${message}`);

/** How long deliveries may still arrive after the last alert of a phase. */
export const DRAIN_SECONDS = 20;

export interface ConnectFigures {
  attempted: number;
  acknowledged: number;
  held: number;
  streams: number;
  connectSeconds: number;
  subscribeSeconds: number;
  ackMs: Spread;
  failures: Map<string, number>;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  heapBeforeMiB: number;
  heapAfterMiB: number;
  benchRssMiB: number;
  /** Server CPU while holding them, no events. */
  holdingCpu: Cpu;
  loadAverage: string;
}

export interface EventFigures {
  selection: string;
  published: number;
  achievedRate: number;
  expected: number;
  delivered: number;
  duplicates: number;
  unknown: number;
  withErrors: number;
  latency: Spread;
  commitMs: Spread;
  /** From the alert's creation to the relay's `published_at` stamp (after its NOTIFY): the relay's share of the latency. */
  relayMs: Spread;
  /** From the alert's creation to its arrival at the gateway's event feed. */
  feedMs: Spread;
  /** From the gateway's event feed to the subscriber: the subscription hub, federated execution and the socket. */
  hubMs: Spread;
  schedulerBehindMs: Spread;
  /** Transactions committed in the database (the publisher's one included) per alert, and rows fetched per alert, over the phase and its drain. */
  transactionsPerAlert: number;
  rowsFetchedPerAlert: number;
  cpu: Cpu;
  loopDelayMs: ServerProbe["loopDelayMs"];
  rssMiB: number;
  closesDuring: number;
  sample: string;
  /** What the hub's per-event fetches to the subgraphs answered over the phase. */
  fetches: string;
  /** Distinct deliveries of the phase's alerts that had arrived when the sockets were closed (late ones included). */
  eventuallyDelivered: number | undefined;
  loadAverage: string;
}

export interface WebhookFigures {
  events: number;
  endpoints: number;
  expected: number;
  received: number;
  unique: number;
  unverified: number;
  seconds: number;
  perSecond: number;
  steadyPerSecond: number;
  latencyMs: Spread;
  statuses: Record<string, number>;
  /** Database transactions per delivery (the burst's own inserts included). */
  transactionsPerDelivery: number;
  cpu: Cpu;
  loopDelayMs: ServerProbe["loopDelayMs"];
  loadAverage: string;
}

/** Server CPU time over the phase (alerts and drain) per alert published. */
export function cpuMsPerAlert(figures: EventFigures): number | undefined {
  return figures.cpu.server === undefined ? undefined : (figures.cpu.server * figures.cpu.seconds * 1000) / Math.max(1, figures.published);
}

export function summaryTable(options: Options, connect: ConnectFigures, events: readonly EventFigures[], webhooks: WebhookFigures | undefined): string {
  const lines = ["| figure | value |", "|---|---:|"];
  const row = (figure: string, value: string) => lines.push(`| ${figure} | ${value} |`);
  row("subscribers held (gateway hub) / sockets acknowledged / attempted", `${connect.held} / ${connect.acknowledged} / ${connect.attempted}`);
  row("subscription streams at the gateway", String(connect.streams));
  row("connect time (all sockets acknowledged)", `${fixed(connect.connectSeconds, 1)} s`);
  row("server RSS idle -> holding them", `${fixed(connect.rssBeforeMiB)} -> ${fixed(connect.rssAfterMiB)} MiB`);
  row("server RSS per subscriber", `${fixed(((connect.rssAfterMiB - connect.rssBeforeMiB) * 1024) / Math.max(1, connect.held), 1)} KiB`);
  row("server CPU holding them, no events", `${fixed(connect.holdingCpu.server, 2)} cores`);
  for (const figures of events) {
    const name = figures.selection === "flat" ? "flat selection" : "with `user { wellness { score band } }`";
    row(`${name}: alerts/s offered (achieved)`, `${options.rate} (${fixed(figures.achievedRate, 1)})`);
    row(`${name}: delivered within ${DRAIN_SECONDS} s of the last alert / expected (missing, duplicates)`, `${figures.delivered} / ${figures.expected} (${figures.expected - figures.delivered}, ${figures.duplicates})`);
    row(`${name}: delivered at all (before the sockets closed)`, `${figures.eventuallyDelivered ?? "n/a"} / ${figures.expected}`);
    row(`${name}: event-to-delivery p50 / p95 / p99 / max`, `${fixed(figures.latency.p50, 1)} / ${fixed(figures.latency.p95, 1)} / ${fixed(figures.latency.p99, 1)} / ${fixed(figures.latency.max, 1)} ms`);
    row(`${name}: server CPU cores, CPU ms per alert, loop delay p99`, `${fixed(figures.cpu.server, 2)}, ${fixed(cpuMsPerAlert(figures), 1)} ms, ${fixed(figures.loopDelayMs.p99, 1)} ms`);
    row(`${name}: database transactions per alert`, fixed(figures.transactionsPerAlert, 1));
  }
  if (webhooks) {
    row(`webhooks: deliveries / expected (${webhooks.endpoints} endpoints x ${webhooks.events} alerts)`, `${webhooks.received} / ${webhooks.expected} (${webhooks.unique} distinct)`);
    row("webhooks: deliveries per second (overall, steady)", `${fixed(webhooks.perSecond)}, ${fixed(webhooks.steadyPerSecond)}`);
    row("webhooks: alert-to-receiver p50 / p99 / max", `${fixed(webhooks.latencyMs.p50)} / ${fixed(webhooks.latencyMs.p99)} / ${fixed(webhooks.latencyMs.max)} ms`);
  }
  return lines.join("\n");
}

export interface WindowRecord {
  published: readonly Published[];
  arrivals: ReadonlyMap<string, readonly Arrival[]>;
  /** Wall-clock ms at which each alert reached the gateway's feed. */
  feedTimes: Readonly<Record<string, number>>;
  /** Ms from each alert's creation to the relay's published_at stamp. */
  relayMsOf: ReadonlyMap<string, number>;
  server: ServerProbe;
  subscribersLoop: LoopReport;
  publisherLoop: LoopReport;
  /** The machine's I/O wait, sampled every 100 ms over the window and its drain. */
  ioWait: readonly { at: number; ms: number }[];
}

/** Names what slowed a window: stalls and their GC, the slowest alerts stage by stage, the hub's slow steps, slow alerts by second. */
export function logWhatSlowedTheWindow(window: WindowRecord): void {
  const { published, arrivals, feedTimes, relayMsOf, server } = window;
  const windowStart = performance.timeOrigin + (published[0]?.sentAt ?? 0);
  /** Whole seconds from the window's first alert to a wall-clock time. */
  const secondOf = (wallMs: number) => Math.floor((wallMs - windowStart) / 1000);
  const atOffset = (wallMs: number) => `+${((wallMs - windowStart) / 1000).toFixed(1)} s`;
  const sentAtWall = (entry: Published) => performance.timeOrigin + entry.sentAt;

  const stallsOf = (stalls: readonly Stall[]) => stalls.map((stall) => `${atOffset(stall.at)} ${fixed(stall.lateMs)} ms${stall.gc.length ? ` (${stall.gc.join(", ")})` : ""}`).join("; ") || "none";
  const loopOf = (name: string, report: LoopReport) =>
    `${name} ${stallsOf(report.stalls)}, GC pauses ${report.gcPauses.count} (${report.gcPauses.major} major), longest ${fixed(report.gcPauses.maxMs, 1)} ms`;
  log(`  window started ${new Date(windowStart).toISOString()}`);
  log(`  loop stalls over 40 ms: server ${stallsOf(server.stalls)}; ${loopOf("the subscribers' threads", window.subscribersLoop)}; ${loopOf("the publisher's thread", window.publisherLoop)}`);

  const latestDelivery = (entry: Published) => Math.max(...(arrivals.get(entry.alertId) ?? []).map((arrival) => arrival.at - entry.sentAt));
  const slow = published.filter((entry) => latestDelivery(entry) > 100);
  const stages = (entry: Published) => {
    const atFeed = feedTimes[entry.alertId];
    return `${atOffset(sentAtWall(entry))}: committed ${fixed(entry.committedAt - entry.sentAt)}, stamped ${fixed(relayMsOf.get(entry.alertId))}, at the feed ${fixed(atFeed === undefined ? undefined : atFeed - sentAtWall(entry))}, delivered ${fixed(latestDelivery(entry))} ms`;
  };
  const slowest = [...slow].sort((a, b) => latestDelivery(b) - latestDelivery(a)).slice(0, 5);
  if (slowest.length) log(`  the slowest alerts (ms after the publisher's clock): ${slowest.map(stages).join("; ")}`);

  const slowSteps = new Map<string, { count: number; longest: number; seconds: Set<number> }>();
  for (const step of server.slowSteps) {
    const entry = slowSteps.get(step.step) ?? { count: 0, longest: 0, seconds: new Set<number>() };
    entry.count++;
    entry.longest = Math.max(entry.longest, step.ms);
    entry.seconds.add(secondOf(step.at));
    slowSteps.set(step.step, entry);
  }
  const stepLines = [...slowSteps].map(([step, entry]) => `${step} ${entry.count} (longest ${fixed(entry.longest)} ms; in seconds ${[...entry.seconds].sort((a, b) => a - b).join(", ")})`);
  log(`  the hub's steps over 30 ms: ${stepLines.join("; ") || "none"}`);
  const slowBySecond = new Map<number, number>();
  for (const entry of slow) addCount(slowBySecond, secondOf(sentAtWall(entry)));
  log(`  alerts delivered after 100 ms, by second of the window: ${JSON.stringify(Object.fromEntries(slowBySecond))}`);
  // A stalled disk flush holds every commit; it shows as I/O wait in the seconds it happens.
  const ioWaitBySecond = new Map<number, number>();
  for (const sample of window.ioWait) addCount(ioWaitBySecond, secondOf(sample.at), sample.ms);
  const ioWaitSeconds = [...ioWaitBySecond].filter(([, ms]) => ms >= 40).map(([second, ms]) => [second, Math.round(ms)]);
  log(`  the machine's I/O wait, by second of the window (seconds with 40 ms or more): ${JSON.stringify(Object.fromEntries(ioWaitSeconds))}`);
}

/** Everything bench:realtime measured, as it prints it at the end. */
export interface RunReport {
  options: Options;
  people: number;
  fileLimit: number | undefined;
  config: ServerChild["config"];
  connect: ConnectFigures;
  cpuConnect: Cpu;
  events: readonly EventFigures[];
  webhooks: WebhookFigures | undefined;
  closes: ReadonlyMap<string, number>;
  subscriptionErrors: ReadonlyMap<string, number>;
  final: ReturnType<ServerChild["memory"]>;
  idleLoad: string;
  stderr: string;
  profiles: readonly { selection: string; file: string }[];
}

/** The run's setup, the summary table, a line per phase, the server's stderr and its CPU profiles. */
export function printReport({ options, people, fileLimit, config, connect, cpuConnect, events, webhooks, closes, subscriptionErrors, final, idleLoad, stderr, profiles }: RunReport): void {
  console.log("");
  console.log(`Machine: ${machineFacts()}; open-file limit ${fileLimit ?? "unlimited"}`);
  console.log(`Code: ${codeVersion()}`);
  console.log(`Date: ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`);
  console.log(
    `Setup: ${options.subscribers} subscribers over ${people} seeded people (${options.perUser} socket per device, one subscription per socket, each its own consent token); ` +
      `server child = gateway + 5 subgraphs + relay + dispatcher in one Node process (DB_POOL_SIZE ${config.dbPoolSize} per Prisma client, ` +
      `SUBSCRIPTION_RECHECK_SECONDS ${config.realtime.subscriptionRecheckMs / 1000}${Object.keys(options.serverEnv).length ? `, --env ${Object.entries(options.serverEnv).map(([key, value]) => `${key}=${value}`).join(" ")}` : ""}), ` +
      `PostgreSQL and this load generator on the same machine; each measured window of alerts follows a ${options.warmUp} s warm-up at the same rate`,
  );
  console.log("");
  console.log(summaryTable(options, connect, events, webhooks));
  console.log("");
  console.log(
    `Connect: ${connect.acknowledged}/${connect.attempted} sockets acknowledged in ${fixed(connect.connectSeconds, 1)} s (${fixed(connect.acknowledged / connect.connectSeconds)} /s, ${options.connectConcurrency} handshakes in flight; ` +
      `ack p50 ${fixed(connect.ackMs.p50)} ms, p99 ${fixed(connect.ackMs.p99)} ms); subscriptions live at the gateway ${fixed(connect.subscribeSeconds, 1)} s after the subscribe messages; ` +
      `server CPU over connect+subscribe ${fixed(cpuConnect.server, 2)} cores for ${fixed(cpuConnect.seconds, 1)} s; heap ${fixed(connect.heapBeforeMiB)} -> ${fixed(connect.heapAfterMiB)} MiB; this process (clients) RSS ${fixed(connect.benchRssMiB)} MiB`,
  );
  if (connect.failures.size) console.log(`Connect failures: ${[...connect.failures].map(([why, count]) => `${count} x ${why}`).join("; ")}`);
  if (closes.size) console.log(`Sockets closed by the server after ack: ${[...closes].map(([why, count]) => `${count} x ${why}`).join("; ")}`);
  if (subscriptionErrors.size) console.log(`Subscription errors: ${[...subscriptionErrors].map(([why, count]) => `${count} x ${why}`).join("; ")}`);
  for (const figures of events) {
    console.log(
      `Events, ${figures.selection}: ${figures.published} alerts at ${fixed(figures.achievedRate, 1)}/s; commit (alert + outbox) p50 ${fixed(figures.commitMs.p50, 1)} ms, p99 ${fixed(figures.commitMs.p99, 1)} ms; ` +
        `split: alert created -> relay's published_at stamp p50 ${fixed(figures.relayMs.p50, 1)} / p99 ${fixed(figures.relayMs.p99, 1)} ms, -> gateway feed p50 ${fixed(figures.feedMs.p50, 1)} / p99 ${fixed(figures.feedMs.p99, 1)} ms, ` +
        `feed -> subscriber p50 ${fixed(figures.hubMs.p50, 1)} / p99 ${fixed(figures.hubMs.p99, 1)} ms; ` +
        `scheduler behind p99 ${fixed(figures.schedulerBehindMs.p99, 1)} ms; database: ${fixed(figures.transactionsPerAlert, 1)} transactions and ${fixed(figures.rowsFetchedPerAlert, 0)} rows fetched per alert; CPU cores: server ${fixed(figures.cpu.server, 2)} (${fixed(cpuMsPerAlert(figures), 1)} ms per alert over ${fixed(figures.cpu.seconds, 1)} s), PostgreSQL ${fixed(figures.cpu.postgres, 2)}, bench ${fixed(figures.cpu.bench, 2)}, machine ${fixed(figures.cpu.machine, 2)}; ` +
        `server loop delay p50/p99/max ${fixed(figures.loopDelayMs.p50, 1)}/${fixed(figures.loopDelayMs.p99, 1)}/${fixed(figures.loopDelayMs.max, 1)} ms; server RSS ${fixed(figures.rssMiB)} MiB; ` +
        `the hub's fetches to subgraphs: ${figures.fetches || "none"}; ` +
        `${figures.closesDuring ? `${figures.closesDuring} sockets closed by the server; ` : ""}${figures.unknown ? `${figures.unknown} results without an alert id; ` : ""}load average ${figures.loadAverage}`,
    );
  }
  if (webhooks) {
    console.log(
      `Webhooks: ${webhooks.events} alerts raised in one burst (batches of 100, as the prevention engine writes a batch), ${webhooks.endpoints} endpoints, WEBHOOK_RATE_PER_SECOND=${config.realtime.webhooks.ratePerSecond}; ` +
        `${webhooks.received} deliveries (${webhooks.unique} distinct, ${webhooks.unverified} failed signature checks) in ${fixed(webhooks.seconds, 1)} s; steady rate ${fixed(webhooks.steadyPerSecond)}/s; ` +
        `delivery rows: ${Object.entries(webhooks.statuses).map(([status, count]) => `${status} ${count}`).join(", ")}; ${fixed(webhooks.transactionsPerDelivery, 1)} database transactions per delivery; ` +
        `CPU cores: server ${fixed(webhooks.cpu.server, 2)} (${fixed(((webhooks.cpu.server ?? Number.NaN) * webhooks.cpu.seconds * 1000) / Math.max(1, webhooks.received), 2)} ms per delivery), ` +
        `PostgreSQL ${fixed(webhooks.cpu.postgres, 2)} (${fixed((webhooks.cpu.postgres * webhooks.cpu.seconds * 1000) / Math.max(1, webhooks.received), 2)} ms per delivery), machine ${fixed(webhooks.cpu.machine, 2)}; ` +
        `server loop delay p99 ${fixed(webhooks.loopDelayMs.p99, 1)} ms; load average ${webhooks.loadAverage}`,
    );
  }
  console.log(final ? `Server child RSS at the end: ${fixed(final.rssMiB)} MiB (peak ${fixed(final.peakRssMiB)} MiB)` : "Server child RSS: unavailable");
  console.log(`Load average (1/5/15 min): idle before connecting ${idleLoad}; at the end ${loadAverage()}`);
  const warnings = distinctLines(stderr).filter((line) => !line.includes("ExperimentalWarning"));
  if (warnings.length) console.log(`\nserver child stderr (distinct lines of the last 16 kB):\n${warnings.slice(-8).join("\n")}`);

  for (const { selection, file } of profiles) {
    const summary = summariseProfile(file, 25);
    console.log(`\nCPU profile of the server child over the ${selection} window (${file}): ${(summary.busyMs / 1000).toFixed(1)} s busy, ${(summary.idleMs / 1000).toFixed(1)} s idle`);
    console.log("self time by package or folder:");
    for (const spot of summary.packages) console.log(`  ${(100 * spot.share).toFixed(1).padStart(5)} %  ${spot.name}`);
    console.log("top functions by self time:");
    for (const spot of summary.functions) console.log(`  ${(100 * spot.share).toFixed(1).padStart(5)} %  ${spot.name}`);
  }
}
