import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createPrismaClient, type PrismaClient } from "../subgraphs/shared/database.ts";
import { startTestKamina } from "./support/kamina.ts";
import { createTestDatabase, type TestDatabase } from "./support/postgres.ts";
import { PERSON_A, PERSON_B, raiseAlert, seedRealtimeWorld, TestSubscription } from "./support/realtime.ts";
import { clientToken, consentToken, sandboxCredentials } from "./support/tokens.ts";

type Kamina = Awaited<ReturnType<typeof startTestKamina>>;

const FEDERATED = /* GraphQL */ `
  subscription Alerts($userId: ID, $minSeverity: Severity, $after: String) {
    alertCreated(userId: $userId, minSeverity: $minSeverity, after: $after) {
      id riskBand severity contributingFactors suggestedAction
      user { id wellness { score band } debts { issuer balance } }
    }
  }
`;
const SIMPLE = /* GraphQL */ `
  subscription Alerts($userId: ID, $minSeverity: Severity, $after: String) {
    alertCreated(userId: $userId, minSeverity: $minSeverity, after: $after) { id severity user { id } }
  }
`;

// Fast token re-checks and retries so the tests see revocation and delivery quickly.
const ENV = { SUBSCRIPTION_RECHECK_SECONDS: "60", RELAY_POLL_MS: "100", WEBHOOK_POLL_MS: "100" };

function alertOf(result: { data?: unknown }): Record<string, any> {
  return (result.data as { alertCreated: Record<string, any> }).alertCreated;
}

/** Waits until the gateway holds `count` more subscribers than `before` (the subscription is live there). */
async function subscribed(kamina: Kamina, before: number, count = 1): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (kamina.gateway!.subscriptions.hub.size.subscribers < before + count) {
    if (Date.now() > deadline) throw new Error("the subscription did not reach the gateway");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function consentIdOf(token: string): string {
  return JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8")).consent_id as string;
}

describe("federated subscriptions over graphql-ws", () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let kamina: Kamina;
  let asA: string;
  const open: TestSubscription[] = [];
  const subscribe = (url: string, authorization: string | undefined, query: string, variables: Record<string, unknown> = {}) => {
    const subscription = new TestSubscription(url, authorization, query, variables);
    open.push(subscription);
    return subscription;
  };

  before(async () => {
    database = await createTestDatabase();
    prisma = createPrismaClient({ kind: "postgres", url: database.url, poolSize: 2 });
    await seedRealtimeWorld(prisma);
    kamina = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 4 }, ENV);
    asA = `Bearer ${await consentToken(kamina, PERSON_A)}`;
  });

  after(async () => {
    await Promise.all(open.map((subscription) => subscription.dispose().catch(() => undefined)));
    await kamina?.stop();
    await prisma?.$disconnect();
    await database?.drop();
  });

  test("an alert reaches its subscriber with fields from the wellness and debts subgraphs, and a cursor", async () => {
    const base = kamina.gateway!.subscriptions.hub.size.subscribers;
    const subscription = subscribe(kamina.graphqlUrl, asA, FEDERATED);
    await subscribed(kamina, base);
    const alertId = await raiseAlert(prisma, PERSON_A);
    const [result] = await subscription.take(1);
    assert.equal(result!.errors, undefined, JSON.stringify(result!.errors));
    const alert = alertOf(result!);
    assert.equal(alert.id, alertId);
    assert.equal(alert.riskBand, "RED");
    assert.deepEqual(alert.contributingFactors, ["missed_due_date", "expense_spike_food"]);
    assert.equal(alert.user.id, PERSON_A);
    assert.deepEqual(alert.user.wellness, { score: 64, band: "AMBER" });
    assert.deepEqual(alert.user.debts, [{ issuer: "Banco Pichincha", balance: "1240.55" }]);
    assert.equal(typeof (result!.extensions as { cursor?: unknown } | undefined)?.cursor, "string");
  });

  test("a field the token's scopes do not cover comes back null with UNAUTHORIZED_FIELD_OR_TYPE, per event", async () => {
    const narrow = `Bearer ${await consentToken(kamina, PERSON_A, ["alerts.read", "wellness.read"])}`;
    const subscription = subscribe(kamina.graphqlUrl, narrow, FEDERATED);
    await subscription.ready();
    await raiseAlert(prisma, PERSON_A);
    const [result] = await subscription.take(1);
    const alert = alertOf(result!);
    assert.equal(alert.user.wellness.score, 64);
    assert.equal(alert.user.debts, null);
    const error = result!.errors?.find((candidate) => candidate.extensions?.code === "UNAUTHORIZED_FIELD_OR_TYPE");
    assert.ok(error, JSON.stringify(result!.errors));
    assert.deepEqual(error.path, ["alertCreated", "user", "debts"]);
  });

  test("connecting without a token, or with a bad one, closes with 4401", async () => {
    const without = subscribe(kamina.graphqlUrl, undefined, SIMPLE);
    assert.equal((await without.closed).code, 4401);
    const bad = subscribe(kamina.graphqlUrl, "Bearer not.a.token", SIMPLE);
    assert.equal((await bad.closed).code, 4401);
  });

  test("a consent token sees only its own person's alerts; minSeverity drops lower ones", async () => {
    const subscription = subscribe(kamina.graphqlUrl, asA, SIMPLE, { minSeverity: "HIGH" });
    await subscription.ready();
    await raiseAlert(prisma, PERSON_B, { severity: "CRITICAL" });
    await raiseAlert(prisma, PERSON_A, { severity: "LOW" });
    const wanted = await raiseAlert(prisma, PERSON_A, { severity: "CRITICAL" });
    const [result] = await subscription.take(1);
    assert.equal(alertOf(result!).id, wanted);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(subscription.results.length, 1);
  });

  test("a partner token sees only people with an authorised consent for it", async () => {
    const partner = `Bearer ${await clientToken(kamina)}`;
    const subscription = subscribe(kamina.graphqlUrl, partner, SIMPLE);
    await subscription.ready();
    await raiseAlert(prisma, PERSON_B);
    const visible = await raiseAlert(prisma, PERSON_A);
    const [result] = await subscription.take(1);
    assert.equal(alertOf(result!).id, visible);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(subscription.results.length, 1);
  });

  test("`after` replays the alerts raised while away, in order, none twice, then live ones", async () => {
    const first = subscribe(kamina.graphqlUrl, asA, SIMPLE);
    await first.ready();
    const a1 = await raiseAlert(prisma, PERSON_A);
    const [r1] = await first.take(1);
    assert.equal(alertOf(r1!).id, a1);
    await first.dispose();

    const a2 = await raiseAlert(prisma, PERSON_A);
    const a3 = await raiseAlert(prisma, PERSON_A);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const resumed = subscribe(kamina.graphqlUrl, asA, SIMPLE, { after: (r1!.extensions as { cursor: string }).cursor });
    const replayed = await resumed.take(2);
    assert.deepEqual(replayed.map((result) => alertOf(result).id), [a2, a3]);
    const a4 = await raiseAlert(prisma, PERSON_A);
    const all = await resumed.take(3);
    assert.deepEqual(all.map((result) => alertOf(result).id), [a2, a3, a4]);
  });

  test("identical subscriptions share one stream", async () => {
    const one = subscribe(kamina.graphqlUrl, asA, SIMPLE, { userId: PERSON_A });
    const two = subscribe(kamina.graphqlUrl, asA, SIMPLE, { userId: PERSON_A });
    await one.ready();
    const hub = kamina.gateway!.subscriptions.hub;
    const before = hub.size;
    assert.ok(before.subscribers >= 2);
    const id = await raiseAlert(prisma, PERSON_A);
    const [[x], [y]] = await Promise.all([one.take(1), two.take(1)]);
    assert.equal(alertOf(x!).id, id);
    assert.equal(alertOf(y!).id, id);
    assert.ok(before.streams < before.subscribers, `${before.streams} streams for ${before.subscribers} subscribers`);
  });

  test("a revoked consent closes its subscription with 4403", async () => {
    const token = await consentToken(kamina, PERSON_A);
    const subscription = subscribe(kamina.graphqlUrl, `Bearer ${token}`, SIMPLE);
    await subscription.ready();
    const response = await fetch(`${kamina.gateway!.origin}/v1/consents/${consentIdOf(token)}`, {
      method: "DELETE",
      headers: { "content-type": "application/json", ...sandboxCredentials(kamina) },
      body: JSON.stringify({ reason: "the person withdrew it" }),
    });
    assert.equal(response.status, 200);
    await raiseAlert(prisma, PERSON_A);
    const closed = await subscription.closed;
    assert.equal(closed.code, 4403);
    assert.match(closed.reason, /consent|revoked/i);
  });

  test("two gateway instances sharing one database both deliver an alert committed once", async () => {
    const second = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 4 }, ENV);
    try {
      const token = `Bearer ${await consentToken(kamina, PERSON_A)}`;
      const here = subscribe(kamina.graphqlUrl, token, SIMPLE);
      const there = subscribe(second.graphqlUrl, token, SIMPLE);
      await here.ready();
      const id = await raiseAlert(prisma, PERSON_A);
      const [[x], [y]] = await Promise.all([here.take(1), there.take(1)]);
      assert.equal(alertOf(x!).id, id);
      assert.equal(alertOf(y!).id, id);
      await there.dispose();
    } finally {
      await second.stop();
    }
  });
});

describe("subscriptions on the NATS JetStream bus", () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let first: Kamina;
  let second: Kamina;
  const open: TestSubscription[] = [];

  before(async () => {
    database = await createTestDatabase();
    prisma = createPrismaClient({ kind: "postgres", url: database.url, poolSize: 2 });
    await seedRealtimeWorld(prisma);
    const env = { ...ENV, NATS_URL: process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222" };
    first = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 4 }, env);
    second = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 4 }, env);
  });

  after(async () => {
    await Promise.all(open.map((subscription) => subscription.dispose().catch(() => undefined)));
    await first?.stop();
    await second?.stop();
    await prisma?.$disconnect();
    await database?.drop();
  });

  test("an alert committed once reaches subscribers on both instances through NATS", async () => {
    const token = `Bearer ${await consentToken(first, PERSON_A)}`;
    const here = new TestSubscription(first.graphqlUrl, token, SIMPLE);
    const there = new TestSubscription(second.graphqlUrl, token, SIMPLE);
    open.push(here, there);
    await here.ready();
    const id = await raiseAlert(prisma, PERSON_A);
    const [[x], [y]] = await Promise.all([here.take(1), there.take(1)]);
    assert.equal(alertOf(x!).id, id);
    assert.equal(alertOf(y!).id, id);
  });
});
