// The TypeScript SDK (sdk/typescript) against the real gateway, used as the README uses it:
// consent, a typed GraphQL query, typed REST, refresh with rotation, DPoP-bound tokens, the
// alert stream, and webhook verification against the Standard Webhooks vector. Plus the point
// of the generated types: a wrong field does not compile.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { generateKeyPair } from "jose";
import ts from "typescript";
import WebSocket from "ws";
import { Kamina, KaminaError, PersonGraphDocument, RecentExpensesDocument, verifyWebhook, type Alert, type Tokens } from "../sdk/typescript/index.ts";
import { signatureHeader } from "../realtime/webhooks/webhook-signature.ts";
import type { PrismaClient } from "../platform/database/database.ts";
import { startTestKamina } from "./support/kamina.ts";
import { PERSON_A, createRealtimeDatabase } from "./support/realtime.ts";
import type { TestDatabase } from "../testkit/postgres.ts";
import { CONSENT_TEXT_VERSION, DEMO_CLIENT, TEST_SANDBOX_SECRET } from "../testkit/tokens.ts";

type Running = Awaited<ReturnType<typeof startTestKamina>>;

const SCOPES = ["wellness.read", "debts.read", "expenses.read", "alerts.read"];

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("the TypeScript SDK against a running gateway", () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let running: Running;

  const partner = (extra: Partial<ConstructorParameters<typeof Kamina>[0]> = {}) =>
    new Kamina({ baseUrl: running.gateway!.origin, clientId: DEMO_CLIENT, clientSecret: TEST_SANDBOX_SECRET, ...extra });
  const ask = (kamina: Kamina) => kamina.consent({ userExternalId: PERSON_A, scopes: SCOPES, country: "MX", consentTextVersion: CONSENT_TEXT_VERSION });

  before(async () => {
    ({ database, prisma } = await createRealtimeDatabase());
    running = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 4 }, { RELAY_POLL_MS: "100", WEBHOOK_POLL_MS: "100" });
  });

  after(async () => {
    await running?.stop();
    await prisma?.$disconnect();
    await database?.drop();
  });

  test("consent, a typed query, typed REST, refresh with rotation, and alerts through the resuming helper", async () => {
    const stored: Tokens[] = [];
    const kamina = partner({ onTokens: (tokens) => void stored.push(tokens) });

    // The README's ten lines.
    const consent = await ask(kamina);
    assert.equal(consent.status, "authorised");
    assert.equal(kamina.tokens?.tokenType, "Bearer");
    const { me } = await kamina.query(PersonGraphDocument);
    assert.equal(me?.id, PERSON_A);
    assert.deepEqual(me?.wellness, { score: 64, band: "AMBER" });
    assert.deepEqual(me?.debts?.map(({ issuer, balance }) => ({ issuer, balance })), [{ issuer: "Banco Pichincha", balance: "1240.55" }]);

    const page = await kamina.query(RecentExpensesDocument, { first: 5 });
    assert.equal(page.me?.expenses?.totalCount, 0);

    const debts = await kamina.rest("get", "/v1/debts");
    assert.deepEqual(debts.items.map(({ issuer, balance, status }) => ({ issuer, balance, status })), [{ issuer: "Banco Pichincha", balance: 1240.55, status: "current" }]);
    const late = await kamina.rest("get", "/v1/debts", { query: { status: "late" } });
    assert.deepEqual(late.items, []);
    const diagnosis = await kamina.rest("get", "/v1/diagnosis/latest");
    assert.equal(diagnosis.score, 64);
    await assert.rejects(kamina.rest("get", "/v1/debts", { query: { status: "nonsense" as "late" } }), (error: unknown) => error instanceof KaminaError && error.status === 400);

    // Rotation: two refreshes at once share one request; only the newest refresh token is kept.
    const first = kamina.tokens!;
    const [a, b] = await Promise.all([kamina.refresh(), kamina.refresh()]);
    assert.equal(a, b, "one refresh for both callers");
    assert.notEqual(a.refreshToken, first.refreshToken);
    assert.notEqual(a.accessToken, first.accessToken);
    assert.equal(a.consentId, consent.consentId);
    assert.equal(kamina.tokens?.refreshToken, a.refreshToken);
    assert.deepEqual(stored.map((tokens) => tokens.refreshToken), [first.refreshToken, a.refreshToken], "onTokens saw each rotation once");
    const again = await kamina.refresh();
    assert.notEqual(again.refreshToken, a.refreshToken);
    assert.equal((await kamina.query(PersonGraphDocument)).me?.id, PERSON_A, "the rotated access token reads the graph");

    // An alert raised with the sandbox trigger arrives over the subscription.
    const received: Alert[] = [];
    const base = running.gateway!.subscriptions.hub.size.subscribers;
    const stream = kamina.alerts({ webSocketImpl: WebSocket, retry: { baseMs: 50, maxMs: 300 }, onAlert: (alert) => void received.push(alert) });
    try {
      await until(() => running.gateway!.subscriptions.hub.size.subscribers === base + 1, "the subscription");
      const raised = await kamina.rest("post", "/v1/sandbox/alerts", { body: { type: "income_drop" } });
      await until(() => received.length === 1, "the sandbox alert");
      assert.equal(received[0]!.user.id, PERSON_A);
      assert.equal(received[0]!.id, (raised as { id?: string; alert?: { id: string } }).alert?.id ?? (raised as { id?: string }).id);
      assert.equal(typeof stream.cursor, "string");
    } finally {
      assert.equal((await stream.stop()).reason, "stopped");
    }

    // A spent refresh token is refused (and, by the gateway's rule, revokes the family).
    const replayer = partner({ tokens: first });
    await assert.rejects(replayer.refresh(), (error: unknown) => error instanceof KaminaError && error.status >= 400 && error.status < 500);
  });

  test("with a DPoP key the tokens are bound, and every call and refresh carries a proof", async () => {
    const kamina = partner({ dpopKey: await generateKeyPair("ES256") });
    await ask(kamina);
    assert.equal(kamina.tokens?.tokenType, "DPoP");
    assert.equal((await kamina.query(PersonGraphDocument)).me?.id, PERSON_A);
    assert.equal((await kamina.rest("get", "/v1/debts")).items.length, 1);
    await kamina.refresh();
    assert.equal(kamina.tokens?.tokenType, "DPoP");
    assert.equal((await kamina.rest("get", "/v1/diagnosis/latest")).score, 64);

    // The same bound token without the key is refused.
    const thief = new Kamina({ baseUrl: running.gateway!.origin, tokens: kamina.tokens! });
    await assert.rejects(thief.rest("get", "/v1/debts"), (error: unknown) => error instanceof KaminaError && error.status === 401);
  });
});

test("webhook verification: the Standard Webhooks vector, replay tolerance, tampering, and the server's signatures", async () => {
  const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const body = '{"test": 2432232314}';
  const headers = { "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330", "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" };
  assert.deepEqual(await verifyWebhook(secret, headers, body, { nowSeconds: 1614265330 }), { ok: true });
  assert.deepEqual(await verifyWebhook(secret, new Headers(headers), body, { nowSeconds: 1614265330 }), { ok: true });
  assert.equal((await verifyWebhook(secret, headers, body, { nowSeconds: 1614265330 + 600 })).ok, false, "a replay ten minutes later");
  assert.equal((await verifyWebhook(secret, headers, body.replace("4", "5"), { nowSeconds: 1614265330 })).ok, false, "a changed body");
  assert.equal((await verifyWebhook("whsec_" + Buffer.from("another key").toString("base64"), headers, body, { nowSeconds: 1614265330 })).ok, false);
  assert.equal((await verifyWebhook(secret, { ...headers, "webhook-signature": undefined }, body)).ok, false);
  // During a rotation the server signs with both secrets; either verifies.
  const old = "whsec_" + Buffer.from("the old secret key").toString("base64");
  const now = Math.floor(Date.now() / 1000);
  const rotating = { "webhook-id": "msg_1", "webhook-timestamp": String(now), "webhook-signature": signatureHeader([old, secret], "msg_1", now, "{}") };
  assert.deepEqual(await verifyWebhook(old, rotating, "{}"), { ok: true });
  assert.deepEqual(await verifyWebhook(secret, rotating, "{}"), { ok: true });
});

/** The TypeScript block of the README's "A TypeScript SDK" section. */
function readmeExample(): string {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("### A TypeScript SDK"));
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block?.includes("PersonGraphDocument")) throw new Error("README.md: no TypeScript example in the SDK's section");
  return block;
}

test("a wrong field in a typed query's result, or a wrong REST path or parameter, does not compile; the README's example does", () => {
  const sdk = fileURLToPath(new URL("../sdk/typescript/index.ts", import.meta.url));
  const folder = mkdtempSync(join(tmpdir(), "kamina-sdk-types-"));
  try {
    const header = `import { Kamina, PersonGraphDocument, RecentExpensesDocument } from ${JSON.stringify(sdk)};\nconst kamina = new Kamina({ baseUrl: "http://localhost:4000" });\n`;
    const files = {
      right: `${header}export const score: number | undefined = (await kamina.query(PersonGraphDocument)).me?.wellness?.score;\nexport const debts = (await kamina.rest("get", "/v1/debts", { query: { status: "late" } })).items[0]?.apr;\nexport const page = await kamina.query(RecentExpensesDocument, { first: 5 });\n`,
      field: `${header}export const score = (await kamina.query(PersonGraphDocument)).me?.wellness?.scoer;\n`,
      path: `${header}export const debts = await kamina.rest("get", "/v1/debtz", { query: {} });\n`,
      parameter: `${header}export const debts = await kamina.rest("get", "/v1/debts", { query: { statuz: "late" } });\n`,
      variable: `${header}export const page = await kamina.query(RecentExpensesDocument, { frist: 5 });\n`,
      readme: readmeExample().replace("./kamina-graph/sdk/typescript/index.ts", sdk),
    };
    const paths = Object.fromEntries(Object.keys(files).map((name) => [name, join(folder, `${name}.ts`)]));
    writeFileSync(join(folder, "package.json"), JSON.stringify({ type: "module" }));
    for (const [name, text] of Object.entries(files)) writeFileSync(paths[name]!, text);
    const config = ts.readConfigFile(fileURLToPath(new URL("../tsconfig.json", import.meta.url)), ts.sys.readFile).config as { compilerOptions: object };
    const { options } = ts.convertCompilerOptionsFromJson(config.compilerOptions, fileURLToPath(new URL("..", import.meta.url)));
    const program = ts.createProgram(Object.values(paths), { ...options, noEmit: true, noUnusedLocals: false, moduleDetection: ts.ModuleDetectionKind.Force });
    const errors = (name: string) =>
      program
        .getSemanticDiagnostics(program.getSourceFile(paths[name]!))
        .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"))
        .join("\n");
    assert.equal(errors("right"), "", "the right file compiles");
    assert.equal(errors("readme"), "", "the README's ten lines compile");
    assert.match(errors("field"), /scoer/);
    assert.match(errors("path"), /\/v1\/debtz/);
    assert.match(errors("parameter"), /statuz/);
    assert.match(errors("variable"), /frist/);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
