import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { startEmbedded as startServer, stop } from "./support/embedded-server.ts";
import { postGraphQL } from "./support/kamina.ts";
import { rest } from "./support/rest.ts";
import { basic, bearer, BRIEF_CONSENT_REQUEST } from "../testkit/tokens.ts";
import { EmbeddedDatabaseInUseError, lockEmbeddedDatabase } from "../platform/database/embedded-lock.ts";

const SANDBOX_SECRET = "embedded-sandbox-secret";
const children: ChildProcess[] = [];
const dataDirs: string[] = [];

after(() => {
  for (const child of children) child.kill("SIGKILL");
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

const startEmbedded = (dataDir: string) => startServer(dataDir, SANDBOX_SECRET, children);

/** The README's first step: the brief's consent request with the sandbox credentials. */
async function askConsent(graphqlUrl: string) {
  const origin = new URL(graphqlUrl).origin;
  return rest(origin, "POST", "/v1/auth/consent", {
    headers: basic("of_lab_demo", SANDBOX_SECRET),
    json: BRIEF_CONSENT_REQUEST,
  });
}

test("with no DATABASE_URL the embedded PostgreSQL migrates, seeds, serves the README's consent flow, and keeps its data across restarts", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "kamina-embedded-"));
  dataDirs.push(dataDir);

  const first = await startEmbedded(dataDir);
  assert.equal((await postGraphQL(first.url, "{ me { id } }")).status, 401, "nothing without a token");

  const consent = await askConsent(first.url);
  assert.equal(consent.status, 200, JSON.stringify(consent.body));
  assert.deepEqual(Object.keys(consent.body).sort(), ["access_token", "consent_id", "expires_in", "refresh_token"]);
  const query = `{ me { id country debts { issuer } expenses(first: 1) { totalCount } } }`;
  const before = await postGraphQL(first.url, query, undefined, bearer(consent.body.access_token));
  assert.equal(before.body.errors, undefined, JSON.stringify(before.body.errors));
  assert.equal(before.body.data!.me.id, "USR_42891");
  assert.equal(before.body.data!.me.country, "MX");
  assert.ok(before.body.data!.me.debts.some((debt: { issuer: string }) => debt.issuer === "BBVA México"));
  assert.ok(before.body.data!.me.expenses.totalCount > 0);
  await stop(first.child);

  // Consents, refresh tokens and signing keys live in the database, not in the process.
  const second = await startEmbedded(dataDir);
  const again = await postGraphQL(second.url, query, undefined, bearer(consent.body.access_token));
  assert.deepEqual(again.body, before.body, "the first start's token still reads the same data: no re-seed, nothing lost");
  const refreshed = await rest(new URL(second.url).origin, "POST", "/v1/auth/token", {
    headers: basic("of_lab_demo", SANDBOX_SECRET),
    form: { grant_type: "refresh_token", refresh_token: consent.body.refresh_token },
  });
  assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
  assert.equal((await postGraphQL(second.url, "{ me { id } }", undefined, bearer(refreshed.body.access_token))).body.data!.me.id, "USR_42891");
  assert.equal((await askConsent(second.url)).status, 200);

  // A second `npm start` on the same data: one clear line, not PGlite's bare `Aborted()`.
  const third = await startFailing(dataDir);
  assert.equal(third.code, 1, third.output);
  assert.match(third.output, new RegExp(`the embedded database at ${dataDir}/pglite is open in another process \\(pid ${second.child.pid}\\): stop it or set DATABASE_URL`));
  assert.doesNotMatch(third.output, /Aborted\(\)|\n\s+at /, "no abort, no stack trace");
  assert.equal((await askConsent(second.url)).status, 200, "the running one is untouched");
  await stop(second.child);
});

test("a lock left by a process that is gone (killed, crashed) is taken over", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "kamina-lock-"));
  dataDirs.push(dataDir);
  const gone = spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" });
  const lock = join(dataDir, "pglite.lock");
  writeFileSync(lock, gone.stdout.trim());
  const release = lockEmbeddedDatabase(lock, join(dataDir, "pglite"));
  assert.equal(readFileSync(lock, "utf8"), String(process.pid));
  assert.throws(() => lockEmbeddedDatabase(lock, join(dataDir, "pglite")), EmbeddedDatabaseInUseError, "a second owner, even in this process");
  release();
  assert.equal(existsSync(lock), false);
});

/** `npm start`'s entry point on `dataDir`, expected to exit: its exit code and everything it printed. */
function startFailing(dataDir: string): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "warn", SANDBOX_CLIENT_SECRET: SANDBOX_SECRET };
  delete env.DATABASE_URL;
  for (const name of ["WELLNESS", "DEBTS", "EXPENSES", "COACH", "ALERTS"]) env[`SUBGRAPH_${name}_PORT`] = "0";
  const child = spawn(process.execPath, ["--import", "tsx", "runtime/start.ts"], { cwd: new URL("..", import.meta.url), env, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, output })));
}
