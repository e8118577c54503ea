// `npm run bench:enforcement -- [--load identical|distinct] [--users N] [--duration S] [--warmup S] [--connections C] [--rounds R] [--seed N]`
//
// What field-level consent enforcement costs. Seeds a fresh PostgreSQL database, widens every
// seeded consent to every read scope (so both sides return the same, complete answer), and
// runs kamina-graph in a child process on that database, one at a time: as deployed, and with
// UNSAFE_DISABLE_SCOPE_ENFORCEMENT=true (no per-field scope checks, no per-person consent
// look-ups, no receipts; tokens are still verified, the consent join that decides which
// people a partner sees still runs, and calls are still metered). Drives bench:gateway's five-subgraph query (20 users, a
// partner token) against each, alternating the order every round so drift on a shared machine
// falls on both sides, and prints req/s, p50 and p99 side by side with the overhead. `--load
// distinct` sends bench:gateway's distinct pages instead (a rotating cursor: no two requests in
// flight the same, so nothing is shared and every page writes its own 20 receipts).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import pg from "pg";
import { seedDatabase } from "../prisma/seed/index.ts";
import { createTestDatabase, type TestDatabase } from "../testkit/postgres.ts";
import { DEMO_CLIENT_ID, mintClientToken } from "./support/auth.ts";
import { grantEveryReadScope } from "./support/consents.ts";
import { measure, preflight, sampleMachine, type Measurement } from "./support/load.ts";
import { codeVersion, machineFacts } from "./support/report.ts";
import { buildScenarios, pageCursors, type Scenario } from "./support/scenarios.ts";
import { Cleanups, runBenchmarkCli } from "./support/lifecycle.ts";
import { startServerChild, type ServerChild } from "../testkit/server-child.ts";
import { BENCH_QUOTAS } from "./support/bench-stack.ts";
import { percentile } from "./support/realtime-figures.ts";

const log = (message: string) => console.log(`[bench] ${message}`);
const SANDBOX_CLIENT_SECRET = "bench-sandbox-secret";
const SIDES = ["enforced", "unenforced"] as const;
type Side = (typeof SIDES)[number];

const LOADS = ["identical", "distinct"] as const;
type Load = (typeof LOADS)[number];

interface Options {
  load: Load;
  users: number;
  duration: number;
  warmup: number;
  connections: number;
  rounds: number;
  seed: number;
}

const USAGE = `Usage: npm run bench:enforcement -- [options]
  --load L         identical (default: every request the same 20-person page) or distinct (a rotating cursor)
  --users N        users to seed (default 2000)
  --duration S     measured seconds per side per round (default 15)
  --warmup S       discarded warm-up seconds before each measured run (default 3)
  --connections C  concurrent connections (default 20)
  --rounds R       rounds; each measures both sides, alternating which goes first (default 2)
  --seed N         seed of the synthetic data (default 42)`;

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries(["load", "users", "duration", "warmup", "connections", "rounds", "seed"].map((name) => [name, { type: "string" }] as const)),
    strict: true,
  });
  const integer = (name: keyof Options, fallback: number, min: number, max: number) => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) throw new Error(`--${name} takes an integer from ${min} to ${max}, not "${String(raw)}"`);
    return value;
  };
  const load = values.load ?? "identical";
  if (!(LOADS as readonly unknown[]).includes(load)) throw new Error(`--load takes ${LOADS.join(" or ")}, not "${String(load)}"`);
  return {
    load: load as Load,
    users: integer("users", 2000, 40, 1_000_000),
    duration: integer("duration", 15, 1, 600),
    warmup: integer("warmup", 3, 0, 120),
    connections: integer("connections", 20, 1, 1000),
    rounds: integer("rounds", 2, 1, 20),
    seed: integer("seed", 42, -(2 ** 31), 2 ** 31 - 1),
  };
}

const cleanups = new Cleanups();

/** Sums several measured runs of one side: requests over total time, latency percentiles averaged. */
function combine(runs: Measurement[]) {
  const seconds = runs.reduce((sum, run) => sum + run.durationSeconds, 0);
  const requests = runs.reduce((sum, run) => sum + run.totalRequests, 0);
  const mean = (pick: (run: Measurement) => number | undefined) => {
    const values = runs.map(pick).filter((value): value is number => value !== undefined);
    return values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : undefined;
  };
  return {
    requestsPerSecond: requests / seconds,
    p50: mean((run) => run.latency.p50)!,
    p99: mean((run) => run.latency.p99)!,
    cpuMsPerRequest: mean((run) => (run.serverCpuCores === undefined ? undefined : (1000 * run.serverCpuCores) / run.requestsPerSecond)),
    // Receipts are written by PostgreSQL: on distinct pages most of what enforcement costs is there.
    postgresMsPerRequest: mean((run) => (run.postgresCpuCores === undefined ? undefined : (1000 * run.postgresCpuCores) / run.requestsPerSecond)),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    requests,
  };
}

async function run(options: Options): Promise<void> {
  log(`machine: ${machineFacts()}`);
  const database: TestDatabase = await createTestDatabase();
  cleanups.add("the database", () => database.drop());
  let started = Date.now();
  await seedDatabase({ kind: "postgres", url: database.url, poolSize: 4 }, { users: options.users, seed: options.seed, sandboxClientSecret: SANDBOX_CLIENT_SECRET });
  const widened = await grantEveryReadScope(database.url, DEMO_CLIENT_ID);
  // Fresh tables have no planner statistics until autovacuum gets to them; a live database has them.
  const sql = new pg.Client({ connectionString: database.url });
  await sql.connect();
  await sql.query("ANALYZE").finally(() => sql.end());
  log(`seeded ${options.users} users in ${((Date.now() - started) / 1000).toFixed(1)} s; widened ${widened} consents of ${DEMO_CLIENT_ID} to every read scope`);

  // One server child at a time, restarted for every run: two at once would share PostgreSQL's
  // 100 connections (six pools each) and the machine's two cores. They share the key-encryption
  // key, so the token minted once verifies in every child.
  const keyEncryptionKey = randomBytes(32).toString("base64url");
  const startSide = async (side: Side): Promise<ServerChild> => {
    const started = Date.now();
    const child = await startServerChild({
      databaseUrl: database.url,
      sandboxClientSecret: SANDBOX_CLIENT_SECRET,
      env: { ...BENCH_QUOTAS, UNSAFE_DISABLE_SCOPE_ENFORCEMENT: side === "enforced" ? "false" : "true", KEY_ENCRYPTION_KEY: keyEncryptionKey },
    });
    log(`${side} server child ${child.pid} ready in ${Date.now() - started} ms (UNSAFE_DISABLE_SCOPE_ENFORCEMENT=${side === "unenforced"})`);
    return child;
  };
  let pages: (string | null)[] | undefined;
  const scenarioOf = async (side: Side, child: ServerChild, headers: Record<string, string>): Promise<Scenario> => {
    if (options.load === "distinct") pages ??= await pageCursors(child.gatewayUrl, headers);
    const name = options.load === "distinct" ? "distinct-pages" : "five-subgraphs";
    const five = buildScenarios(child.gatewayUrl, child.subgraphUrls.wellness, headers, undefined, pages).find((scenario) => scenario.name === name)!;
    return { ...five, description: `${five.description}, enforcement ${side === "enforced" ? "on" : "off"}` };
  };

  let headers: Record<string, string> | undefined;
  let reference: string | undefined;
  const runs: Record<Side, Measurement[]> = { enforced: [], unenforced: [] };
  for (let round = 0; round < options.rounds; round++) {
    const order: readonly Side[] = round % 2 === 0 ? SIDES : [...SIDES].reverse();
    for (const side of order) {
      const child = await startSide(side);
      const stop = () => child.stop();
      cleanups.add("the server child", stop);
      try {
        headers ??= { authorization: `Bearer ${await mintClientToken(database.url, child.config)}` };
        const scenario = await scenarioOf(side, child, headers);
        const checked = await preflight(scenario);
        reference ??= checked.body;
        assert.equal(checked.body, reference, "with every scope consented, enforcement must not change the answer");
        if (runs.enforced.length + runs.unenforced.length === 0) {
          log(`checked: ${Buffer.byteLength(reference)} bytes, ${checked.deterministic ? "deterministic: every body under load is compared exactly" : "varies"}; both sides must answer exactly this`);
          const idle = await sampleMachine(3_000);
          if (idle) log(`before the load the machine was using ${idle.busyCores.toFixed(2)} cores`);
        }
        const measurement = await measure(scenario, checked, { connections: options.connections, duration: options.duration, warmup: options.warmup, serverPids: { server: child.pid } });
        runs[side].push(measurement);
        const d = measurement.detail;
        log(
          `round ${round + 1} ${side}: ${measurement.requestsPerSecond.toFixed(0)} req/s, p50 ${measurement.latency.p50} ms, p99 ${measurement.latency.p99} ms, ` +
            `errors ${measurement.errors} (timeouts ${d.timeouts}, connection ${d.connectionErrors}, non-2xx ${d.non2xx}, body mismatches ${d.mismatches})`,
        );
        if (measurement.errors > 0) {
          const now = await preflight(scenario).catch((error: unknown) => ({ body: String(error) }));
          log(`  ${side}: some answers under load differed from the checked one; one asked now ${now.body === reference ? "is identical again" : `reads ${now.body.slice(0, 300)}`}; server stderr: ${child.stderrTail().slice(-600) || "(empty)"}`);
        }
      } finally {
        cleanups.remove(stop);
        await stop();
      }
    }
  }

  const on = combine(runs.enforced);
  const off = combine(runs.unenforced);
  const fixed = (value: number | undefined, digits = 0) => (value === undefined ? "n/a" : value.toFixed(digits));
  const slower = (enforced: number, unenforced: number) => `${fixed((100 * (enforced - unenforced)) / unenforced, 1)} %`;
  console.log("");
  console.log(`Machine: ${machineFacts()}`);
  console.log(`Code: ${codeVersion()}`);
  console.log(
    `Load: five-subgraph query (20 users, partner token), ${options.load === "distinct" ? "distinct pages (a rotating cursor)" : "identical pages"}, ${options.connections} connections, ${options.rounds} rounds x ${options.duration} s per side after ${options.warmup} s warm-up; ${options.users} seeded users; server, PostgreSQL and load generator on one machine`,
  );
  console.log("");
  console.log("| | enforcement on | enforcement off | enforcement costs |");
  console.log("|---|---:|---:|---:|");
  console.log(`| req/s | ${fixed(on.requestsPerSecond)} | ${fixed(off.requestsPerSecond)} | ${fixed((100 * (off.requestsPerSecond - on.requestsPerSecond)) / off.requestsPerSecond, 1)} % fewer |`);
  console.log(`| p50 ms | ${fixed(on.p50)} | ${fixed(off.p50)} | ${slower(on.p50, off.p50)} |`);
  console.log(`| p99 ms | ${fixed(on.p99)} | ${fixed(off.p99)} | ${slower(on.p99, off.p99)} |`);
  console.log(`| server CPU ms/request | ${fixed(on.cpuMsPerRequest, 1)} | ${fixed(off.cpuMsPerRequest, 1)} | ${on.cpuMsPerRequest && off.cpuMsPerRequest ? slower(on.cpuMsPerRequest, off.cpuMsPerRequest) : "n/a"} |`);
  console.log(`| PostgreSQL CPU ms/request | ${fixed(on.postgresMsPerRequest, 1)} | ${fixed(off.postgresMsPerRequest, 1)} | ${on.postgresMsPerRequest && off.postgresMsPerRequest ? slower(on.postgresMsPerRequest, off.postgresMsPerRequest) : "n/a"} |`);
  console.log(`| requests (errors) | ${on.requests} (${on.errors}) | ${off.requests} (${off.errors}) | |`);
  const overhead = (100 * (off.requestsPerSecond - on.requestsPerSecond)) / off.requestsPerSecond;
  // Each round measures both sides back to back: its own cost is the steadier figure when the machine drifts between rounds.
  const perRound = runs.enforced.flatMap((enforced, round) => {
    const unenforced = runs.unenforced[round];
    return unenforced ? [(100 * (unenforced.requestsPerSecond - enforced.requestsPerSecond)) / unenforced.requestsPerSecond] : [];
  });
  console.log("");
  console.log(`Throughput overhead of enforcement: ${overhead.toFixed(1)} % (target: under 10 %) ${overhead < 10 ? "- met" : "- NOT met"}`);
  console.log(`Per round: ${perRound.map((cost) => `${cost.toFixed(1)} %`).join(", ")}; median ${percentile([...perRound].sort((a, b) => a - b), 50).toFixed(1)} %`);
}

await runBenchmarkCli({ usage: USAGE, parse: parseOptions, run, cleanups });
