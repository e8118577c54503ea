// `npm test` without PostgreSQL: one line that says so, before anything else runs, instead of a
// wall of cancelled tests (scripts/test-preflight.ts).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { test } from "node:test";

const ROOT = new URL("..", import.meta.url);

function preflight(adminUrl?: string) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (adminUrl === undefined) delete env.TEST_DATABASE_ADMIN_URL;
  else env.TEST_DATABASE_ADMIN_URL = adminUrl;
  return spawnSync(process.execPath, ["--import", "tsx", "scripts/test-preflight.ts"], { cwd: ROOT, env, encoding: "utf8", timeout: 30_000 });
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test("with PostgreSQL unreachable, the preflight prints one line naming the server and the README, and fails", async () => {
  const port = await closedPort();
  const run = preflight(`postgresql://postgres:s3cret@127.0.0.1:${port}/postgres`);
  assert.equal(run.status, 1, run.stderr);
  assert.equal(run.stdout, "");
  const lines = run.stderr.trim().split("\n");
  assert.equal(lines.length, 1, run.stderr);
  assert.match(lines[0]!, new RegExp(`^PostgreSQL not reachable at postgresql://postgres:\\*\\*\\*@127\\.0\\.0\\.1:${port}/postgres \\(ECONNREFUSED\\); see README`));
  assert.doesNotMatch(run.stderr, /s3cret/, "the password is not printed");
});

test("with the test server up, the preflight is silent and passes", () => {
  const run = preflight();
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout + run.stderr, "");
});
