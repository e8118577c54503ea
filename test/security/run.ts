// `npm run test:security` (issue 16, item 10): every attack of test/security/attacks/*.ts against a
// real stack on a fresh database, each with the one answer it must get. Prints what was tried per
// class, how many were refused as expected, how many GOT THROUGH (must be 0) and how many answered
// 5xx (must be 0); attacks whose feature is not there yet are run and listed apart as pending, and
// holes already reported (`knownHole`) are listed apart too. Exits 1 when anything else got
// through or answered 5xx.
//   npm run test:security                      every attack
//   npm run test:security -- --only webhook-ssrf,csrf  the classes named (or ids beginning with them)
//   npm run test:security -- --verbose         every attack's line, not only the failures
import { readdirSync } from "node:fs";
import { suspendClient } from "../../gateway/auth/client-status.ts";
import { mismatch, resolve, type Attack, type Expectation, type Outcome, type Phase } from "./attack.ts";
import { createSecurityContext, type SecurityContext } from "./context.ts";

const POOL = 6;
const ATTACK_TIMEOUT_MS = 20_000;

type Verdict = "refused" | "through" | "5xx" | "pending-refused" | "pending-through" | "hole";

interface Result {
  attack: Attack;
  expect: Expectation;
  pending: string | undefined;
  verdict: Verdict;
  outcome?: Outcome;
  problem?: string;
  ms: number;
}

async function loadAttacks(): Promise<Attack[]> {
  const folder = new URL("./attacks/", import.meta.url);
  const files = readdirSync(folder).filter((file) => file.endsWith(".ts")).sort();
  const attacks: Attack[] = [];
  for (const file of files) {
    const module = (await import(new URL(file, folder).href)) as { attacks?: Attack[] };
    if (!Array.isArray(module.attacks)) throw new Error(`test/security/attacks/${file} exports no \`attacks\` list`);
    attacks.push(...module.attacks);
  }
  const ids = new Set<string>();
  for (const attack of attacks) {
    if (ids.has(attack.id)) throw new Error(`two attacks are called ${attack.id}`);
    ids.add(attack.id);
  }
  return attacks;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

async function runOne(attack: Attack, ctx: SecurityContext): Promise<Result> {
  const { expect, pending } = resolve(attack, ctx.subgraphsGated);
  const started = performance.now();
  let outcome: Outcome | undefined;
  let problem: string | undefined;
  try {
    outcome = await withTimeout(attack.run(ctx), attack.timeoutMs ?? ATTACK_TIMEOUT_MS);
    problem = mismatch(outcome, expect);
  } catch (error) {
    problem = `the attack failed to run: ${error instanceof Error ? error.message : String(error)}`;
  }
  const ms = performance.now() - started;
  const serverError = outcome !== undefined && outcome.status >= 500 && outcome.status < 600;
  let verdict: Verdict;
  if (pending) verdict = problem || serverError ? "pending-through" : "pending-refused";
  // A known hole someone has closed counts as refused; the line printed says to drop the mark.
  else if (attack.knownHole) verdict = problem || serverError ? "hole" : "refused";
  else if (serverError && expect.status !== outcome!.status) verdict = "5xx";
  else verdict = problem ? "through" : "refused";
  return { attack, expect, pending, verdict, ms, ...(outcome ? { outcome } : {}), ...(problem ? { problem } : {}) };
}

async function pool(attacks: Attack[], ctx: SecurityContext, size: number, onResult: (result: Result) => void): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < attacks.length) {
      const attack = attacks[next++]!;
      onResult(await runOne(attack, ctx));
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, attacks.length) }, worker));
}

function pad(value: string | number, width: number, right = false): string {
  const text = String(value);
  return right ? text.padStart(width) : text.padEnd(width);
}

function summary(results: Result[]): { table: string; failed: boolean } {
  const classes = [...new Set(results.map((result) => result.attack.class))].sort();
  const count = (rows: Result[], ...verdicts: Verdict[]) => rows.filter((row) => verdicts.includes(row.verdict)).length;
  const header = `${pad("class", 24)} ${pad("tried", 6, true)} ${pad("refused as expected", 20, true)} ${pad("GOT THROUGH", 12, true)} ${pad("5xx", 5, true)} ${pad("known hole", 11, true)} ${pad("pending", 8, true)}`;
  const lines = [header, "-".repeat(header.length)];
  const line = (name: string, rows: Result[]) =>
    `${pad(name, 24)} ${pad(rows.length, 6, true)} ${pad(count(rows, "refused"), 20, true)} ${pad(count(rows, "through"), 12, true)} ${pad(count(rows, "5xx"), 5, true)} ${pad(count(rows, "hole"), 11, true)} ${pad(count(rows, "pending-refused", "pending-through"), 8, true)}`;
  for (const name of classes) lines.push(line(name, results.filter((result) => result.attack.class === name)));
  lines.push("-".repeat(header.length), line("total", results));
  // A known hole is listed and counted apart; it does not fail the run (its owner is on it), anything new does.
  const failed = count(results, "through", "5xx") > 0;
  return { table: lines.join("\n"), failed };
}

function describeFailure(result: Result): string {
  const { attack, outcome, expect } = result;
  const body = outcome ? JSON.stringify(outcome.body ?? null).slice(0, 400) : "";
  return [
    `  ${attack.id}: ${attack.description}`,
    `    expected ${expect.status}${expect.code !== undefined ? ` ${expect.code}` : ""}${expect.means ? ` (${expect.means})` : ""}; ${result.problem ?? "as expected"}`,
    ...(outcome ? [`    answer: ${outcome.status} ${outcome.code ?? ""} ${body}${outcome.note ? ` [${outcome.note}]` : ""}`] : []),
    ...(attack.knownHole ? [`    known hole: ${attack.knownHole}`] : []),
    ...(result.pending ? [`    pending: ${result.pending}`] : []),
  ].join("\n");
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const verbose = args.includes("--verbose");
  const onlyAt = args.indexOf("--only");
  const only = onlyAt >= 0 ? (args[onlyAt + 1] ?? "").split(",").filter(Boolean) : [];
  let attacks = await loadAttacks();
  if (only.length) attacks = attacks.filter((attack) => only.some((name) => attack.class === name || attack.id.startsWith(name)));

  const started = performance.now();
  const ctx = await createSecurityContext();
  console.log(
    `security suite: ${attacks.length} attacks against ${ctx.origin} (stack up in ${((performance.now() - started) / 1000).toFixed(1)} s; subgraph ports ${ctx.subgraphsGated ? "serve only the gateway" : "take partner tokens"})`,
  );
  const results: Result[] = [];
  const record = (result: Result) => {
    results.push(result);
    if (result.attack.knownHole && result.verdict === "refused") console.log(`closed hole     ${result.attack.id}: refused as expected now; remove its knownHole mark`);
    if (verbose || !["refused", "pending-refused"].includes(result.verdict)) {
      console.log(`${pad(result.verdict, 15)} ${pad(result.ms.toFixed(0), 6, true)} ms  ${result.attack.id}${result.problem ? `: ${result.problem}` : ""}`);
    }
  };
  const phase = (name: Phase) => attacks.filter((attack) => (attack.phase ?? "main") === name);
  try {
    await pool(phase("main"), ctx, POOL, record);
    // Mid-run, as an operator would: the doomed client is suspended while its tokens are in hand.
    await suspendClient(ctx.prisma, ctx.clients.doomed.id);
    await pool(phase("suspended"), ctx, POOL, record);
    for (const attack of phase("serial")) record(await runOne(attack, ctx));
  } finally {
    await ctx.stop();
  }

  const { table, failed } = summary(results);
  console.log(`\n${table}\n`);
  const pending = results.filter((result) => result.verdict.startsWith("pending"));
  if (pending.length) {
    console.log(`pending (feature not there yet; run, not counted as refused):`);
    const byWhat = new Map<string, number>();
    for (const result of pending) byWhat.set(result.pending!, (byWhat.get(result.pending!) ?? 0) + 1);
    for (const [what, count] of byWhat) console.log(`  ${count} × ${what}`);
  }
  const bad = results.filter((result) => ["through", "5xx", "hole"].includes(result.verdict));
  if (bad.length) {
    console.log(`\nGOT THROUGH, 5xx or known holes still open (${bad.length}):`);
    for (const result of bad) console.log(describeFailure(result));
  }
  const holes = results.filter((result) => result.verdict === "hole").length;
  const verdict = failed ? "FAILED" : holes ? `nothing new got through; ${holes} known hole(s) still open` : "every attack refused as expected";
  console.log(`\n${results.length} attacks in ${((performance.now() - started) / 1000).toFixed(1)} s: ${verdict}`);
  return failed ? 1 : 0;
}

process.exitCode = await main().catch((error: unknown) => {
  console.error(error);
  return 1;
});
