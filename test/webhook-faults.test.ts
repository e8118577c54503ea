// Issue 6's webhook faults, each shown to lose nothing: a receiver that is slow (no answer within
// WEBHOOK_TIMEOUT_MS), a receiver that is down (connection refused), and a dispatcher killed
// (SIGKILL, a real process) while a receiver holds its requests, then started again.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { startServerChild, type ServerChild } from "../testkit/server-child.ts";
import type { PrismaClient } from "../platform/database/database.ts";
import { startTestKamina } from "./support/kamina.ts";
import type { TestDatabase } from "../testkit/postgres.ts";
import { PERSON_A, raiseAlert, createRealtimeDatabase } from "./support/realtime.ts";
import { basic, CONSENT_TEXT_VERSION, DEMO_CLIENT, TEST_SANDBOX_SECRET } from "../testkit/tokens.ts";
import { independentlyVerified, Receiver } from "../testkit/webhook-receiver.ts";
import { MAX_IN_FLIGHT } from "../realtime/webhooks/webhook-dispatcher.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

/** A partner's call to the REST API, as the sandbox client (HTTP Basic). */
async function call(origin: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Json | null }> {
  const response = await fetch(`${origin}${path}`, {
    method,
    headers: { "content-type": "application/json", ...basic(DEMO_CLIENT, TEST_SANDBOX_SECRET) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: response.status === 204 ? null : ((await response.json()) as Json) };
}

/** PERSON_A consents to the sandbox client reading alerts, so their alerts fan out to its endpoints. */
async function consentToAlerts(origin: string): Promise<void> {
  const answer = await call(origin, "POST", "/v1/auth/consent", {
    client_id: DEMO_CLIENT,
    user_external_id: PERSON_A,
    scopes: ["alerts.read"],
    country: "MX",
    consent_text_version: CONSENT_TEXT_VERSION,
  });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
}

async function registerEndpoint(origin: string, url: string): Promise<{ id: string; secret: string }> {
  const created = await call(origin, "POST", "/v1/webhooks", { url, events: ["alert.created"] });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return { id: created.body!.id, secret: created.body!.secret };
}

/** Several alerts in one transaction, as raiseAlert writes one: the relay publishes them together and a dispatcher claims them in one pass. */
async function raiseAlertsTogether(prisma: PrismaClient, userId: string, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => `alr_test_${randomBytes(6).toString("hex")}`);
  await prisma.$transaction(
    ids.flatMap((id) => [
      prisma.alert.create({
        data: {
          id,
          userId,
          country: "MX",
          type: "expense_spike_food",
          riskBand: "RED",
          severity: "HIGH",
          contributingFactors: ["missed_due_date", "expense_spike_food"],
          suggestedAction: "soft_outreach_v2",
        },
      }),
      prisma.outboxEvent.create({ data: { topic: "alert.created", aggregateId: id, country: "MX", payload: { alertId: id } } }),
    ]),
  );
  return ids;
}

/** The webhook-id each alert's event must arrive with (`msg_<outbox id>`, see docs/realtime.md). */
async function expectedMessageIds(prisma: PrismaClient, alertIds: readonly string[]): Promise<string[]> {
  const events = await prisma.outboxEvent.findMany({ where: { aggregateId: { in: [...alertIds] } }, select: { id: true } });
  assert.equal(events.length, alertIds.length);
  return events.map((event) => `msg_${event.id}`).sort();
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 15_000, what: () => string = () => "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what()} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Nothing lost: every alert's message arrived at `path` (at least once, signed with `secret`,
 * the body naming the same id as the header) and every delivery row of the endpoint is
 * DELIVERED, one per alert. Returns the rows.
 */
async function assertNothingLost(prisma: PrismaClient, receiver: Receiver, path: string, endpoint: { id: string; secret: string }, alertIds: readonly string[], timeoutMs = 15_000) {
  const expected = await expectedMessageIds(prisma, alertIds);
  const rowsOf = () => prisma.webhookDelivery.findMany({ where: { endpointId: endpoint.id } });
  await waitFor(
    async () => receiver.ids(path).size >= expected.length && (await rowsOf()).filter((row) => row.status === "DELIVERED").length >= expected.length,
    timeoutMs,
    () => `${expected.length} deliveries on ${path} (${receiver.ids(path).size} ids seen)`,
  );
  assert.deepEqual([...receiver.ids(path)].sort(), expected, "each event's id arrived, and nothing else");
  for (const delivery of receiver.received.get(path)!) {
    assert.ok(independentlyVerified(endpoint.secret, delivery), "every attempt is signed");
    assert.equal(JSON.parse(delivery.body).id, delivery.headers["webhook-id"]);
  }
  const rows = await rowsOf();
  assert.equal(rows.length, alertIds.length, "one delivery row per event");
  assert.deepEqual(
    rows.map((row) => row.status),
    rows.map(() => "DELIVERED"),
  );
  return rows;
}

describe("a slow or unreachable receiver loses nothing", () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  let origin: string;
  const receiver = new Receiver();
  const late = new Receiver();
  const TIMEOUT_MS = 300; // WEBHOOK_TIMEOUT_MS's minimum is 100

  before(async () => {
    ({ database, prisma } = await createRealtimeDatabase());
    await receiver.start();
    kamina = await startTestKamina(
      { kind: "postgres", url: database.url, poolSize: 4 },
      {
        RELAY_POLL_MS: "100",
        WEBHOOK_POLL_MS: "50",
        WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
        WEBHOOK_BACKOFF_BASE_MS: "50",
        WEBHOOK_BACKOFF_MAX_MS: "200",
        // Enough that a receiver down for a few seconds is not given up on.
        WEBHOOK_MAX_ATTEMPTS: "60",
        // The backlog test fills the dispatcher's room; a per-endpoint limit would hold it back first.
        WEBHOOK_RATE_PER_SECOND: "100000",
      },
    );
    origin = kamina.gateway!.origin;
    await consentToAlerts(origin);
  });

  after(async () => {
    await kamina?.stop();
    await receiver.stop();
    await late.stop();
    await prisma?.$disconnect();
    await database?.drop();
  });

  test("a receiver slower than WEBHOOK_TIMEOUT_MS is retried with the same webhook-id until it answers in time", async () => {
    const SLOW_ATTEMPTS = 2;
    receiver.script.set("/slow", { delayMs: TIMEOUT_MS * 3, slowAttempts: SLOW_ATTEMPTS });
    const endpoint = await registerEndpoint(origin, `${receiver.origin}/slow`);
    const alertIds: string[] = [];
    for (let i = 0; i < 5; i++) alertIds.push(await raiseAlert(prisma, PERSON_A));

    const rows = await assertNothingLost(prisma, receiver, "/slow", endpoint, alertIds);
    const received = receiver.received.get("/slow")!;
    for (const row of rows) {
      const id = `msg_${row.eventId}`;
      const attempts = received.filter((delivery) => delivery.headers["webhook-id"] === id);
      // The held answers were timeouts and the first fast one the success (one more only if a
      // stalled machine let even that one time out): every attempt reached the receiver and is counted.
      assert.ok(attempts.length >= SLOW_ATTEMPTS + 1, `${id} was sent ${attempts.length} times`);
      assert.equal(row.attempts, attempts.length, `${id}: attempts recorded = requests received`);
      for (let i = 1; i <= SLOW_ATTEMPTS; i++) {
        // A retry right after the send would come within the back-off (25-200 ms); this one waited for the timeout first.
        assert.ok(attempts[i]!.at - attempts[i - 1]!.at >= TIMEOUT_MS / 2, `${id}: attempt ${i + 1} came ${attempts[i]!.at - attempts[i - 1]!.at} ms after the one before`);
      }
      assert.equal(row.lastStatusCode, 200);
      assert.equal(row.lastError, null);
      assert.ok(row.deliveredAt);
    }
    assert.equal((await call(origin, "DELETE", `/v1/webhooks/${endpoint.id}`)).status, 204);
  });

  test("a receiver that is down (connection refused) gets every event queued meanwhile once it is up", async () => {
    // A port nobody listens on: taken from the kernel, then released.
    const probe = new Receiver();
    await probe.start();
    const port = probe.port;
    await probe.stop();

    const endpoint = await registerEndpoint(origin, `http://127.0.0.1:${port}/down`);
    const alertIds: string[] = [];
    for (let i = 0; i < 5; i++) alertIds.push(await raiseAlert(prisma, PERSON_A));
    // Down for a while: every delivery has failed at least three times.
    await waitFor(
      async () => {
        const rows = await prisma.webhookDelivery.findMany({ where: { endpointId: endpoint.id } });
        return rows.length === alertIds.length && rows.every((row) => row.attempts >= 3);
      },
      15_000,
      () => "three failed attempts per delivery",
    );
    const failing = await prisma.webhookDelivery.findMany({ where: { endpointId: endpoint.id } });
    for (const row of failing) {
      assert.notEqual(row.status, "DEAD");
      assert.notEqual(row.status, "DELIVERED");
      assert.equal(row.lastError, "The endpoint could not be reached");
      assert.equal(row.lastStatusCode, null);
    }

    await late.start(port);
    const rows = await assertNothingLost(prisma, late, "/down", endpoint, alertIds);
    for (const row of rows) assert.ok(row.attempts >= 4, "the refused attempts are counted");
    assert.equal((await call(origin, "DELETE", `/v1/webhooks/${endpoint.id}`)).status, 204);
  });

  test("a backlog larger than a dispatcher holds is claimed in turn: never more than MAX_IN_FLIGHT leased at once, every event delivered, one row each", async () => {
    const BACKLOG = MAX_IN_FLIGHT * 2 + 200;
    receiver.script.set("/backlog", { hang: true });
    const endpoint = await registerEndpoint(origin, `${receiver.origin}/backlog`);
    const alertIds = await raiseAlertsTogether(prisma, PERSON_A, BACKLOG);
    // The receiver holds every request it takes: the dispatcher's room runs out at MAX_IN_FLIGHT.
    await receiver.waitFor("/backlog", MAX_IN_FLIGHT, 30_000);
    // A claim leases its whole batch before sending any of it, so one that took more than its
    // room (thousands of rows past its LIMIT, as a cached generic plan once did) shows here.
    const leased = await prisma.webhookDelivery.count({ where: { endpointId: endpoint.id, status: { in: ["PENDING", "FAILED"] }, leasedUntil: { gt: new Date() } } });
    assert.ok(leased <= MAX_IN_FLIGHT, `${leased} deliveries leased at once`);
    // Answered from now on: the held requests time out and go again with their webhook-id.
    receiver.script.set("/backlog", {});
    await assertNothingLost(prisma, receiver, "/backlog", endpoint, alertIds, 90_000);
    assert.equal((await call(origin, "DELETE", `/v1/webhooks/${endpoint.id}`)).status, 204);
  });
});

describe("one slow endpoint never holds back another's deliveries", () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  const receiver = new Receiver();
  const TIMEOUT_MS = 4_000;

  before(async () => {
    ({ database, prisma } = await createRealtimeDatabase());
    await receiver.start();
    kamina = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 4 }, { RELAY_POLL_MS: "100", WEBHOOK_POLL_MS: "50", WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS) });
    await consentToAlerts(kamina.gateway!.origin);
  });

  after(async () => {
    await receiver.stop();
    await kamina?.stop();
    await prisma?.$disconnect();
    await database?.drop();
  });

  test("a delivery held open by one receiver does not delay the next event to another", async () => {
    const origin = kamina.gateway!.origin;
    receiver.script.set("/held", { hang: true });
    const held = await registerEndpoint(origin, `${receiver.origin}/held`);
    await raiseAlert(prisma, PERSON_A);
    await waitFor(async () => (receiver.received.get("/held")?.length ?? 0) === 1, 10_000, () => "the held request");

    const quick = await registerEndpoint(origin, `${receiver.origin}/quick`);
    const raisedAt = Date.now();
    const alertId = await raiseAlert(prisma, PERSON_A);
    await waitFor(async () => (receiver.received.get("/quick")?.length ?? 0) === 1, TIMEOUT_MS * 2, () => "the quick delivery");
    const waited = receiver.received.get("/quick")![0]!.at - raisedAt;
    // Waiting for the held delivery to time out would take most of TIMEOUT_MS.
    assert.ok(waited < TIMEOUT_MS / 2, `the quick endpoint got its event ${waited} ms after it was raised`);
    assert.deepEqual(await expectedMessageIds(prisma, [alertId]), [receiver.received.get("/quick")![0]!.headers["webhook-id"]]);
    for (const endpoint of [held, quick]) assert.equal((await call(origin, "DELETE", `/v1/webhooks/${endpoint.id}`)).status, 204);
  });
});

describe("a dispatcher killed mid-delivery (a real process, SIGKILL) resumes after restart", () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  const receiver = new Receiver();
  const children: ServerChild[] = [];
  // Every child shares the key that encrypts the endpoints' secrets, as instances of one deployment do.
  const keyEncryptionKey = randomBytes(32).toString("base64url");
  const TIMEOUT_MS = 1_500; // the lease is 2 x this + 5 s

  const startChild = async (): Promise<{ child: ServerChild; origin: string }> => {
    const child = await startServerChild({
      databaseUrl: database.url,
      sandboxClientSecret: TEST_SANDBOX_SECRET,
      readyTimeoutMs: 60_000,
      env: {
        KEY_ENCRYPTION_KEY: keyEncryptionKey,
        // stderr is kept by server-child.ts, not printed; errors only, shown when an assertion fails.
        LOG_LEVEL: "error",
        RELAY_POLL_MS: "100",
        WEBHOOK_POLL_MS: "100",
        WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
        WEBHOOK_BACKOFF_BASE_MS: "100",
        WEBHOOK_BACKOFF_MAX_MS: "500",
        WEBHOOK_MAX_ATTEMPTS: "20",
      },
    });
    children.push(child);
    return { child, origin: new URL(child.gatewayUrl).origin };
  };

  before(async () => {
    ({ database, prisma } = await createRealtimeDatabase());
    await receiver.start();
  });

  after(async () => {
    // Every child, killed or not, whatever the test did.
    await Promise.all(children.map((child) => child.stop().catch(() => undefined)));
    await receiver.stop();
    await prisma?.$disconnect();
    await database?.drop();
  });

  test("deliveries in flight when the process dies are sent again after the lease, same webhook-id; ones raised while down arrive too", async (t) => {
    const first = await startChild();
    await consentToAlerts(first.origin);
    receiver.script.set("/partner", { hang: true });
    const endpoint = await registerEndpoint(first.origin, `${receiver.origin}/partner`);

    // Three alerts the dispatcher claims together and sends; the receiver takes them and never answers.
    const inFlight = await raiseAlertsTogether(prisma, PERSON_A, 3);
    const held = await receiver.waitFor("/partner", 3, 15_000);
    const heldSince = held[0]!.at;
    // Two more after them: each delivery goes out on its own, so the receiver holds these too.
    const queued = [await raiseAlert(prisma, PERSON_A), await raiseAlert(prisma, PERSON_A)];
    await receiver.waitFor("/partner", 5, 15_000);

    const killedAfterMs = Date.now() - heldSince;
    process.kill(first.child.pid, "SIGKILL");
    await first.child.stop(); // returns once the child has exited
    assert.equal(first.child.exitStatus(), "killed by SIGKILL");
    assert.ok(killedAfterMs < TIMEOUT_MS, `killed ${killedAfterMs} ms after the receiver took the requests: before the dispatcher's timeout`);

    const inFlightIds = await expectedMessageIds(prisma, [...inFlight, ...queued]);
    assert.deepEqual([...receiver.ids("/partner")].sort(), inFlightIds, "the receiver held the five in-flight deliveries");
    const leased = await prisma.webhookDelivery.findMany({ where: { endpointId: endpoint.id, eventId: { in: inFlightIds.map((id) => BigInt(id.slice(4))) } } });
    assert.equal(leased.length, 5);
    for (const row of leased) {
      // What the killed dispatcher left: still to send, no attempt recorded, leased for a while yet.
      assert.equal(row.status, "PENDING");
      assert.equal(row.attempts, 0);
      assert.ok(row.leasedUntil && row.leasedUntil.getTime() > Date.now(), "the lease outlives the process");
    }
    const leaseEnds = Math.max(...leased.map((row) => row.leasedUntil!.getTime()));
    const leaseEndOf = new Map(leased.map((row) => [`msg_${row.eventId}`, row.leasedUntil!.getTime()]));

    // No process runs: an alert raised now waits in the outbox.
    const whileDown = await raiseAlert(prisma, PERSON_A);
    const whileDownEvent = await prisma.outboxEvent.findFirstOrThrow({ where: { aggregateId: whileDown } });
    assert.equal(whileDownEvent.position, null, "nobody has relayed it");

    receiver.script.set("/partner", {});
    const second = await startChild();
    const readyBeforeLeaseEndsMs = leaseEnds - Date.now();
    t.diagnostic(`killed ${killedAfterMs} ms into the delivery; restarted process ready ${readyBeforeLeaseEndsMs} ms before the lease ended`);
    const allAlerts = [...inFlight, ...queued, whileDown];
    let rows;
    try {
      rows = await assertNothingLost(prisma, receiver, "/partner", endpoint, allAlerts, 30_000);
    } catch (error) {
      throw new Error(`${(error as Error).message}\nchild stderr:\n${second.child.stderrTail()}`);
    }

    const received = receiver.received.get("/partner")!;
    for (const id of inFlightIds) {
      const again = received.filter((delivery) => delivery.headers["webhook-id"] === id && delivery.attempt > 1);
      assert.equal(again.length, 1, `${id} is sent once more`);
      // The database and this process read the same clock; timestamps are kept to the millisecond.
      const ends = leaseEndOf.get(id)!;
      assert.ok(again[0]!.at >= ends - 5, `${id} was sent again ${ends - again[0]!.at} ms before its lease ended`);
    }
    if (readyBeforeLeaseEndsMs > 2_000) {
      // The restarted dispatcher was at work while the lease held (it sent the others) and left the leased rows alone.
      const others = await expectedMessageIds(prisma, [whileDown]);
      for (const id of others) {
        const arrival = received.find((delivery) => delivery.headers["webhook-id"] === id)!;
        assert.ok(arrival.at < leaseEnds, `${id} arrived ${arrival.at - leaseEnds} ms after the lease ended`);
      }
    }
    for (const row of rows) {
      assert.equal(row.attempts, 1, "the attempt cut short by the kill is not counted; the one that succeeded is");
      assert.equal(row.leasedUntil, null);
    }
  });
});
