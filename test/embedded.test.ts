import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { startEmbedded as startServer, stop } from "./support/embedded-server.ts";
import { postGraphQL } from "./support/kamina.ts";
import { rest } from "./support/rest.ts";
import { basic, bearer, BRIEF_CONSENT_REQUEST } from "../testkit/tokens.ts";

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
  assert.ok(before.body.data!.me.debts.some((debt: { issuer: string }) => debt.issuer === "Banco Pichincha"));
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
  await stop(second.child);
});
