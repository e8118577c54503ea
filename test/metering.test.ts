// Pay-per-call metering (issue 18, item 4): a test run of known calls — GraphQL operations, REST
// data routes, a delivered webhook, an export's rows — and what GET /v1/usage, the invoice CSV and
// the plan quotas answer about them. Real servers, real HTTP, a real PostgreSQL.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { operationId } from "../gateway/rest/route-openapi.ts";
import { USER_SCOPES } from "../platform/auth/scopes.ts";
import type { PrismaClient } from "../platform/database/database.ts";
import { PRICE_LIST } from "../platform/metering/invoice.ts";
import { hashSecret } from "../platform/secret-hash.ts";
import type { TestDatabase } from "../testkit/postgres.ts";
import { basic, bearer, clientToken, consentToken, CONSENT_TEXT_VERSION, DEMO_CLIENT, sandboxCredentials } from "../testkit/tokens.ts";
import { Receiver } from "../testkit/webhook-receiver.ts";
import { postGraphQL, startTestKamina } from "./support/kamina.ts";
import { createRealtimeDatabase, PERSON_A, PERSON_B, raiseAlert } from "./support/realtime.ts";
import { assertEnvelope, rest } from "./support/rest.ts";

const OTHER = { id: "of_meter_other", secret: "meter-other-secret-123" };
const QUOTAED = { id: "of_meter_quota", secret: "meter-quota-secret-123" };
const READ_WELLNESS = "{ me { wellness { score band } } }";
const DEBTS_PRODUCT = `rest:${operationId("GET", "/v1/debts")}`;
const K = 3;
const M = 2;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("pay-per-call metering", () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  let exportDir: string;
  const receiver = new Receiver();
  const origin = () => kamina.gateway!.origin;
  const today = () => new Date().toISOString().slice(0, 10);
  const yesterday = () => new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  let exportedRows = 0;
  let exportId = "";
  /** The UTC month of the known calls; undefined when they straddle two months (a run across midnight of the 1st). */
  let callsMonth: string | undefined;

  async function until(check: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!(await check())) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** A sandbox partner client of its own, with a consent of `person`'s; answers the consent's token. */
  async function partner(client: { id: string; secret: string }, person = PERSON_B): Promise<string> {
    await prisma.partnerClient.create({
      data: { id: client.id, name: client.id, secretHash: await hashSecret(client.secret), countries: ["MX"], allowedScopes: [...USER_SCOPES], clientScopes: [], sandbox: true },
    });
    const answer = await rest(origin(), "POST", "/v1/auth/consent", {
      headers: basic(client.id, client.secret),
      json: { client_id: client.id, user_external_id: person, scopes: ["wellness.read", "debts.read"], country: "MX", consent_text_version: CONSENT_TEXT_VERSION },
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body.access_token as string;
  }

  /** The client's usage from yesterday to today (a run that crosses midnight still adds up). */
  async function usage(client: { id: string; secret: string }): Promise<Json> {
    const answer = await rest(origin(), "GET", `/v1/usage?from=${yesterday()}&to=${today()}`, { headers: basic(client.id, client.secret) });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body as Json;
  }

  const totals = (answer: Json): Record<string, number> => Object.fromEntries((answer.totals as { product: string; count: number }[]).map(({ product, count }) => [product, count]));
  const demo = () => ({ id: DEMO_CLIENT, secret: kamina.gateway!.auth.config.sandboxClientSecret });

  before(async () => {
    ({ database, prisma } = await createRealtimeDatabase());
    await receiver.start();
    exportDir = await mkdtemp(join(tmpdir(), "kamina-metering-"));
    kamina = await startTestKamina(
      { kind: "postgres", url: database.url, poolSize: 4 },
      { RELAY_POLL_MS: "100", WEBHOOK_POLL_MS: "50", EXPORT_DIR: exportDir, EXPORT_POLL_MS: "50" },
    );
  });

  after(async () => {
    await kamina?.stop();
    await receiver.stop();
    await prisma?.$disconnect();
    await database?.drop();
    if (exportDir) await rm(exportDir, { recursive: true, force: true });
  });

  test("usage for a run of known calls equals the calls made, and the receipts written", async () => {
    const token = await consentToken(kamina, PERSON_A, ["wellness.read", "debts.read", "alerts.read"]);
    const firstMonth = today().slice(0, 7);
    for (let i = 0; i < K; i++) {
      const read = await postGraphQL(kamina.graphqlUrl, READ_WELLNESS, {}, bearer(token));
      assert.equal(read.status, 200, JSON.stringify(read.body));
      assert.equal(read.body.data?.me?.wellness?.score, 64);
    }
    for (let i = 0; i < M; i++) {
      const debts = await rest(origin(), "GET", "/v1/debts", { headers: bearer(token) });
      assert.equal(debts.status, 200, JSON.stringify(debts.body));
      assert.equal(debts.body.items.length, 1);
    }

    const endpoint = await rest(origin(), "POST", "/v1/webhooks", { headers: sandboxCredentials(kamina), json: { url: `${receiver.origin}/metered`, events: ["alert.created"] } });
    assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
    await raiseAlert(prisma, PERSON_A);
    await receiver.waitFor("/metered", 1);
    await until(async () => (await prisma.webhookDelivery.findFirst({ where: { endpointId: endpoint.body.id } }))?.status === "DELIVERED", "the delivery recorded");

    const partnerToken = await clientToken(kamina);
    const created = await rest(origin(), "POST", "/v1/exports/wellness", { headers: bearer(partnerToken) });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    exportId = created.body.id;
    let done: Json = {};
    await until(async () => {
      done = (await rest(origin(), "GET", `/v1/exports/wellness/${exportId}`, { headers: bearer(partnerToken) })).body as Json;
      return done.status === "succeeded" || done.status === "failed";
    }, "the export");
    assert.equal(done.status, "succeeded", JSON.stringify(done));
    exportedRows = done.rows as number;
    assert.ok(exportedRows >= 1);
    callsMonth = today().slice(0, 7) === firstMonth ? firstMonth : undefined;

    const answer = await usage(demo());
    assert.equal(answer.client_id, DEMO_CLIENT);
    assert.deepEqual(totals(answer), { graphql: K, [DEBTS_PRODUCT]: M, webhook: 1, export_row: exportedRows });
    assert.equal(answer.total, K + M + 1 + exportedRows);
    assert.ok((answer.days as Json[]).every((day) => day.day === today() || day.day === yesterday()));

    // The receipt-bearing calls: one receipt each (one consent read under), counted with it.
    const receipts = await prisma.$queryRaw<{ receipts: number; requests: number }[]>`
      SELECT count(*)::int AS receipts, count(DISTINCT request_id)::int AS requests FROM audit_event
      WHERE action = 'consent.receipt' AND client_id = ${DEMO_CLIENT} AND request_id <> ${exportId}`;
    assert.deepEqual(receipts[0], { receipts: K + M, requests: K + M });
    const counted = totals(answer);
    assert.equal(counted.graphql! + counted[DEBTS_PRODUCT]!, receipts[0]!.receipts);
  });

  test("a gateway with UNSAFE_DISABLE_SCOPE_ENFORCEMENT (bench:enforcement's unenforced side) writes no receipt but still meters every call", async () => {
    const client = { id: "metered_unenforced", secret: "metered-unenforced-secret" };
    const token = await partner(client, PERSON_A);
    const unenforced = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 2 }, { UNSAFE_DISABLE_SCOPE_ENFORCEMENT: "true", REALTIME_WORKERS: "false" });
    try {
      for (let i = 0; i < K; i++) {
        const read = await postGraphQL(unenforced.graphqlUrl, READ_WELLNESS, {}, bearer(token));
        assert.equal(read.status, 200, JSON.stringify(read.body));
        assert.equal(read.body.data?.me?.wellness?.score, 64, JSON.stringify(read.body));
      }
    } finally {
      await unenforced.stop();
    }
    assert.deepEqual(totals(await usage(client)), { graphql: K });
    const receipts = await prisma.auditEvent.count({ where: { action: "consent.receipt", clientId: client.id } });
    assert.equal(receipts, 0);
  });

  test("another client's usage is its own", async () => {
    const before = totals(await usage(demo()));
    const token = await partner(OTHER);
    const read = await postGraphQL(kamina.graphqlUrl, READ_WELLNESS, {}, bearer(token));
    assert.equal(read.status, 200, JSON.stringify(read.body));
    const answer = await usage(OTHER);
    assert.equal(answer.client_id, OTHER.id);
    assert.deepEqual(totals(answer), { graphql: 1 });
    assert.equal(answer.total, 1);
    assert.deepEqual(totals(await usage(demo())), before);
  });

  test("the month's invoice is a CSV with one line per product, its unit price and amount, and the total", async () => {
    const month = callsMonth ?? today().slice(0, 7);
    const response = await rest(origin(), "GET", `/v1/usage/invoice?month=${month}`, { headers: sandboxCredentials(kamina) });
    assert.equal(response.status, 200, String(response.body));
    assert.equal(response.headers.get("content-type"), "text/csv; charset=utf-8");
    assert.match(response.headers.get("content-disposition") ?? "", new RegExp(`attachment; filename="usage-${DEMO_CLIENT}-${month}\\.csv"`));
    const lines = String(response.body).trimEnd().split("\n");
    // Ten-thousandths, as integers: an independent sum of what each line must say.
    const price = (product: string) => PRICE_LIST.prices[product] ?? PRICE_LIST.prices["rest:*"]!;
    const units = (decimal: string) => Math.round(Number(decimal) * 10_000);
    const format = (value: number) => `${Math.floor(value / 10_000)}.${String(value % 10_000).padStart(4, "0")}`;
    assert.equal(lines[0], "product,count,unit_price,amount,currency");
    if (!callsMonth) return;
    const counts = { export_row: exportedRows, graphql: K, [DEBTS_PRODUCT]: M, webhook: 1 };
    const expected = Object.entries(counts)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([product, count]) => ({ product, count, unit: units(price(product)) }));
    assert.deepEqual(lines.slice(1, -1), expected.map((line) => `${line.product},${line.count},${price(line.product)},${format(line.unit * line.count)},${PRICE_LIST.currency}`));
    const total = expected.reduce((sum, line) => sum + line.unit * line.count, 0);
    assert.equal(lines.at(-1), `total,${K + M + 1 + exportedRows},,${format(total)},${PRICE_LIST.currency}`);
  });

  test("a plan quota of Q calls a month: the (Q+1)th is 429 RATE_LIMITED until the next month", async () => {
    const Q = 2;
    await prisma.partnerClient.create({
      data: { id: QUOTAED.id, name: QUOTAED.id, secretHash: await hashSecret(QUOTAED.secret), countries: ["MX"], allowedScopes: [...USER_SCOPES], clientScopes: [], sandbox: true },
    });
    // An operator sets the plan before the client's first call.
    await prisma.$executeRaw`INSERT INTO usage_quota (client_id, product, monthly_limit) VALUES (${QUOTAED.id}, 'graphql', ${Q}), (${QUOTAED.id}, ${DEBTS_PRODUCT}, 1)`;
    const consent = await rest(origin(), "POST", "/v1/auth/consent", {
      headers: basic(QUOTAED.id, QUOTAED.secret),
      json: { client_id: QUOTAED.id, user_external_id: PERSON_B, scopes: ["wellness.read", "debts.read"], country: "MX", consent_text_version: CONSENT_TEXT_VERSION },
    });
    const token = consent.body.access_token as string;
    const now = new Date();
    const untilNextMonth = (Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1) - now.getTime()) / 1000;

    for (let i = 0; i < Q; i++) assert.equal((await postGraphQL(kamina.graphqlUrl, READ_WELLNESS, {}, bearer(token))).status, 200);
    const refused = await postGraphQL(kamina.graphqlUrl, READ_WELLNESS, {}, bearer(token));
    assert.equal(refused.status, 429, JSON.stringify(refused.body));
    const error = refused.body.errors?.[0];
    assert.equal(error?.extensions?.code, "RATE_LIMITED");
    assert.ok(Math.abs(Number(error?.extensions?.retryAfter) - untilNextMonth) < 60, `retryAfter ${String(error?.extensions?.retryAfter)}, ${untilNextMonth} s to the next month`);

    // REST, in the envelope: one call of /v1/debts, then the quota is spent.
    assert.equal((await rest(origin(), "GET", "/v1/debts", { headers: bearer(token) })).status, 200);
    const over = await rest(origin(), "GET", "/v1/debts", { headers: bearer(token) });
    assertEnvelope(over, 429, "RATE_LIMITED", /spent its plan/);
    assert.ok(Math.abs(over.body.retry_after - untilNextMonth) < 60);
    assert.equal(over.headers.get("retry-after"), String(over.body.retry_after));

    // Refused calls are not billed: the usage is the quota, exactly.
    assert.deepEqual(totals(await usage(QUOTAED)), { graphql: Q, [DEBTS_PRODUCT]: 1 });
  });

  test("a bad `from`, `to` or `month` is a 400 naming it; no credentials is a 401", async () => {
    const call = (path: string) => rest(origin(), "GET", path, { headers: sandboxCredentials(kamina) });
    assertEnvelope(await call("/v1/usage?from=yesterday&to=2026-12-06"), 400, "BAD_USER_INPUT", /`from`/);
    assertEnvelope(await call("/v1/usage?from=2026-12-01&to=2026-02-30"), 400, "BAD_USER_INPUT", /`to`/);
    assertEnvelope(await call("/v1/usage?from=2026-12-06"), 400, "BAD_USER_INPUT", /`to` is required/);
    assertEnvelope(await call("/v1/usage?from=2026-12-06&to=2026-12-01"), 400, "BAD_USER_INPUT", /must not be after/);
    assertEnvelope(await call("/v1/usage?from=2024-01-01&to=2026-12-01"), 400, "BAD_USER_INPUT", /at most 366 may be asked/);
    assertEnvelope(await call("/v1/usage/invoice?month=2026-13"), 400, "BAD_USER_INPUT", /`month`/);
    assertEnvelope(await call("/v1/usage/invoice?month=december"), 400, "BAD_USER_INPUT", /`month`/);
    assertEnvelope(await call("/v1/usage/invoice"), 400, "BAD_USER_INPUT", /`month` is required/);
    assertEnvelope(await rest(origin(), "GET", `/v1/usage?from=${today()}&to=${today()}`), 401, "UNAUTHENTICATED");
  });
});
