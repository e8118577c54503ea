// Issue 18, item 2: the Python client (sdk/python, standard library only) against the real stack.
// A fresh seeded database, runtime/start.ts in a child process (testkit/server-child.ts), then
// `python3 -m unittest discover -s sdk/python/tests -v` with KAMINA_BASE_URL and the sandbox
// client's credentials in its environment; its exit code must be 0.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { seedDatabase } from "../prisma/seed/index.ts";
import { createTestDatabase, type TestDatabase } from "../testkit/postgres.ts";
import { startServerChild, type ServerChild } from "../testkit/server-child.ts";
import { CONSENT_TEXT_VERSION, DEMO_CLIENT, TEST_SANDBOX_SECRET } from "../testkit/tokens.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const LIVE_CLIENT_SECRET = "python-sdk-live-secret";
const APP_KEY = randomBytes(24).toString("base64url");

function runPython(env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("python3", ["-m", "unittest", "discover", "-s", "sdk/python/tests", "-v"], {
      cwd: ROOT,
      env: { ...env, PYTHONDONTWRITEBYTECODE: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 180_000);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe("the Python client (sdk/python) against the real stack", () => {
  let database: TestDatabase | undefined;
  let server: ServerChild | undefined;

  before(async () => {
    database = await createTestDatabase();
    await seedDatabase({ kind: "postgres", url: database.url, poolSize: 2 }, { users: 10, seed: 18, sandboxClientSecret: TEST_SANDBOX_SECRET, liveClientSecret: LIVE_CLIENT_SECRET });
    server = await startServerChild({
      databaseUrl: database.url,
      sandboxClientSecret: TEST_SANDBOX_SECRET,
      readyTimeoutMs: 90_000,
      env: { APP_API_KEY: APP_KEY, LOG_LEVEL: "error", RELAY_POLL_MS: "100", WEBHOOK_POLL_MS: "100" },
    });
  });

  after(async () => {
    await server?.stop();
    await database?.drop();
  });

  test("python3 -m unittest discover -s sdk/python/tests passes, live tests included", async () => {
    const { code, output } = await runPython({
      ...process.env,
      KAMINA_BASE_URL: new URL(server!.gatewayUrl).origin,
      KAMINA_CLIENT_ID: DEMO_CLIENT,
      KAMINA_CLIENT_SECRET: TEST_SANDBOX_SECRET,
      KAMINA_LIVE_CLIENT_ID: "of_lab_live",
      KAMINA_LIVE_CLIENT_SECRET: LIVE_CLIENT_SECRET,
      KAMINA_APP_KEY: APP_KEY,
      KAMINA_USER_ID: "USR_42891",
      KAMINA_COUNTRY: "MX",
      KAMINA_CONSENT_TEXT_VERSION: CONSENT_TEXT_VERSION,
    });
    assert.equal(code, 0, `python's unittest failed:\n${output}\n--- the server's stderr ---\n${server!.stderrTail()}`);
    assert.doesNotMatch(output, /\.\.\. skipped|skipped=/, `no live test may be skipped when the stack runs:\n${output}`);
    assert.match(output, /^OK$/m, output);
  });
});
