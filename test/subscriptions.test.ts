import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import { decodeJwt, SignJWT } from "jose";
import WebSocket from "ws";
import type { PrismaClient } from "../platform/database/database.ts";
import { startTestKamina } from "./support/kamina.ts";
import type { TestDatabase } from "../testkit/postgres.ts";
import { type Closed, PERSON_A, PERSON_B, raiseAlert, createRealtimeDatabase, TestSubscription } from "./support/realtime.ts";
import { clientToken, consentToken, sandboxCredentials } from "../testkit/tokens.ts";

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

/** Fails when `promise` takes longer than `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** graphql-ws spoken by hand over a raw WebSocket, so a test can stop reading from the socket. */
async function rawSubscriber(graphqlUrl: string, authorization: string, query: string, options: WebSocket.ClientOptions = {}) {
  const socket = new WebSocket(graphqlUrl.replace(/^http/, "ws"), "graphql-transport-ws", options);
  const closed = new Promise<Closed>((resolve) => socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  await once(socket, "open");
  socket.send(JSON.stringify({ type: "connection_init", payload: { authorization } }));
  const [ack] = (await once(socket, "message")) as [Buffer];
  assert.equal(JSON.parse(ack.toString()).type, "connection_ack");
  let received = 0;
  socket.on("message", (data: Buffer) => {
    if (JSON.parse(data.toString()).type === "next") received++;
  });
  socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query } }));
  return { socket, closed, received: () => received };
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
    ({ database, prisma } = await createRealtimeDatabase());
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

  test("an operation that does not parse, or does not validate, gets its errors on the socket, every time it is sent", async () => {
    const errorsFor = async (query: string) => {
      const socket = new WebSocket(kamina.graphqlUrl.replace(/^http/, "ws"), "graphql-transport-ws");
      await once(socket, "open");
      socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: asA } }));
      await once(socket, "message");
      const answers: { type: string; payload?: { message: string; extensions?: { code?: string } }[] }[] = [];
      socket.on("message", (data: Buffer) => answers.push(JSON.parse(data.toString())));
      // The same text twice on one socket: parsed and validated documents are shared, errors too.
      socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query } }));
      socket.send(JSON.stringify({ id: "2", type: "subscribe", payload: { query } }));
      await within(
        (async () => {
          while (answers.length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
        })(),
        5_000,
        "two answers",
      );
      socket.close();
      return answers;
    };
    for (const [query, code, expected] of [
      ["subscription { alertCreated { id ", "GRAPHQL_PARSE_FAILED", /Syntax Error/],
      ["subscription { alertCreated { id noSuchField } }", "GRAPHQL_VALIDATION_FAILED", /Cannot query field "noSuchField"/],
    ] as const) {
      const answers = await errorsFor(query);
      assert.deepEqual(answers.map((answer) => answer.type), ["error", "error"], JSON.stringify(answers));
      for (const answer of answers) {
        assert.match(answer.payload?.[0]?.message ?? "", expected);
        assert.equal(answer.payload?.[0]?.extensions?.code, code);
      }
    }
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

  test("revoking a consent closes its subscriptions on every instance within a second, before any new event", async () => {
    const second = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 4 }, ENV);
    try {
      const token = await consentToken(kamina, PERSON_A);
      const kept = subscribe(kamina.graphqlUrl, asA, SIMPLE, { minSeverity: "CRITICAL" });
      const base = kamina.gateway!.subscriptions.hub.size.subscribers;
      const here = subscribe(kamina.graphqlUrl, `Bearer ${token}`, SIMPLE);
      const there = subscribe(second.graphqlUrl, `Bearer ${token}`, SIMPLE);
      await subscribed(kamina, base);
      await subscribed(second, 0);
      const events = await prisma.outboxEvent.count();
      const response = await fetch(`${kamina.gateway!.origin}/v1/consents/${consentIdOf(token)}`, {
        method: "DELETE",
        headers: { "content-type": "application/json", ...sandboxCredentials(kamina) },
        body: JSON.stringify({ reason: "the person withdrew it" }),
      });
      assert.equal(response.status, 200);
      const [closedHere, closedThere] = await Promise.all([within(here.closed, 10_000, "this instance"), within(there.closed, 10_000, "the other instance")]);
      assert.equal(closedHere.code, 4403);
      assert.equal(closedThere.code, 4403);
      assert.equal(await prisma.outboxEvent.count(), events, "no event was published meanwhile: the revocation itself closed them");
      // Another consent of the same person is untouched.
      const id = await raiseAlert(prisma, PERSON_A, { severity: "CRITICAL" });
      const [result] = await kept.take(1);
      assert.equal(alertOf(result!).id, id);
    } finally {
      await second.stop();
    }
  });

  test("revoking the access token (RFC 7009) closes its subscription", async () => {
    const token = await consentToken(kamina, PERSON_A);
    const base = kamina.gateway!.subscriptions.hub.size.subscribers;
    const subscription = subscribe(kamina.graphqlUrl, `Bearer ${token}`, SIMPLE);
    await subscribed(kamina, base);
    const response = await fetch(`${kamina.gateway!.origin}/v1/auth/revoke`, {
      method: "POST",
      headers: { "content-type": "application/json", ...sandboxCredentials(kamina) },
      body: JSON.stringify({ token }),
    });
    assert.equal(response.status, 200);
    const closed = await within(subscription.closed, 10_000, "the revoked token's subscription");
    assert.equal(closed.code, 4403);
    assert.match(closed.reason, /revoked/i);
  });

  describe("close codes: 4403 means stop, 4401 means refresh, the same at connect and on a live socket", () => {
    const revokeConsent = async (token: string) => {
      const response = await fetch(`${kamina.gateway!.origin}/v1/consents/${consentIdOf(token)}`, {
        method: "DELETE",
        headers: { "content-type": "application/json", ...sandboxCredentials(kamina) },
        body: JSON.stringify({ reason: "the person withdrew it" }),
      });
      assert.equal(response.status, 200);
    };
    /** A copy of a genuine consent token with other times, signed with the gateway's own key. */
    const resigned = async (token: string, changes: { iat: number; exp: number }) => {
      const signer = await kamina.gateway!.auth.keys.signer();
      const claims = decodeJwt(token);
      return new SignJWT({ ...claims, ...changes, nbf: changes.iat }).setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid: signer.kid }).sign(signer.key);
    };

    test("a revoked consent is refused at connect with 4403, as it closes a live socket", async () => {
      const token = await consentToken(kamina, PERSON_A);
      await revokeConsent(token);
      const closed = await within(subscribe(kamina.graphqlUrl, `Bearer ${token}`, SIMPLE).closed, 5_000, "the refused connection");
      assert.equal(closed.code, 4403, closed.reason);
      assert.match(closed.reason, /consent/i);
    });

    test("an expired consent closes a live socket with 4403 and is refused at connect with 4403", async () => {
      const token = await consentToken(kamina, PERSON_A);
      const base = kamina.gateway!.subscriptions.hub.size.subscribers;
      const live = subscribe(kamina.graphqlUrl, `Bearer ${token}`, SIMPLE);
      await subscribed(kamina, base);
      await prisma.consent.update({ where: { id: consentIdOf(token) }, data: { expiresAt: new Date(Date.now() - 1_000) } });
      await raiseAlert(prisma, PERSON_A); // the per-event check finds it
      const closedLive = await within(live.closed, 5_000, "the live socket");
      assert.equal(closedLive.code, 4403, closedLive.reason);
      assert.equal(live.results.length, 0, "nothing delivered under an expired consent");
      const closedAtConnect = await within(subscribe(kamina.graphqlUrl, `Bearer ${token}`, SIMPLE).closed, 5_000, "the refused connection");
      assert.equal(closedAtConnect.code, 4403, closedAtConnect.reason);
      assert.equal(closedAtConnect.reason, closedLive.reason, "the same refusal, in the same words");
    });

    test("a revoked access token is refused at connect with 4403", async () => {
      const token = await consentToken(kamina, PERSON_A);
      const response = await fetch(`${kamina.gateway!.origin}/v1/auth/revoke`, {
        method: "POST",
        headers: { "content-type": "application/json", ...sandboxCredentials(kamina) },
        body: JSON.stringify({ token }),
      });
      assert.equal(response.status, 200);
      const closed = await within(subscribe(kamina.graphqlUrl, `Bearer ${token}`, SIMPLE).closed, 5_000, "the refused connection");
      assert.equal(closed.code, 4403, closed.reason);
    });

    test("an expired access token is refused at connect with 4401, and a live socket closes with 4401 when its token expires", async () => {
      const genuine = await consentToken(kamina, PERSON_A);
      const now = Math.floor(Date.now() / 1000);
      const expired = await resigned(genuine, { iat: now - 7_200, exp: now - 60 });
      const refused = await within(subscribe(kamina.graphqlUrl, `Bearer ${expired}`, SIMPLE).closed, 5_000, "the refused connection");
      assert.equal(refused.code, 4401, refused.reason);
      assert.match(refused.reason, /expired/);

      const expiring = await resigned(genuine, { iat: now - 60, exp: now + 2 });
      const base = kamina.gateway!.subscriptions.hub.size.subscribers;
      const live = subscribe(kamina.graphqlUrl, `Bearer ${expiring}`, SIMPLE);
      await subscribed(kamina, base);
      const closed = await within(live.closed, 6_000, "the expiring token's socket");
      assert.equal(closed.code, 4401, closed.reason);
      assert.match(closed.reason, /expired/);
    });
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

describe("gateway restarts and slow subscribers", () => {
  let database: TestDatabase;
  let prisma: PrismaClient;

  before(async () => {
    ({ database, prisma } = await createRealtimeDatabase());
  });

  after(async () => {
    await prisma?.$disconnect();
    await database?.drop();
  });

  test("a subscriber resumes by cursor on a restarted gateway: what was raised while it was down, in order, none twice, then live ones", async () => {
    const target = { kind: "postgres", url: database.url, poolSize: 4 } as const;
    const original = await startTestKamina(target, ENV);
    const token = `Bearer ${await consentToken(original, PERSON_A)}`;
    let cursor: string;
    const first = new TestSubscription(original.graphqlUrl, token, SIMPLE);
    try {
      await subscribed(original, 0);
      const a1 = await raiseAlert(prisma, PERSON_A);
      const [r1] = await first.take(1);
      assert.equal(alertOf(r1!).id, a1);
      cursor = (r1!.extensions as { cursor: string }).cursor;
    } finally {
      await original.stop();
    }
    assert.equal((await first.closed).code, 1001, "a stopping gateway says so");
    await first.dispose();

    // Nothing runs: the alerts wait in the outbox, unpublished.
    const missed = [];
    for (let i = 0; i < 3; i++) missed.push(await raiseAlert(prisma, PERSON_A));

    const restarted = await startTestKamina(target, ENV);
    try {
      const resumed = new TestSubscription(restarted.graphqlUrl, token, SIMPLE, { after: cursor });
      const replayed = await resumed.take(3);
      assert.deepEqual(replayed.map((result) => alertOf(result).id), missed);
      const live = await raiseAlert(prisma, PERSON_A);
      const all = await resumed.take(4);
      assert.deepEqual(all.map((result) => alertOf(result).id), [...missed, live]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(resumed.results.length, 4, "none twice");
      await resumed.dispose();
    } finally {
      await restarted.stop();
    }
  });

  test("a subscriber that stops reading is closed with 4410, and one on the same stream still receives every event on time", async () => {
    const gateway = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 4 }, { ...ENV, SUBSCRIPTION_QUEUE: "4" });
    const query = "subscription { alertCreated { id contributingFactors } }";
    try {
      const token = `Bearer ${await consentToken(gateway, PERSON_A)}`;
      const hub = gateway.gateway!.subscriptions.hub;
      const slow = await rawSubscriber(gateway.graphqlUrl, token, query);
      const fast = new TestSubscription(gateway.graphqlUrl, token, query);
      await subscribed(gateway, 0, 2);
      assert.equal(hub.size.streams, 1, "both are members of one shared stream");
      // Stop reading: the kernel's socket buffers fill, then the gateway's bounded queue.
      slow.socket.pause();
      // About 200 KB per event: a few dozen fill the loopback socket buffers (how many depends on
      // the kernel), so events go out in batches until the gateway gives up on the slow one.
      const factors = Array.from({ length: 4_000 }, (_, i) => `factor_${String(i).padStart(4, "0")}_${"x".repeat(36)}`);
      const raised: string[] = [];
      // Until one whole batch has gone out after the gateway closed the slow subscriber.
      for (let batch = 0, slowGone = false; !slowGone; batch++) {
        assert.ok(batch < 40, `the slow subscriber was still open after ${raised.length} events`);
        slowGone = hub.size.subscribers === 1;
        for (let i = 0; i < 10; i++) raised.push(await raiseAlert(prisma, PERSON_A, { contributingFactors: factors }));
        const sentAt = Date.now();
        await fast.take(raised.length, 30_000);
        const lag = Date.now() - sentAt;
        assert.ok(lag < 5_000, `the fast subscriber waited ${lag} ms for batch ${batch}`);
      }
      assert.deepEqual(fast.results.map((result) => alertOf(result).id), raised, "every event, in order, none twice");
      slow.socket.resume();
      const closed = await within(slow.closed, 10_000, "the slow subscriber's close");
      assert.equal(closed.code, 4410);
      assert.match(closed.reason, /after/);
      assert.ok(slow.received() < raised.length, `the slow subscriber got ${slow.received()} of ${raised.length}`);
      await fast.dispose();
    } finally {
      await gateway.stop();
    }
  });

  test("a socket that stops answering pings is dropped, and one that answers stays open and keeps receiving", async () => {
    const gateway = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 4 }, { ...ENV, SUBSCRIPTION_KEEPALIVE_SECONDS: "1" });
    try {
      const token = `Bearer ${await consentToken(gateway, PERSON_A)}`;
      // A peer whose network path died: it reads pings but never answers them.
      const silent = await rawSubscriber(gateway.graphqlUrl, token, SIMPLE, { autoPong: false });
      let pings = 0;
      silent.socket.on("ping", () => pings++);
      const alive = new TestSubscription(gateway.graphqlUrl, token, SIMPLE);
      await subscribed(gateway, 0, 2);

      const closed = await within(silent.closed, 5_000, "the silent socket's drop");
      assert.equal(closed.code, 1006, "dropped without a closing handshake");
      assert.ok(pings >= 1, "it was pinged before it was dropped");
      const hub = gateway.gateway!.subscriptions.hub;
      for (const deadline = Date.now() + 2_000; hub.size.subscribers !== 1 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(hub.size.subscribers, 1, "the gateway let go of the dropped one");

      // The answering one has been pinged just as often and is still served.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const id = await raiseAlert(prisma, PERSON_A);
      const [result] = await alive.take(1);
      assert.equal(alertOf(result!).id, id);
      await alive.dispose();
    } finally {
      await gateway.stop();
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
    ({ database, prisma } = await createRealtimeDatabase());
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
