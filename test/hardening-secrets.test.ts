// Public default secrets are for a laptop (issue 16, cause 2): with them anyone can forge the
// gateway's token-check seal or authorise a consent as the person. Outside local use the process
// refuses to start while one is in force, or while an explicit one is plainly weak, with one
// message naming every offending variable.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ConfigError, loadConfig } from "../platform/config/config.ts";
import { isLoopbackHost, LOCAL_KEY_ENCRYPTION_KEY } from "../platform/config/secret-policy.ts";

const REPO_ROOT = fileURLToPath(new URL("../", import.meta.url));
const SECRETS = ["KEY_ENCRYPTION_KEY", "APP_API_KEY", "SANDBOX_CLIENT_SECRET", "LIVE_CLIENT_SECRET"] as const;
const strong = () => ({
  KEY_ENCRYPTION_KEY: randomBytes(32).toString("base64url"),
  APP_API_KEY: randomBytes(32).toString("base64url"),
  SANDBOX_CLIENT_SECRET: randomBytes(24).toString("hex"),
  LIVE_CLIENT_SECRET: randomBytes(24).toString("hex"),
});

/** The refusal's message, or a failure when loadConfig accepts `env`. */
function refusal(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.message;
  }
  assert.fail(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe("secrets with public defaults", () => {
  test("on loopback, not in production, the defaults work and are named", () => {
    for (const host of ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "localhost", "LOCALHOST"]) {
      const config = loadConfig({ HOST: host });
      assert.equal(config.secrets.localUse, true, host);
      assert.deepEqual(config.secrets.publicDefaults.sort(), [...SECRETS].sort(), host);
    }
    assert.equal(loadConfig({}).secrets.localUse, true, "the default HOST is loopback");
    assert.equal(loadConfig({ PUBLIC_URL: "http://localhost:4000" }).secrets.localUse, true);
  });

  test("a non-loopback HOST, NODE_ENV=production or a public PUBLIC_URL refuses them, naming every one and how to set it", () => {
    for (const env of [
      { HOST: "0.0.0.0" },
      { HOST: "::" },
      { HOST: "10.0.0.7" },
      { HOST: "::ffff:10.0.0.7" },
      { HOST: "api.bank.example" },
      { HOST: "localhost.bank.example" },
      { HOST: "127.0.0.1.nip.io" },
      { NODE_ENV: "production" },
      { PUBLIC_URL: "https://api.bank.example" },
    ]) {
      const message = refusal(env);
      const what = JSON.stringify(env);
      assert.match(message, /refuses to start/, what);
      for (const variable of SECRETS) assert.match(message, new RegExp(`${variable} is left at its public default`), `${what}: ${variable}`);
      assert.match(message, /randomBytes\(32\)\.toString\('base64url'\)/, `${what}: says how to make one`);
      assert.doesNotMatch(message, /\n\s+at /, "no stack trace");
    }
    assert.match(refusal({ HOST: "0.0.0.0" }), /HOST=0\.0\.0\.0 is not a loopback address/);
    assert.match(refusal({ NODE_ENV: "production" }), /NODE_ENV=production/);
  });

  test("only the variables still at their defaults are named", () => {
    const { KEY_ENCRYPTION_KEY, APP_API_KEY } = strong();
    const message = refusal({ HOST: "0.0.0.0", KEY_ENCRYPTION_KEY, APP_API_KEY });
    assert.match(message, /SANDBOX_CLIENT_SECRET/);
    assert.doesNotMatch(message, /KEY_ENCRYPTION_KEY|APP_API_KEY/);
  });

  test("setting a variable to its public default value is the default", () => {
    const message = refusal({
      ...strong(),
      NODE_ENV: "production",
      APP_API_KEY: "kamina-app-local-key",
      SANDBOX_CLIENT_SECRET: "kamina-sandbox-secret",
      LIVE_CLIENT_SECRET: "kamina-live-secret",
      KEY_ENCRYPTION_KEY: LOCAL_KEY_ENCRYPTION_KEY.toString("base64url"),
    });
    for (const variable of SECRETS) assert.match(message, new RegExp(`${variable} is set to its public default`), variable);
  });

  test("explicit, random secrets start anywhere, and none is reported as a default", () => {
    for (const env of [{ HOST: "0.0.0.0" }, { NODE_ENV: "production" }, { HOST: "::", NODE_ENV: "production", PUBLIC_URL: "https://api.bank.example" }]) {
      const secrets = strong();
      const config = loadConfig({ ...env, ...secrets });
      assert.equal(config.secrets.localUse, false);
      assert.deepEqual(config.secrets.publicDefaults, []);
      assert.equal(config.appApiKey, secrets.APP_API_KEY);
      assert.equal(config.sandboxClientSecret, secrets.SANDBOX_CLIENT_SECRET);
      assert.equal(config.liveClientSecret, secrets.LIVE_CLIENT_SECRET);
      assert.deepEqual(Buffer.from(config.tokens.keyEncryptionKey), Buffer.from(secrets.KEY_ENCRYPTION_KEY, "base64url"));
      assert.equal(config.tokens.usingLocalKeyEncryptionKey, false);
    }
  });

  test("outside local use, plainly weak explicit values are refused too; on a laptop they are allowed", () => {
    const cases: [string, string, RegExp][] = [
      ["KEY_ENCRYPTION_KEY", "A".repeat(43), /KEY_ENCRYPTION_KEY has only 1 distinct bytes of 32/],
      ["KEY_ENCRYPTION_KEY", Buffer.alloc(32, "0123").toString("base64url"), /KEY_ENCRYPTION_KEY has only 4 distinct bytes/],
      ["APP_API_KEY", "a-sixteen-char-k", /APP_API_KEY is 16 characters; at least 32/],
      ["APP_API_KEY", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /APP_API_KEY has only 1 distinct characters/],
      ["APP_API_KEY", "Secret-12".repeat(4), /APP_API_KEY is one short piece repeated/],
      ["SANDBOX_CLIENT_SECRET", "my-sandbox-secret", /SANDBOX_CLIENT_SECRET is 17 characters/],
    ];
    for (const [variable, value, expected] of cases) {
      const env = { ...strong(), [variable]: value };
      assert.match(refusal({ ...env, NODE_ENV: "production" }), expected, `${variable}=${value}`);
      assert.doesNotThrow(() => loadConfig({ ...env, HOST: "127.0.0.1" }), `${variable}=${value} on a laptop`);
    }
    // The schema's own format rules hold everywhere.
    assert.match(refusal({ KEY_ENCRYPTION_KEY: "too-short" }), /KEY_ENCRYPTION_KEY: must be 32 bytes/);
  });

  test("loopback is 127.0.0.0/8, ::1 and localhost, in any spelling, and nothing else", () => {
    for (const host of ["127.0.0.1", "127.255.255.254", "::1", "[::1]", "0000:0000:0000:0000:0000:0000:0000:0001", "::ffff:127.0.0.1", "localhost", "localhost."]) {
      assert.equal(isLoopbackHost(host), true, host);
    }
    for (const host of ["0.0.0.0", "::", "128.0.0.1", "10.0.0.1", "::ffff:10.0.0.1", "::2", "example.com", "localhost.example.com", "127.0.0.1.nip.io", ""]) {
      assert.equal(isLoopbackHost(host), false, host);
    }
  });

  test("`npm start` on 0.0.0.0 with the defaults exits 1 at once, with the message and no stack trace", async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, HOST: "0.0.0.0", LOG_LEVEL: "silent" };
    for (const variable of [...SECRETS, "NODE_ENV", "PUBLIC_URL", "DATABASE_URL"]) delete env[variable];
    const started = Date.now();
    const outcome = await promisify(execFile)(process.execPath, ["--import", "tsx", "runtime/start.ts"], { cwd: REPO_ROOT, env, timeout: 60_000 }).then(
      () => assert.fail("the server started"),
      (error: { code?: number; stderr?: string; stdout?: string }) => error,
    );
    assert.equal(outcome.code, 1, outcome.stderr);
    const stderr = outcome.stderr ?? "";
    assert.match(stderr, /^kamina-graph refuses to start: this is not local use \(HOST=0\.0\.0\.0 is not a loopback address\)/);
    for (const variable of SECRETS) assert.match(stderr, new RegExp(`- ${variable} is left at its public default`));
    assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
    assert.equal(outcome.stdout ?? "", "", "nothing started");
    assert.ok(Date.now() - started < 30_000);
  });
});
