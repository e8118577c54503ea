import assert from "node:assert/strict";
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { evaluateUser } from "../subgraphs/alerts/prevention/evaluate.ts";
import { RULES } from "../domain/prevention/rules.ts";
import { CLIENT_SCOPES, USER_SCOPES } from "../platform/auth/scopes.ts";
import type { PrismaClient } from "../platform/database/database.ts";
import { hashSecret } from "../platform/secret-hash.ts";
import { calmHousehold, insertHousehold, instalments, NOW } from "../testkit/households.ts";
import { postGraphQL, startTestKamina } from "./support/kamina.ts";
import type { TestDatabase } from "../testkit/postgres.ts";
import { PERSON_A, PERSON_B, createRealtimeDatabase, TestSubscription } from "./support/realtime.ts";
import { assertEnvelope, rest } from "./support/rest.ts";
import { basic, bearer, clientToken, consentToken, sandboxCredentials } from "../testkit/tokens.ts";

type Kamina = Awaited<ReturnType<typeof startTestKamina>>;

/** A live (non-sandbox) partner client beside the sandbox one. */
const LIVE_CLIENT = "bank_live_mx";
const LIVE_SECRET = "live-client-secret-for-tests";
/** Consented to the sandbox client, but without alerts.read. */
const PERSON_C = "USR_SB_C";

const FEDERATED = /* GraphQL */ `
  subscription {
    alertCreated {
      id type riskBand severity contributingFactors suggestedAction createdAt
      user { id wellness { score band } debts { issuer balance } }
    }
  }
`;

interface Delivery {
  headers: Record<string, string>;
  body: string;
}

/** A partner's webhook receiver on loopback. */
class Receiver {
  readonly received: Delivery[] = [];
  origin = "";
  private server!: Server;

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        this.received.push({ headers: request.headers as Record<string, string>, body: Buffer.concat(chunks).toString("utf8") });
        response.end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async waitFor(predicate: (delivery: Delivery) => boolean, timeoutMs = 10_000): Promise<Delivery> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching delivery among ${this.received.length}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Standard Webhooks verification as a partner writes it from the specification alone. */
function verified(secret: string, delivery: Delivery): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key).update(`${delivery.headers["webhook-id"]}.${delivery.headers["webhook-timestamp"]}.${delivery.body}`).digest();
  return (delivery.headers["webhook-signature"] ?? "").split(" ").some((entry) => {
    const [version, signature] = entry.split(",");
    const given = Buffer.from(signature ?? "", "base64");
    return version === "v1" && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

function ruleOf(type: string) {
  const rule = RULES.rules.find((candidate) => candidate.definition.type === type)?.definition;
  assert.ok(rule, `rules.json has ${type}`);
  return rule;
}

describe("the sandbox alert trigger (POST /v1/sandbox/alerts)", () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let kamina: Kamina;
  let origin: string;
  let asA: Record<string, string>;
  const receiver = new Receiver();
  const open: TestSubscription[] = [];

  const trigger = (headers: Record<string, string>, json?: unknown) => rest(origin, "POST", "/v1/sandbox/alerts", { headers, ...(json !== undefined ? { json } : {}) });

  before(async () => {
    ({ database, prisma } = await createRealtimeDatabase());
    await prisma.user.create({ data: { id: PERSON_C, country: "MX" } });
    await prisma.partnerClient.create({
      data: {
        id: LIVE_CLIENT,
        name: "A live bank",
        secretHash: await hashSecret(LIVE_SECRET),
        countries: ["MX"],
        allowedScopes: [...USER_SCOPES],
        clientScopes: [...CLIENT_SCOPES],
        sandbox: false,
      },
    });
    await receiver.start();
    kamina = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 4 }, { RELAY_POLL_MS: "100", WEBHOOK_POLL_MS: "50" });
    origin = kamina.gateway!.origin;
    asA = bearer(await consentToken(kamina, PERSON_A));
  });

  after(async () => {
    await Promise.all(open.map((subscription) => subscription.dispose().catch(() => undefined)));
    await kamina?.stop();
    await receiver.stop();
    await prisma?.$disconnect();
    await database?.drop();
  });

  test("a test alert travels like a real one: 201, the person's subscriber gets it with fields from other subgraphs, a webhook gets it signed", async () => {
    const endpoint = await rest(origin, "POST", "/v1/webhooks", { headers: sandboxCredentials(kamina), json: { url: `${receiver.origin}/hooks`, events: ["alert.created"] } });
    assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
    const subscription = new TestSubscription(kamina.graphqlUrl, asA.authorization, FEDERATED);
    open.push(subscription);
    const hub = kamina.gateway!.subscriptions.hub;
    const deadline = Date.now() + 10_000;
    while (hub.size.subscribers < 1) {
      assert.ok(Date.now() < deadline, "the subscription reached the gateway");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    const response = await trigger(asA, { type: "expense_spike_food" });
    assert.equal(response.status, 201, JSON.stringify(response.body));
    const rule = ruleOf("expense_spike_food");
    const created = response.body;
    assert.match(created.id, /^alr_[0-9a-f]{16}$/);
    assert.deepEqual(
      { ...created, id: undefined, created_at: undefined },
      {
        id: undefined,
        user_id: PERSON_A,
        type: "expense_spike_food",
        risk_band: rule.risk_band,
        severity: rule.severity.toLowerCase(),
        contributing_factors: rule.contributing_factors,
        suggested_action: rule.suggested_action,
        status: "open",
        created_at: undefined,
        acknowledged_at: null,
        resolved_at: null,
        sandbox: true,
      },
    );
    assert.ok(Math.abs(Date.parse(created.created_at) - Date.now()) < 30_000);

    const [result] = await subscription.take(1);
    assert.equal(result!.errors, undefined, JSON.stringify(result!.errors));
    const alert = (result!.data as { alertCreated: Record<string, any> }).alertCreated;
    assert.equal(alert.id, created.id);
    assert.equal(alert.type, "expense_spike_food");
    assert.equal(alert.riskBand, rule.risk_band.toUpperCase());
    assert.deepEqual(alert.user, { id: PERSON_A, wellness: { score: 64, band: "AMBER" }, debts: [{ issuer: "Banco Pichincha", balance: "1240.55" }] });

    const delivery = await receiver.waitFor(() => true);
    assert.ok(verified(endpoint.body.secret, delivery), "the delivery verifies with the endpoint's secret");
    const payload = JSON.parse(delivery.body);
    assert.deepEqual(
      { user_id: payload.user_id, risk_band: payload.risk_band, contributing_factors: payload.contributing_factors, suggested_action: payload.suggested_action },
      { user_id: PERSON_A, risk_band: rule.risk_band, contributing_factors: rule.contributing_factors, suggested_action: rule.suggested_action },
    );
    assert.deepEqual([payload.alert_id, payload.type, payload.severity], [created.id, "expense_spike_food", rule.severity.toLowerCase()], "the webhook names the alert to act on");

    // The same two rows a real alert has, marked as a test.
    const row = await prisma.alert.findUniqueOrThrow({ where: { id: created.id } });
    assert.equal(row.ruleId, `sandbox:${rule.id}`);
    const event = await prisma.outboxEvent.findFirstOrThrow({ where: { aggregateId: created.id } });
    assert.equal((event.payload as { sandbox?: boolean }).sandbox, true);
    assert.equal((event.payload as { type?: string }).type, "expense_spike_food");
  });

  test("cool-downs do not hold a test alert back", async () => {
    const first = await trigger(asA, { type: "income_drop" });
    const second = await trigger(asA, { type: "income_drop" });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(second.status, 201, JSON.stringify(second.body));
    assert.notEqual(first.body.id, second.body.id);
  });

  test("a test alert does not start a cool-down: the engine still raises the real one", async () => {
    const userId = "USR_SB_MISSED";
    await insertHousehold(prisma, calmHousehold({ userId, payments: instalments(12, (i) => (i === 0 ? "MISSED" : "ON_TIME")) }));
    const asMissed = bearer(await consentToken(kamina, userId, ["alerts.read"]));
    assert.equal((await trigger(asMissed, { type: "missed_due_date" })).status, 201);
    const report = await evaluateUser(prisma, userId, NOW);
    assert.deepEqual(report.raised.map((alert) => alert.type), ["missed_due_date"]);
    assert.deepEqual(report.suppressed, []);
  });

  test("the same trigger is the GraphQL mutation raiseSandboxAlert", async () => {
    const response = await postGraphQL(kamina.graphqlUrl, `mutation { raiseSandboxAlert(type: "missed_due_date") { id type severity user { id wellness { band } } } }`, {}, asA);
    assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
    const alert = response.body.data!.raiseSandboxAlert;
    assert.equal(alert.type, "missed_due_date");
    assert.equal(alert.severity, ruleOf("missed_due_date").severity);
    assert.deepEqual(alert.user, { id: PERSON_A, wellness: { band: "AMBER" } });
  });

  test("a partner token names a person who consented to it with alerts.read", async () => {
    const partner = bearer(await clientToken(kamina));
    const response = await trigger(partner, { type: "credit_maxed", user_id: PERSON_A });
    assert.equal(response.status, 201, JSON.stringify(response.body));
    assert.equal(response.body.user_id, PERSON_A);
    assertEnvelope(await trigger(partner, { type: "credit_maxed" }), 400, "BAD_USER_INPUT", /^`user_id` is required with a partner token/);
    assertEnvelope(await trigger(partner, { type: "credit_maxed", user_id: PERSON_B }), 404, "NOT_FOUND");
    assertEnvelope(await trigger(partner, { type: "credit_maxed", user_id: "USR_NOBODY" }), 404, "NOT_FOUND");
    await consentToken(kamina, PERSON_C, ["wellness.read"]);
    assertEnvelope(await trigger(partner, { type: "credit_maxed", user_id: PERSON_C }), 403, "UNAUTHORIZED_FIELD_OR_TYPE", /alerts\.read/);
  });

  test("bad requests answer in the envelope and raise nothing", async () => {
    const before = await prisma.alert.count();
    const unknown = await trigger(asA, { type: "lottery_win" });
    assertEnvelope(unknown, 400, "BAD_USER_INPUT", /lottery_win/);
    for (const type of RULES.rules.map((rule) => rule.definition.type)) assert.ok(unknown.body.message.includes(type), `the message lists ${type}`);
    assertEnvelope(await trigger(asA), 400, "BAD_USER_INPUT", /`type` is required/);
    assertEnvelope(await trigger(asA, { type: 42 }), 400, "BAD_USER_INPUT", /type/);
    assertEnvelope(await trigger(asA, { type: "income_drop", colour: "red" }), 400, "BAD_USER_INPUT", /colour/);
    assertEnvelope(await trigger(asA, { type: "income_drop", user_id: "../etc" }), 400, "BAD_USER_INPUT", /user_id/);
    assertEnvelope(await trigger(asA, { type: "income_drop", user_id: PERSON_B }), 404, "NOT_FOUND");
    assertEnvelope(await trigger(asA, ["income_drop"]), 400, "BAD_REQUEST");
    assertEnvelope(await rest(origin, "POST", "/v1/sandbox/alerts", { headers: asA, raw: { contentType: "application/json", body: "{type:" } }), 400, "BAD_REQUEST", /JSON/);
    assertEnvelope(await rest(origin, "POST", "/v1/sandbox/alerts", { headers: asA, raw: { contentType: "text/plain", body: "income_drop" } }), 415, "UNSUPPORTED_MEDIA_TYPE");
    assertEnvelope(await rest(origin, "GET", "/v1/sandbox/alerts", { headers: asA }), 405, "METHOD_NOT_ALLOWED", /not allowed/);
    assert.equal(await prisma.alert.count(), before);
  });

  test("without a valid token it is a 401, whatever the body", async () => {
    assertEnvelope(await trigger({}, { type: "income_drop" }), 401, "UNAUTHENTICATED");
    assertEnvelope(await trigger({}, { nonsense: true }), 401, "UNAUTHENTICATED");
    assertEnvelope(await trigger({ authorization: "Bearer not.a.token" }, { type: "income_drop" }), 401, "UNAUTHENTICATED");
    assertEnvelope(await trigger(sandboxCredentials(kamina), { type: "income_drop" }), 401, "UNAUTHENTICATED");
  });

  test("a consent without alerts.read cannot raise one", async () => {
    const narrow = bearer(await consentToken(kamina, PERSON_A, ["wellness.read"]));
    assertEnvelope(await trigger(narrow, { type: "income_drop" }), 403, "UNAUTHORIZED_FIELD_OR_TYPE");
  });

  test("it exists only in the sandbox: a live client's token is refused with FORBIDDEN", async () => {
    const response = await rest(origin, "POST", "/v1/auth/token", { headers: basic(LIVE_CLIENT, LIVE_SECRET), json: { grant_type: "client_credentials" } });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    const live = bearer(response.body.access_token);
    assertEnvelope(await trigger(live, { type: "income_drop", user_id: PERSON_A }), 403, "FORBIDDEN", /sandbox/);
    const graphql = await postGraphQL(kamina.graphqlUrl, `mutation { raiseSandboxAlert(type: "income_drop", userId: "${PERSON_A}") { id } }`, {}, live);
    assert.equal(graphql.body.errors?.[0]?.extensions?.code, "FORBIDDEN", JSON.stringify(graphql.body));
  });
});
