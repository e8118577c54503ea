import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { WebhookDispatcher } from "../realtime/webhooks/webhook-dispatcher.ts";
import { checkUrl } from "../gateway/webhooks/webhook-endpoints.ts";
import { loadConfig } from "../platform/config/config.ts";
import { createLogger } from "../platform/logger.ts";
import { signWebhook, verifyWebhook } from "../realtime/webhooks/webhook-signature.ts";
import type { PrismaClient } from "../platform/database/database.ts";
import { startTestKamina } from "./support/kamina.ts";
import type { TestDatabase } from "../testkit/postgres.ts";
import { PERSON_A, PERSON_B, raiseAlert, createRealtimeDatabase } from "./support/realtime.ts";
import { consentToken, sandboxCredentials } from "../testkit/tokens.ts";
import { independentlyVerified, Receiver } from "../testkit/webhook-receiver.ts";
import { ContractChecker } from "../testkit/openapi-contract.ts";

test("the signer reproduces the Standard Webhooks test vector", () => {
  const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const body = '{"test": 2432232314}';
  assert.equal(signWebhook(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  const headers = { "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330", "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" };
  assert.deepEqual(verifyWebhook(secret, headers, body, 1614265330), { ok: true });
  // Replay protection: the same delivery presented ten minutes later is refused.
  assert.equal(verifyWebhook(secret, headers, body, 1614265330 + 600).ok, false);
});

test("outside the sandbox an endpoint must be https on a public address", async () => {
  await assert.rejects(checkUrl("http://93.184.215.14/hook", false), /https/);
  await assert.rejects(checkUrl("https://127.0.0.1/hook", false), /public/);
  await assert.rejects(checkUrl("https://10.1.2.3/hook", false), /public/);
  await assert.rejects(checkUrl("https://[::1]/hook", false), /public/);
  await checkUrl("http://127.0.0.1:9/hook", true);
  await checkUrl("https://93.184.215.14/hook", false);
});

describe("signed webhooks for alert.created", () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  const receiver = new Receiver();

  const manage = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${kamina.gateway!.origin}${path}`, {
      method,
      headers: { "content-type": "application/json", ...sandboxCredentials(kamina) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: response.status === 204 ? null : ((await response.json()) as Record<string, any>) };
  };

  before(async () => {
    ({ database, prisma } = await createRealtimeDatabase());
    await receiver.start();
    kamina = await startTestKamina(
      { kind: "postgres", url: database.url, poolSize: 4 },
      { RELAY_POLL_MS: "100", WEBHOOK_POLL_MS: "50", WEBHOOK_BACKOFF_BASE_MS: "50", WEBHOOK_BACKOFF_MAX_MS: "200", WEBHOOK_MAX_ATTEMPTS: "3" },
    );
    await consentToken(kamina, PERSON_A, ["alerts.read"]);
  });

  after(async () => {
    await kamina?.stop();
    await receiver.stop();
    await prisma?.$disconnect();
    await database?.drop();
  });

  test("a partner registers an endpoint, sees the secret once, and receives the brief's payload with the alert's id, type and severity, signed", async () => {
    const created = await manage("POST", "/v1/webhooks", { url: `${receiver.origin}/ok`, events: ["alert.created"] });
    assert.equal(created.status, 201);
    assert.match(created.body!.secret, /^whsec_[A-Za-z0-9+/=]{40,}$/);
    const listed = await manage("GET", "/v1/webhooks");
    assert.equal(listed.body!.items.length, 1);
    assert.equal(listed.body!.items[0].secret, undefined);
    const stored = await prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: created.body!.id } });
    assert.ok(!stored.secretEncrypted.includes(created.body!.secret.slice(6)), "the secret is stored encrypted");

    const alertId = await raiseAlert(prisma, PERSON_A, { riskBand: "RED" });
    const [delivery] = await receiver.waitFor("/ok", 1);
    assert.ok(independentlyVerified(created.body!.secret, delivery!), "the signature verifies");
    const payload = JSON.parse(delivery!.body);
    // The brief's keys, the message id and time, and the alert's id, type and severity to act on it.
    assert.deepEqual(Object.keys(payload).sort(), ["alert_id", "contributing_factors", "created_at", "event", "id", "partner_ref", "risk_band", "severity", "suggested_action", "type", "user_id"]);
    assert.equal(payload.alert_id, alertId);
    assert.equal(payload.type, "expense_spike_food");
    assert.equal(payload.severity, "high");
    assert.equal(payload.event, "alert.created");
    assert.equal(payload.user_id, PERSON_A);
    assert.equal(payload.risk_band, "red");
    assert.deepEqual(payload.contributing_factors, ["missed_due_date", "expense_spike_food"]);
    assert.equal(payload.suggested_action, "soft_outreach_v2");
    assert.equal(payload.id, delivery!.headers["webhook-id"]);
    assert.ok(Math.abs(Number(delivery!.headers["webhook-timestamp"]) - Date.now() / 1000) < 30);
    await waitFor(async () => (await prisma.webhookDelivery.findFirst({ where: { endpointId: created.body!.id } }))?.status === "DELIVERED");
    assert.ok(alertId);
    assert.equal((await manage("DELETE", `/v1/webhooks/${created.body!.id}`)).status, 204);
  });

  test("a receiver answering 500 is retried with back-off until it answers 200, with the same message id", async () => {
    receiver.script.set("/flaky", { statuses: [500, 500, 200] });
    const created = await manage("POST", "/v1/webhooks", { url: `${receiver.origin}/flaky`, events: ["alert.created"] });
    await raiseAlert(prisma, PERSON_A);
    const deliveries = await receiver.waitFor("/flaky", 3);
    assert.equal(new Set(deliveries.map((delivery) => delivery.headers["webhook-id"])).size, 1);
    await waitFor(async () => (await prisma.webhookDelivery.findFirst({ where: { endpointId: created.body!.id } }))?.status === "DELIVERED");
    const row = await prisma.webhookDelivery.findFirstOrThrow({ where: { endpointId: created.body!.id } });
    assert.equal(row.attempts, 3);
    await manage("DELETE", `/v1/webhooks/${created.body!.id}`);
  });

  test("after the last attempt a delivery is dead, and replay puts it back in the queue", async () => {
    receiver.script.set("/down", { statuses: [500] });
    const created = await manage("POST", "/v1/webhooks", { url: `${receiver.origin}/down`, events: ["alert.created"] });
    await raiseAlert(prisma, PERSON_A);
    await waitFor(async () => (await prisma.webhookDelivery.findFirst({ where: { endpointId: created.body!.id } }))?.status === "DEAD");
    const dead = await prisma.webhookDelivery.findFirstOrThrow({ where: { endpointId: created.body!.id } });
    assert.equal(dead.attempts, 3);
    assert.equal(dead.lastStatusCode, 500);
    receiver.script.set("/down", { statuses: [200] });
    const replay = await manage("POST", `/v1/webhooks/${created.body!.id}/replay`, {});
    assert.equal(replay.status, 202);
    assert.equal(replay.body!.replayed, 1);
    await waitFor(async () => (await prisma.webhookDelivery.findFirst({ where: { endpointId: created.body!.id } }))?.status === "DELIVERED");
    await manage("DELETE", `/v1/webhooks/${created.body!.id}`);
  });

  test("no delivery for a person without an authorised consent covering alerts.read", async () => {
    const created = await manage("POST", "/v1/webhooks", { url: `${receiver.origin}/consent`, events: ["alert.created"] });
    await raiseAlert(prisma, PERSON_B);
    const visible = await raiseAlert(prisma, PERSON_A);
    const [delivery] = await receiver.waitFor("/consent", 1);
    assert.equal(JSON.parse(delivery!.body).user_id, PERSON_A);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(receiver.received.get("/consent")!.length, 1);
    assert.equal(await prisma.webhookDelivery.count({ where: { endpointId: created.body!.id } }), 1);
    assert.ok(visible);
    await manage("DELETE", `/v1/webhooks/${created.body!.id}`);
  });

  test("a suspended client's pending deliveries are held, not attempted, and go out once it is reinstated", async () => {
    const created = await manage("POST", "/v1/webhooks", { url: `${receiver.origin}/suspended`, events: ["alert.created"] });
    const { clientId } = await prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: created.body!.id } });
    await raiseAlert(prisma, PERSON_A);
    await receiver.waitFor("/suspended", 1);
    await waitFor(async () => (await prisma.webhookDelivery.findFirst({ where: { endpointId: created.body!.id } }))?.status === "DELIVERED");
    // A retry still due when the client is suspended (the relay makes no new deliveries for a suspended client).
    await prisma.partnerClient.update({ where: { id: clientId }, data: { status: "SUSPENDED" } });
    const now = new Date();
    await prisma.webhookDelivery.updateMany({ where: { endpointId: created.body!.id }, data: { status: "PENDING", deliveredAt: null, attempts: 1, nextAttemptAt: now } });
    try {
      await waitFor(async () => ((await prisma.webhookDelivery.findFirst({ where: { endpointId: created.body!.id } }))?.nextAttemptAt.getTime() ?? 0) > now.getTime());
      const held = await prisma.webhookDelivery.findFirstOrThrow({ where: { endpointId: created.body!.id } });
      assert.deepEqual([held.status, held.attempts], ["PENDING", 1], "put back without an attempt");
      assert.equal(receiver.received.get("/suspended")!.length, 1, "nothing sent while suspended");
    } finally {
      await prisma.partnerClient.update({ where: { id: clientId }, data: { status: "ACTIVE" } });
    }
    await prisma.webhookDelivery.updateMany({ where: { endpointId: created.body!.id }, data: { nextAttemptAt: new Date() } });
    await receiver.waitFor("/suspended", 2);
    await manage("DELETE", `/v1/webhooks/${created.body!.id}`);
  });

  test("a delivery held by a dispatcher that died mid-send is sent again when its lease ends, same id", async () => {
    const created = await manage("POST", "/v1/webhooks", { url: `${receiver.origin}/lease`, events: ["alert.created"] });
    await raiseAlert(prisma, PERSON_A);
    const [first] = await receiver.waitFor("/lease", 1);
    await waitFor(async () => (await prisma.webhookDelivery.findFirst({ where: { endpointId: created.body!.id } }))?.status === "DELIVERED");
    // The state a dispatcher killed after claiming the row (before recording the answer) leaves behind.
    await prisma.webhookDelivery.updateMany({
      where: { endpointId: created.body!.id },
      data: { status: "PENDING", deliveredAt: null, nextAttemptAt: new Date(), leasedUntil: new Date(Date.now() + 1_000) },
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(receiver.received.get("/lease")!.length, 1, "nobody else sends it while the lease holds");
    const [, again] = await receiver.waitFor("/lease", 2);
    assert.equal(again!.headers["webhook-id"], first!.headers["webhook-id"]);
    await manage("DELETE", `/v1/webhooks/${created.body!.id}`);
  });

  test("an endpoint's rate limit holds across dispatchers: three of them send no faster than one", async () => {
    // The gateway's own dispatcher and two more, as three instances would run: 20 per second each by default.
    const config = loadConfig({ LOG_LEVEL: "silent" });
    const others = [1, 2].map(() => new WebhookDispatcher(prisma, { ...config.realtime.webhooks, pollMs: 50 }, config.tokens, createLogger("silent")));
    for (const dispatcher of others) dispatcher.start();
    try {
      const rate = config.realtime.webhooks.ratePerSecond;
      const created = await manage("POST", "/v1/webhooks", { url: `${receiver.origin}/limited`, events: ["alert.created"] });
      const count = rate * 3;
      for (let i = 0; i < count; i++) await raiseAlert(prisma, PERSON_A);
      const deliveries = await receiver.waitFor("/limited", count, 20_000);
      const first = deliveries[0]!.at;
      const inFirstSecond = deliveries.filter((delivery) => delivery.at < first + 1000).length;
      // A burst of `rate`, then `rate` per second: at most 2 x rate in the first second (one per-process bucket each would let all 3 x rate through at once).
      assert.ok(inFirstSecond <= rate * 2 + 1, `${inFirstSecond} deliveries in the first second`);
      assert.equal(new Set(deliveries.map((delivery) => delivery.headers["webhook-id"])).size, count, "each event once");
      await manage("DELETE", `/v1/webhooks/${created.body!.id}`);
    } finally {
      await Promise.all(others.map((dispatcher) => dispatcher.stop()));
    }
  });

  test("a rotated secret signs beside the old one during the overlap", async () => {
    const created = await manage("POST", "/v1/webhooks", { url: `${receiver.origin}/rotate`, events: ["alert.created"] });
    const rotated = await manage("POST", `/v1/webhooks/${created.body!.id}/rotate-secret`);
    assert.equal(rotated.status, 200);
    await raiseAlert(prisma, PERSON_A);
    const [delivery] = await receiver.waitFor("/rotate", 1);
    assert.ok(independentlyVerified(rotated.body!.secret, delivery!));
    assert.ok(independentlyVerified(created.body!.secret, delivery!));
    await manage("DELETE", `/v1/webhooks/${created.body!.id}`);
  });

  test("every webhook route answers as the OpenAPI document says, on success and on bad input", async () => {
    const document = await (await fetch(`${kamina.gateway!.origin}/v1/openapi.json`)).json();
    const checker = new ContractChecker(document as Record<string, unknown>);
    const call = async (method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}) => {
      const response = await fetch(`${kamina.gateway!.origin}${path}`, {
        method,
        headers: { "content-type": "application/json", ...sandboxCredentials(kamina), ...options.headers },
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      });
      const text = await response.text();
      const answer = { method, path, status: response.status, contentType: response.headers.get("content-type"), body: text === "" ? null : JSON.parse(text) };
      assert.deepEqual(checker.problems(answer), [], JSON.stringify(answer));
      return answer;
    };
    const created = await call("POST", "/v1/webhooks", { body: { url: `${receiver.origin}/contract`, events: ["alert.created"] } });
    assert.equal(created.status, 201);
    assert.equal((await call("POST", "/v1/webhooks", { body: { url: `${receiver.origin}/contract`, events: [] } })).status, 400);
    assert.equal((await call("GET", "/v1/webhooks")).status, 200);
    assert.equal((await call("GET", "/v1/webhooks", { headers: { authorization: `Basic ${Buffer.from("nobody:wrong").toString("base64")}` } })).status, 401);
    const id = created.body.id as string;
    assert.equal((await call("POST", `/v1/webhooks/${id}/rotate-secret`)).status, 200);
    assert.equal((await call("POST", "/v1/webhooks/whe_unknown/rotate-secret")).status, 404);
    assert.equal((await call("POST", `/v1/webhooks/${id}/replay`, { body: { since: new Date(0).toISOString() } })).status, 202);
    assert.equal((await call("POST", `/v1/webhooks/${id}/replay`, { body: { since: "yesterday" } })).status, 400);
    assert.equal((await call("DELETE", `/v1/webhooks/${id}`)).status, 204);
    assert.equal((await call("DELETE", `/v1/webhooks/${id}`)).status, 404);
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
