// Command-line options of `npm run bench:gateway -- [options]`.
import { parseArgs } from "node:util";

export const SCENARIO_NAMES = ["distinct-pages", "five-subgraphs", "single-connection", "one-subgraph-via-gateway", "one-subgraph-direct"] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface BenchOptions {
  /** Users to seed. */
  users: number;
  /** Seconds of measured load per scenario. */
  duration: number;
  /** Seconds of discarded load before each measured run. */
  warmup: number;
  connections: number;
  seed: number;
  scenarios: ScenarioName[];
  /** Run the server child with --cpu-prof and print its hottest functions. */
  cpuProf: boolean;
  /** Where the child's .cpuprofile goes (default: a temporary folder). */
  cpuProfDir: string | undefined;
  /** Start the child with NODE_ENV=production (default: NODE_ENV unset, as `npm start` runs). */
  production: boolean;
  /** Extra flags for the server children's node (`--server-node-flag F`, repeatable). */
  serverNodeFlags: string[];
}

export const USAGE = `Usage: npm run bench:gateway -- [options]
  --users N          users to seed (default 2000)
  --duration S       measured seconds per scenario (default 15)
  --warmup S         discarded warm-up seconds per scenario (default 3)
  --connections C    concurrent connections (default 20)
  --seed N           seed of the synthetic data (default 42)
  --scenarios LIST   comma-separated subset of: ${SCENARIO_NAMES.join(", ")}
  --cpu-prof         profile the server child (V8 --cpu-prof) and print its hotspots
  --cpu-prof-dir D   keep the .cpuprofile in D (default: a temporary folder)
  --production       start the server child with NODE_ENV=production (default: unset, as \`npm start\`)
  --server-node-flag F  a flag for the server children's node, repeatable (e.g. --max-semi-space-size=32)`;

export class UsageError extends Error {}

function integer(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`--${name} takes an integer from ${min} to ${max}, not "${raw}"`);
  return value;
}

export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        users: { type: "string" },
        duration: { type: "string" },
        warmup: { type: "string" },
        connections: { type: "string" },
        seed: { type: "string" },
        scenarios: { type: "string" },
        "cpu-prof": { type: "boolean", default: false },
        "cpu-prof-dir": { type: "string" },
        production: { type: "boolean", default: false },
        "server-node-flag": { type: "string", multiple: true },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values } = parsed;
  if (values.help) throw new UsageError("");
  const scenarios = values.scenarios === undefined ? [...SCENARIO_NAMES] : values.scenarios.split(",").map((name) => name.trim());
  for (const name of scenarios) {
    if (!(SCENARIO_NAMES as readonly string[]).includes(name)) throw new UsageError(`unknown scenario "${name}"`);
  }
  return {
    users: integer("users", values.users, 2000, 20, 1_000_000),
    duration: integer("duration", values.duration, 15, 1, 600),
    warmup: integer("warmup", values.warmup, 3, 0, 120),
    connections: integer("connections", values.connections, 20, 1, 1000),
    seed: integer("seed", values.seed, 42, -(2 ** 31), 2 ** 31 - 1),
    scenarios: scenarios as ScenarioName[],
    cpuProf: values["cpu-prof"] === true || values["cpu-prof-dir"] !== undefined,
    cpuProfDir: values["cpu-prof-dir"],
    production: values.production === true,
    serverNodeFlags: values["server-node-flag"] ?? [],
  };
}
