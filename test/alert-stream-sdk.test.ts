// The partner SDK's alert stream (sdk/js/alert-stream.ts) against the real gateway, used as the
// README uses it: across a gateway stopped and started again on the same port, an expired token,
// and a revocation.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { decodeJwt, SignJWT } from "jose";
import WebSocket from "ws";
import { subscribeToAlerts, type Alert, type AlertStreamStop, type RetryInfo } from "../sdk/js/alert-stream.ts";
import type { PrismaClient } from "../platform/database/database.ts";
import { startTestKamina } from "./support/kamina.ts";
import { PERSON_A, createRealtimeDatabase, raiseAlert } from "./support/realtime.ts";
import type { TestDatabase } from "../testkit/postgres.ts";
import { consentToken, sandboxCredentials } from "../testkit/tokens.ts";

type Kamina = Awaited<ReturnType<typeof startTestKamina>>;

const ENV = { SUBSCRIPTION_RECHECK_SECONDS: "60", RELAY_POLL_MS: "100", WEBHOOK_POLL_MS: "100" };
const FAST_RETRIES = { baseMs: 50, maxMs: 300 };

/** What a partner's handlers see, kept for the assertions. */
function recorder() {
  const alerts: { alert: Alert; cursor: string }[] = [];
  const retries: RetryInfo[] = [];
  const stops: AlertStreamStop[] = [];
  return {
    alerts,
    retries,
    stops,
    handlers: {
      onAlert: (alert: Alert, meta: { cursor: string }) => void alerts.push({ alert, cursor: meta.cursor }),
      onRetry: (info: RetryInfo) => void retries.push(info),
      onStop: (stop: AlertStreamStop) => void stops.push(stop),
    },
    ids: () => alerts.map(({ alert }) => alert.id),
  };
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

const subscribers = (kamina: Kamina) => kamina.gateway!.subscriptions.hub.size.subscribers;

describe("the SDK's alert stream across a gateway restart", () => {
  let database: TestDatabase;
  let prisma: PrismaClient;

  before(async () => {
    ({ database, prisma } = await createRealtimeDatabase());
  });

  after(async () => {
    await prisma?.$disconnect();
    await database?.drop();
  });

  test("alerts raised while the gateway is down arrive once it is back on the same port, in order, none lost, none twice", async () => {
    const target = { kind: "postgres", url: database.url, poolSize: 4 } as const;
    let gateway: Kamina | undefined = await startTestKamina(target, ENV);
    const port = new URL(gateway.graphqlUrl).port;
    const graphqlUrl = gateway.graphqlUrl;
    const seen = recorder();
    const stream = subscribeToAlerts({
      url: graphqlUrl,
      token: await consentToken(gateway, PERSON_A),
      webSocketImpl: WebSocket,
      retry: FAST_RETRIES,
      ...seen.handlers,
    });
    try {
      await until(() => subscribers(gateway!) === 1, "the first subscription");
      const raised = [await raiseAlert(prisma, PERSON_A)];
      await until(() => seen.alerts.length === 1, "the first alert");

      await gateway.stop();
      gateway = undefined;
      // Nothing runs: these wait in the outbox while the stream knocks on a closed port.
      for (let i = 0; i < 3; i++) raised.push(await raiseAlert(prisma, PERSON_A));
      await until(() => seen.retries.length >= 3, "reconnection attempts while the gateway is down");

      gateway = await startTestKamina(target, { ...ENV, PORT: port });
      assert.equal(gateway.graphqlUrl, graphqlUrl, "the same URL as before");
      await until(() => seen.alerts.length === 4, "the alerts raised during the downtime");
      await until(() => subscribers(gateway!) === 1, "the resumed subscription");
      raised.push(await raiseAlert(prisma, PERSON_A));
      await until(() => seen.alerts.length === 5, "a live alert after the resume");
      await new Promise((resolve) => setTimeout(resolve, 300));

      assert.deepEqual(seen.ids(), raised, "every alert once, in order");
      assert.equal(seen.retries[0]?.code, 1001, "the stopping gateway said so");
      assert.equal(seen.retries[0]?.cursor, seen.alerts[0]!.cursor, "it resumes after the last alert it handled");
      assert.ok(seen.retries.slice(1).every((retry) => retry.code === undefined || retry.code === 1006), JSON.stringify(seen.retries));
      assert.equal(stream.cursor, seen.alerts[4]!.cursor);
      assert.deepEqual(seen.stops, [], "it never gave up");
    } finally {
      const stopped = await stream.stop();
      assert.equal(stopped.reason, "stopped");
      assert.equal(seen.stops.length, 1, "onStop once");
      await gateway?.stop();
    }
  });
});

describe("the SDK's alert stream: tokens, revocation, bad input", () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let kamina: Kamina;

  const revokeConsent = async (token: string) => {
    const consentId = decodeJwt(token).consent_id as string;
    const response = await fetch(`${kamina.gateway!.origin}/v1/consents/${consentId}`, {
      method: "DELETE",
      headers: { "content-type": "application/json", ...sandboxCredentials(kamina) },
      body: JSON.stringify({ reason: "the person withdrew it" }),
    });
    assert.equal(response.status, 200);
  };
  /** A genuine token's claims with other times, signed with the gateway's key. */
  const resigned = async (token: string, changes: { iat: number; exp: number }) => {
    const signer = await kamina.gateway!.auth.keys.signer();
    return new SignJWT({ ...decodeJwt(token), ...changes, nbf: changes.iat }).setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid: signer.kid }).sign(signer.key);
  };

  before(async () => {
    ({ database, prisma } = await createRealtimeDatabase());
    kamina = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 4 }, ENV);
  });

  after(async () => {
    await kamina?.stop();
    await prisma?.$disconnect();
    await database?.drop();
  });

  test("a revoked consent stops the stream with reason `revoked` and 4403, and it does not retry", async () => {
    const token = await consentToken(kamina, PERSON_A);
    const seen = recorder();
    const base = subscribers(kamina);
    const stream = subscribeToAlerts({ url: kamina.graphqlUrl, token, webSocketImpl: WebSocket, retry: FAST_RETRIES, ...seen.handlers });
    await until(() => subscribers(kamina) === base + 1, "the subscription");
    await revokeConsent(token);
    const stopped = await within(stream.stopped, 3_000, "the stop");
    assert.equal(stopped.reason, "revoked");
    assert.equal(stopped.code, 4403);
    assert.match(stopped.message, /consent|revoked/i);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(seen.retries, [], "no retry loop");
    assert.equal(seen.stops.length, 1);
    assert.equal(subscribers(kamina), base, "no socket left open");
  });

  test("started on an already revoked consent, it stops at once with `revoked`", async () => {
    const token = await consentToken(kamina, PERSON_A);
    await revokeConsent(token);
    const seen = recorder();
    const stream = subscribeToAlerts({ url: kamina.graphqlUrl, token, webSocketImpl: WebSocket, retry: FAST_RETRIES, ...seen.handlers });
    const stopped = await within(stream.stopped, 3_000, "the stop");
    assert.equal(stopped.reason, "revoked");
    assert.equal(stopped.code, 4403);
    assert.deepEqual(seen.retries, []);
  });

  test("an expired token is refreshed through getToken and the stream resumes where it was, nothing lost", async () => {
    const genuine = await consentToken(kamina, PERSON_A);
    const now = Math.floor(Date.now() / 1000);
    const expiring = await resigned(genuine, { iat: now - 60, exp: now + 2 });
    const asked: boolean[] = [];
    const seen = recorder();
    const raised: string[] = [];
    let raisedDuringReconnect: Promise<string> | undefined;
    const stream = subscribeToAlerts({
      url: kamina.graphqlUrl,
      getToken: ({ refresh }) => {
        asked.push(refresh);
        return refresh ? genuine : expiring;
      },
      webSocketImpl: WebSocket,
      retry: FAST_RETRIES,
      ...seen.handlers,
      onRetry: (info) => {
        seen.retries.push(info);
        // An alert raised while it reconnects must come through too.
        raisedDuringReconnect ??= raiseAlert(prisma, PERSON_A);
      },
    });
    try {
      const base = subscribers(kamina);
      await until(() => subscribers(kamina) === base + 1, "the subscription");
      raised.push(await raiseAlert(prisma, PERSON_A));
      await until(() => seen.alerts.length === 1, "the alert before the expiry");
      await until(() => seen.retries.length === 1, "the expiry", 8_000);
      assert.equal(seen.retries[0]!.code, 4401);
      raised.push(await raisedDuringReconnect!);
      await until(() => seen.alerts.length === 2, "the alert raised while it reconnected");
      raised.push(await raiseAlert(prisma, PERSON_A));
      await until(() => seen.alerts.length === 3, "a live alert on the new token");
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(seen.ids(), raised, "every alert once, in order");
      assert.deepEqual(asked, [false, true], "asked for a fresh token once, after the 4401");
      assert.deepEqual(seen.stops, []);
    } finally {
      await stream.stop();
    }
  });

  test("an expired token without getToken stops with `unauthenticated`, and a refreshed token refused again stops too", async () => {
    const genuine = await consentToken(kamina, PERSON_A);
    const now = Math.floor(Date.now() / 1000);
    const expired = await resigned(genuine, { iat: now - 7_200, exp: now - 60 });
    const fixed = subscribeToAlerts({ url: kamina.graphqlUrl, token: expired, webSocketImpl: WebSocket, onAlert: () => undefined });
    const stopped = await within(fixed.stopped, 3_000, "the stop");
    assert.equal(stopped.reason, "unauthenticated");
    assert.equal(stopped.code, 4401);
    assert.match(stopped.message, /expired/);

    let asked = 0;
    const refreshing = subscribeToAlerts({
      url: kamina.graphqlUrl,
      getToken: () => (asked++, expired),
      webSocketImpl: WebSocket,
      onAlert: () => undefined,
    });
    const gaveUp = await within(refreshing.stopped, 3_000, "the stop");
    assert.equal(gaveUp.reason, "unauthenticated");
    assert.equal(asked, 2, "one refresh, then it stops rather than loop");
  });

  test("an operation the gateway refuses stops the stream with `rejected`; onAlert throwing stops it with `handler_failed` and the last good cursor", async () => {
    const token = await consentToken(kamina, PERSON_A);
    const refused = subscribeToAlerts({ url: kamina.graphqlUrl, token, webSocketImpl: WebSocket, after: "not-a-cursor", onAlert: () => undefined });
    const rejected = await within(refused.stopped, 3_000, "the stop");
    assert.equal(rejected.reason, "rejected");
    assert.ok(Array.isArray(rejected.error));

    let handled = 0;
    const base = subscribers(kamina);
    const failing = subscribeToAlerts({
      url: kamina.graphqlUrl,
      token,
      webSocketImpl: WebSocket,
      onAlert: () => {
        if (++handled === 2) throw new Error("the partner's database is down");
      },
    });
    await until(() => subscribers(kamina) === base + 1, "the subscription");
    await raiseAlert(prisma, PERSON_A);
    await until(() => handled === 1, "the first alert");
    const goodCursor = failing.cursor;
    assert.equal(typeof goodCursor, "string");
    await raiseAlert(prisma, PERSON_A);
    const stopped = await within(failing.stopped, 3_000, "the stop");
    assert.equal(stopped.reason, "handler_failed");
    assert.match(stopped.message, /database is down/);
    assert.equal(stopped.cursor, goodCursor, "resume from the last alert the handler accepted");
  });

  test("a query without $after is refused before anything is sent", () => {
    assert.throws(
      () => subscribeToAlerts({ url: kamina.graphqlUrl, token: "x", query: "subscription { alertCreated { id } }", onAlert: () => undefined }),
      /\$after/,
    );
  });
});
