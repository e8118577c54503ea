// What a partner debugging its webhook receiver can see: GET /v1/webhooks/{id}/deliveries, a
// warning log line per failed attempt, and replaying delivered events of a window.
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { loadConfig } from "../platform/config/config.ts";
import type { PrismaClient } from "../platform/database/database.ts";
import { startRealtimeWorkers, type RunningRealtimeWorkers } from "../runtime/realtime-workers.ts";
import { startTestKamina } from "./support/kamina.ts";
import { PERSON_A, createRealtimeDatabase, raiseAlert } from "./support/realtime.ts";
import type { TestDatabase } from "../testkit/postgres.ts";
import { ContractChecker } from "../testkit/openapi-contract.ts";
import { consentToken, sandboxCredentials } from "../testkit/tokens.ts";
import { Receiver } from "../testkit/webhook-receiver.ts";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

// Attempts about a second apart (half of each step random), so a test can see a delivery between two.
const WEBHOOKS = { RELAY_POLL_MS: "100", WEBHOOK_POLL_MS: "50", WEBHOOK_BACKOFF_BASE_MS: "1200", WEBHOOK_BACKOFF_MAX_MS: "1200", WEBHOOK_MAX_ATTEMPTS: "3" };

describe("webhook deliveries a partner can see", () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  let workers: RunningRealtimeWorkers;
  let checker: ContractChecker;
  const receiver = new Receiver();
  /** The realtime workers' log lines, as JSON. */
  const logLines: Json[] = [];

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${kamina.gateway!.origin}${path}`, {
      method,
      headers: { "content-type": "application/json", ...sandboxCredentials(kamina) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const answer = { method, path, status: response.status, contentType: response.headers.get("content-type"), body: text === "" ? null : (JSON.parse(text) as Json) };
    assert.deepEqual(checker.problems(answer), [], `answers as documented: ${JSON.stringify(answer)}`);
    return answer as { status: number; body: Json };
  };
  const register = async (path: string) => {
    const created = await call("POST", "/v1/webhooks", { url: `${receiver.origin}${path}`, events: ["alert.created"] });
    assert.equal(created.status, 201);
    return created.body as { id: string; secret: string };
  };
  const deliveries = async (id: string, query = "") => (await call("GET", `/v1/webhooks/${id}/deliveries${query}`)).body as { items: Json[]; page: { next_cursor: string | null } };
  async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  before(async () => {
    ({ database, prisma } = await createRealtimeDatabase());
    await receiver.start();
    const target = { kind: "postgres", url: database.url, poolSize: 4 } as const;
    // The gateway without its own workers: these run beside it with a logger the test reads.
    kamina = await startTestKamina(target, { ...WEBHOOKS, REALTIME_WORKERS: "false" });
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) logLines.push(JSON.parse(line) as Json);
        done();
      },
    });
    workers = await startRealtimeWorkers(loadConfig({ LOG_LEVEL: "silent", DAILY_BATCH_HOUR: "off", ...WEBHOOKS }), target, pino({ level: "warn" }, sink));
    checker = new ContractChecker((await (await fetch(`${kamina.gateway!.origin}/v1/openapi.json`)).json()) as Json);
    await consentToken(kamina, PERSON_A, ["alerts.read"]);
  });

  after(async () => {
    await workers?.stop();
    await kamina?.stop();
    await receiver.stop();
    await prisma?.$disconnect();
    await database?.drop();
  });

  test("a receiver that refuses every delivery (as one failing verification does): a warning per attempt, and the delivery's state at each step", async () => {
    receiver.script.set("/refuses", { statuses: [401] });
    const endpoint = await register("/refuses");
    await raiseAlert(prisma, PERSON_A);

    // Between the first and the second attempt: failed, with its next attempt ahead.
    await waitFor(async () => (await deliveries(endpoint.id)).items[0]?.status === "failed", "the first failed attempt");
    const failing = (await deliveries(endpoint.id)).items[0]!;
    assert.equal(failing.attempts, 1);
    assert.equal(failing.last_status_code, 401);
    assert.equal(failing.last_error, "The endpoint answered 401");
    assert.ok(Date.parse(failing.next_attempt_at) > Date.now() - 100, `next attempt ${failing.next_attempt_at}`);
    assert.equal(failing.delivered_at, null);

    await waitFor(async () => (await deliveries(endpoint.id)).items[0]?.status === "dead", "the last attempt");
    const [dead] = (await deliveries(endpoint.id)).items;
    assert.deepEqual(
      { status: dead!.status, attempts: dead!.attempts, last_status_code: dead!.last_status_code, next_attempt_at: dead!.next_attempt_at, event: dead!.event },
      { status: "dead", attempts: 3, last_status_code: 401, next_attempt_at: null, event: "alert.created" },
    );
    const sent = receiver.received.get("/refuses")!;
    assert.equal(sent.length, 3);
    assert.equal(dead!.message_id, sent[0]!.headers["webhook-id"], "the id the receiver logged");

    const warnings = logLines.filter((line) => line.endpointId === endpoint.id);
    assert.deepEqual(
      warnings.map((line) => [line.level, line.messageId, line.attempt, line.status, line.dead]),
      [
        [40, dead!.message_id, 1, 401, false],
        [40, dead!.message_id, 2, 401, false],
        [40, dead!.message_id, 3, 401, true],
      ],
    );
    assert.equal(warnings[0]!.error, "The endpoint answered 401");
    const text = JSON.stringify(warnings);
    for (const leak of [endpoint.secret, endpoint.secret.slice("whsec_".length), receiver.origin, PERSON_A, "soft_outreach_v2", "missed_due_date"]) {
      assert.ok(!text.includes(leak), `no secret, URL or payload in the log: found ${leak}`);
    }
  });

  test("deliveries are listed newest first, a page at a time, filtered by status; bad input is a 400 naming it", async () => {
    const endpoint = await register("/pages");
    for (let i = 0; i < 3; i++) await raiseAlert(prisma, PERSON_A);
    await receiver.waitFor("/pages", 3);
    await waitFor(async () => (await deliveries(endpoint.id, "?status=delivered")).items.length === 3, "three delivered");

    const first = await deliveries(endpoint.id, "?limit=2");
    assert.equal(first.items.length, 2);
    assert.ok(first.page.next_cursor);
    const second = await deliveries(endpoint.id, `?limit=2&cursor=${first.page.next_cursor}`);
    assert.equal(second.items.length, 1);
    assert.equal(second.page.next_cursor, null);
    const ids = [...first.items, ...second.items].map((item) => item.message_id as string);
    const order = ids.map((id) => Number(id.slice("msg_".length)));
    assert.deepEqual(order, [...order].sort((a, b) => b - a), "newest event first");
    assert.deepEqual(new Set(ids), receiver.ids("/pages"));
    for (const item of [...first.items, ...second.items]) {
      assert.equal(item.status, "delivered");
      assert.equal(item.last_status_code, 200);
      assert.equal(item.last_error, null);
      assert.equal(item.next_attempt_at, null);
      assert.ok(item.delivered_at);
    }
    assert.equal((await deliveries(endpoint.id, "?status=dead")).items.length, 0);

    const badStatus = await call("GET", `/v1/webhooks/${endpoint.id}/deliveries?status=lost`);
    assert.equal(badStatus.status, 400);
    assert.match(badStatus.body.message, /`status` must be one of pending, delivered, failed, dead/);
    const badCursor = await call("GET", `/v1/webhooks/${endpoint.id}/deliveries?cursor=nope`);
    assert.equal(badCursor.status, 400);
    assert.match(badCursor.body.message, /cursor/);
    assert.equal((await call("GET", `/v1/webhooks/${endpoint.id}/deliveries?limit=0`)).status, 400);
    assert.equal((await call("GET", "/v1/webhooks/whe_unknown/deliveries")).status, 404);
  });

  test("replay re-sends delivered events only when asked, only those of the window, with their webhook-id", async () => {
    const endpoint = await register("/debugging");
    const start = new Date();
    await raiseAlert(prisma, PERSON_A);
    await receiver.waitFor("/debugging", 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const between = new Date();
    await raiseAlert(prisma, PERSON_A);
    await raiseAlert(prisma, PERSON_A);
    await receiver.waitFor("/debugging", 3);
    await waitFor(async () => (await deliveries(endpoint.id, "?status=delivered")).items.length === 3, "three delivered");
    const firstId = receiver.received.get("/debugging")![0]!.headers["webhook-id"];

    const plain = await call("POST", `/v1/webhooks/${endpoint.id}/replay`, {});
    assert.deepEqual(plain.body, { id: endpoint.id, replayed: 0 }, "without the flag, delivered ones stay delivered");
    const noWindow = await call("POST", `/v1/webhooks/${endpoint.id}/replay`, { include_delivered: true });
    assert.equal(noWindow.status, 400);
    assert.match(noWindow.body.message, /`since` is required with `include_delivered`/);
    assert.equal((await call("POST", `/v1/webhooks/${endpoint.id}/replay`, { since: between.toISOString(), until: start.toISOString() })).status, 400);
    assert.equal((await call("POST", `/v1/webhooks/${endpoint.id}/replay`, { include_delivered: "yes" })).status, 400);

    const windowed = await call("POST", `/v1/webhooks/${endpoint.id}/replay`, { since: start.toISOString(), until: between.toISOString(), include_delivered: true });
    assert.equal(windowed.status, 202);
    assert.deepEqual(windowed.body, { id: endpoint.id, replayed: 1 });
    const [, , , again] = await receiver.waitFor("/debugging", 4);
    assert.equal(again!.headers["webhook-id"], firstId, "the same webhook-id: a receiver that deduplicates sees a retry");
    await waitFor(async () => (await deliveries(endpoint.id, "?status=delivered")).items.length === 3, "delivered again");
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(receiver.received.get("/debugging")!.length, 4, "only the one in the window");
  });
});
