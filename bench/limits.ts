// `npm run bench:limits -- [--requests N] [--attackers A] [--users N]`
//
// What refusing an operation over a limit costs, and whether ordinary requests are still
// served meanwhile (issue 16). Seeds a fresh PostgreSQL database, runs kamina-graph in a child
// process with its default limits, and sends, one at a time, N of each: the 20,000-alias
// operation (`a0: me { id } a1: me { id } ...`, 300 KB, refused at parse by the token limit), the
// 1.2 KB fragment fan-out (eight fragments each spreading the next four times, refused at
// validation by the selection limit) and an ordinary read (a page of 10 consented people with
// fields from three subgraphs, the demo client's consents widened to every read scope). Then the ordinary read
// again while A clients send the 20,000-alias operation back to back, with /healthz. Prints
// latency p50 / p99 per scenario. Figures, not assertions.
import { parseArgs } from "node:util";
import { seedDatabase } from "../prisma/seed/index.ts";
import { createTestDatabase } from "../testkit/postgres.ts";
import { startServerChild } from "../testkit/server-child.ts";
import { DEMO_CLIENT_ID, mintClientToken } from "./support/auth.ts";
import { grantEveryReadScope } from "./support/consents.ts";
import { Cleanups, runBenchmarkCli } from "./support/lifecycle.ts";
import { codeVersion, machineFacts } from "./support/report.ts";

const log = (message: string) => console.log(`[bench] ${message}`);
const SANDBOX_CLIENT_SECRET = "bench-sandbox-secret";
const cleanups = new Cleanups();

interface Options {
  requests: number;
  attackers: number;
  users: number;
}

const USAGE = `Usage: npm run bench:limits -- [options]
  --requests N   requests per scenario (default 200)
  --attackers A  clients sending the 20,000-alias operation during the last scenario (default 4)
  --users N      users to seed (default 200)`;

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({ args: argv, options: { requests: { type: "string" }, attackers: { type: "string" }, users: { type: "string" } }, strict: true });
  const integer = (name: keyof Options, fallback: number, min: number, max: number) => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) throw new Error(`--${name} takes an integer from ${min} to ${max}, not "${String(raw)}"`);
    return value;
  };
  return { requests: integer("requests", 200, 10, 100_000), attackers: integer("attackers", 4, 1, 64), users: integer("users", 200, 10, 100_000) };
}

const repeat = (count: number, item: (index: number) => string) => Array.from({ length: count }, (_, index) => item(index)).join(" ");

const ALIASES = `query { ${repeat(20_000, (index) => `a${index}: me { id }`)} }`;
const FAN_OUT = [
  "query { me { ...F0 } }",
  ...Array.from({ length: 7 }, (_, index) => `fragment F${index} on User { id ${repeat(4, () => `...F${index + 1}`)} }`),
  "fragment F7 on User { id country }",
].join("\n");
const ORDINARY = `{ users(first: 10) { edges { node { id country wellness { score band } debts { id balance } } } } }`;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Request bodies, serialised once: the client's own JSON work stays out of the figures. */
const bodies = new Map<string, string>();

async function post(url: string, headers: Record<string, string>, query: string): Promise<{ status: number; ms: number; code: unknown }> {
  let body = bodies.get(query);
  if (body === undefined) bodies.set(query, (body = JSON.stringify({ query })));
  const started = performance.now();
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  const answer = (await response.json()) as { data?: Record<string, unknown> | null; errors?: { extensions?: { code?: unknown; limit?: unknown } }[] };
  const ms = performance.now() - started;
  const error = answer.errors?.[0]?.extensions;
  if (error) return { status: response.status, ms, code: `${String(error.code)}${error.limit ? ` (${String(error.limit)})` : ""}` };
  return { status: response.status, ms, code: answer.data && Object.values(answer.data).every((value) => value !== null) ? "data" : "null data" };
}

interface Row {
  scenario: string;
  answer: string;
  requests: number;
  p50: number;
  p99: number;
  max: number;
}

function summarise(scenario: string, results: { status: number; ms: number; code: unknown }[]): Row {
  const sorted = results.map((result) => result.ms).sort((a, b) => a - b);
  const answers = [...new Set(results.map((result) => `${result.status} ${String(result.code)}`))].join(", ");
  return { scenario, answer: answers, requests: results.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1)! };
}

async function run(options: Options): Promise<void> {
  log(`machine: ${machineFacts()}`);
  log(`code: ${codeVersion()}`);
  const database = await createTestDatabase();
  cleanups.add("the database", () => database.drop());
  await seedDatabase({ kind: "postgres", url: database.url, poolSize: 4 }, { users: options.users, seed: 42, sandboxClientSecret: SANDBOX_CLIENT_SECRET });
  await grantEveryReadScope(database.url, DEMO_CLIENT_ID);
  const child = await startServerChild({ databaseUrl: database.url, sandboxClientSecret: SANDBOX_CLIENT_SECRET });
  cleanups.add("the server child", () => child.stop());
  const headers = { authorization: `Bearer ${await mintClientToken(database.url, child.config)}` };
  const url = child.gatewayUrl;
  const origin = new URL(url).origin;
  log(`server child ${child.pid} at ${url}; limits ${JSON.stringify(child.config.limits.graphql)}`);

  const sequential = async (query: string) => {
    const results = [];
    for (let index = 0; index < options.requests; index++) results.push(await post(url, headers, query));
    return results;
  };
  // Warm-up: the first requests compile code paths and fill the parse cache of the ordinary query.
  for (let index = 0; index < 20; index++) await Promise.all([post(url, headers, ORDINARY), post(url, headers, ALIASES), post(url, headers, FAN_OUT)]);

  const rows: Row[] = [
    summarise("20,000 aliases (300 KB)", await sequential(ALIASES)),
    summarise("fragment fan-out (1.2 KB, 4^7 spreads)", await sequential(FAN_OUT)),
    summarise("ordinary read, alone", await sequential(ORDINARY)),
  ];

  let attacking = true;
  const attacks: { status: number; ms: number; code: unknown }[] = [];
  const attackers = Array.from({ length: options.attackers }, async () => {
    while (attacking) attacks.push(await post(url, headers, ALIASES));
  });
  const health: { status: number; ms: number; code: unknown }[] = [];
  const ordinary: { status: number; ms: number; code: unknown }[] = [];
  for (let index = 0; index < options.requests; index++) {
    ordinary.push(await post(url, headers, ORDINARY));
    const started = performance.now();
    const response = await fetch(`${origin}/healthz`);
    await response.arrayBuffer();
    health.push({ status: response.status, ms: performance.now() - started, code: "ok" });
  }
  attacking = false;
  await Promise.all(attackers);
  rows.push(
    summarise(`ordinary read, ${options.attackers} clients sending 20,000 aliases`, ordinary),
    summarise(`/healthz, same time`, health),
    summarise(`20,000 aliases, ${options.attackers} at once`, attacks),
  );

  const fixed = (value: number) => value.toFixed(1);
  console.log("\n| scenario | answer | requests | p50 ms | p99 ms | max ms |\n|---|---|---:|---:|---:|---:|");
  for (const row of rows) console.log(`| ${row.scenario} | ${row.answer} | ${row.requests} | ${fixed(row.p50)} | ${fixed(row.p99)} | ${fixed(row.max)} |`);
  console.log(`\ncode ${codeVersion()}; ${machineFacts()}; client and server child on the same machine`);
}

await runBenchmarkCli({ usage: USAGE, parse: parseOptions, run, cleanups, budgetMs: () => 15 * 60_000 });
