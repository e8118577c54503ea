import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { postGraphQL } from "./support/kamina.ts";

const ROOT = new URL("..", import.meta.url);
const children: ChildProcess[] = [];
const dataDirs: string[] = [];

after(() => {
  for (const child of children) child.kill("SIGKILL");
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

/** Runs `npm start`'s entry point as a fresh machine would: no DATABASE_URL, its own data dir. */
function startEmbedded(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: "0", SEED_USERS: "25", LOG_LEVEL: "warn" };
  delete env.DATABASE_URL;
  for (const name of ["WELLNESS", "DEBTS", "EXPENSES", "COACH", "ALERTS"]) env[`SUBGRAPH_${name}_PORT`] = "0";
  const child = spawn(process.execPath, ["--import", "tsx", "runtime/start.ts"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`no ready line within 120 s:\n${output}`)), 120_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /GraphQL at (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: match[1] });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`exited with ${code}:\n${output}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

test("with no DATABASE_URL the embedded PostgreSQL migrates, seeds, serves, and keeps its data across restarts", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "kamina-embedded-"));
  dataDirs.push(dataDir);

  const first = await startEmbedded(dataDir);
  const query = `{ users(first: 100) { totalCount } user(id: "USR_42891") { country debts { issuer } expenses(first: 1) { totalCount } } }`;
  const before = await postGraphQL(first.url, query);
  assert.equal(before.body.errors, undefined, JSON.stringify(before.body.errors));
  assert.equal(before.body.data!.users.totalCount, 25);
  assert.equal(before.body.data!.user.country, "MX");
  assert.ok(before.body.data!.user.debts.some((debt: { issuer: string }) => debt.issuer === "Banco Pichincha"));
  await stop(first.child);

  const second = await startEmbedded(dataDir);
  const again = await postGraphQL(second.url, query);
  assert.deepEqual(again.body, before.body, "the second start neither re-seeds nor loses data");
  await stop(second.child);
});
