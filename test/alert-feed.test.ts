import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { alertFeedOf } from "../subgraphs/alerts/alert-feed.ts";
import { postGraphQL } from "./support/kamina.ts";
import { startSeededKamina, stopSeededKamina } from "./support/seeded-kamina.ts";
import { bearer, consentToken } from "../testkit/tokens.ts";

const PERSON = "USR_42891";
const SINCE = "2020-01-01T00:00:00.000Z";

describe("GET /v1/alerts pages so that a poller never misses an alert", () => {
  let parts: Awaited<ReturnType<typeof startSeededKamina>>;
  let sql: pg.Client;
  let origin: string;
  let reader: Record<string, string>;
  let writer: Record<string, string>;

  before(async () => {
    parts = await startSeededKamina({ users: 8, seed: 21, poolSize: 4 });
    sql = parts.sql;
    origin = new URL(parts.kamina.graphqlUrl).origin;
    reader = bearer(await consentToken(parts.kamina, PERSON, ["alerts.read"]));
    writer = bearer(await consentToken(parts.kamina, PERSON, ["alerts.read", "alerts.write"]));
  });

  after(async () => {
    await stopSeededKamina(parts ?? {});
  });

  /** Alerts and their outbox events in one transaction, all stamped `createdAt` (ties on purpose). */
  async function insertAlerts(count: number, createdAt: Date): Promise<string[]> {
    const ids = Array.from({ length: count }, () => `alr_feed_${randomBytes(6).toString("hex")}`);
    await sql.query("BEGIN");
    for (const id of ids) {
      await sql.query(
        `INSERT INTO alert (id, user_id, country, type, risk_band, severity, contributing_factors, suggested_action, status, created_at)
         SELECT $1, id, country, 'expense_spike', 'AMBER', 'MEDIUM', ARRAY['expense_spike'], 'budget_coaching_nudge', 'OPEN', $3 FROM app_user WHERE id = $2`,
        [id, PERSON, createdAt],
      );
      await sql.query(`INSERT INTO outbox_event (topic, aggregate_id, country, payload, created_at) SELECT 'alert.created', $1, country, '{}'::jsonb, $3 FROM app_user WHERE id = $2`, [id, PERSON, createdAt]);
    }
    await sql.query("COMMIT");
    await published();
    return ids;
  }

  /** Waits until the relay has given every outbox event its position. */
  async function published(): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const { rows } = await sql.query<{ pending: number }>("SELECT count(*)::int AS pending FROM outbox_event WHERE position IS NULL");
      if (rows[0]!.pending === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error("the outbox relay did not publish the events");
  }

  async function get(path: string, headers = reader): Promise<{ status: number; body: any }> {
    const response = await fetch(`${origin}${path}`, { headers });
    return { status: response.status, body: await response.json() };
  }

  async function page(cursor: string | null, limit: number): Promise<{ ids: string[]; next: string | null; more: boolean }> {
    const { status, body } = await get(`/v1/alerts?since=${SINCE}&limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
    assert.equal(status, 200, JSON.stringify(body));
    return { ids: body.items.map((item: { id: string }) => item.id), next: body.page.next_cursor, more: body.page.has_more };
  }

  async function drain(cursor: string | null, limit: number): Promise<{ ids: string[]; cursor: string | null; pages: number }> {
    const ids: string[] = [];
    let pages = 0;
    for (;;) {
      const result = await page(cursor, limit);
      pages++;
      ids.push(...result.ids);
      cursor = result.next;
      if (!result.more) return { ids, cursor, pages };
    }
  }

  let cursorAfterAll: string | null = null;

  test("pages of 3 hand out every alert once, in publication order, ties on created_at included", async () => {
    const tied = await insertAlerts(7, new Date("2026-03-01T10:00:00.000Z"));
    const { ids, cursor, pages } = await drain(null, 3);
    const { rows } = await sql.query<{ id: string }>("SELECT id FROM alert WHERE user_id = $1 AND created_at >= $2", [PERSON, SINCE]);
    assert.equal(new Set(ids).size, ids.length, "no alert twice");
    assert.deepEqual([...ids].sort(), rows.map((row) => row.id).sort(), "every alert");
    assert.deepEqual(ids.slice(-7), tied, "the seven tied alerts in the order they were published, after the seeded history");
    assert.ok(pages >= 3);
    assert.ok(cursor, "a cursor to poll from");
    cursorAfterAll = cursor;
    const again = await page(cursor, 3);
    assert.deepEqual([again.ids, again.next, again.more], [[], cursor, false], "nothing new: the same cursor back");
  });

  test("an alert committed after the last page comes after the cursor, even stamped earlier than every alert read", async () => {
    assert.ok(cursorAfterAll);
    const [late] = await insertAlerts(1, new Date("2021-06-01T00:00:00.000Z"));
    const next = await drain(cursorAfterAll, 3);
    assert.deepEqual(next.ids, [late]);
    cursorAfterAll = next.cursor;
  });

  test("alerts committed while a poller is between pages are not missed", async () => {
    const first = await page(null, 2);
    const during = await insertAlerts(2, new Date("2020-02-02T00:00:00.000Z"));
    const rest = await drain(first.next, 2);
    const seen = [...first.ids, ...rest.ids];
    for (const id of during) assert.ok(seen.includes(id), `${id} was handed out`);
    assert.equal(new Set(seen).size, seen.length);
  });

  test("a cursor this route did not write, a bad limit or a bad since is BAD_USER_INPUT", async () => {
    for (const query of ["cursor=not-a-cursor", `cursor=${Buffer.from('["x"]').toString("base64url")}`, "limit=101", "limit=-1", "since=yesterday", "cursor=%27%3B--"]) {
      const { status, body } = await get(`/v1/alerts?${query}`);
      assert.equal(status, 400, `${query}: ${JSON.stringify(body)}`);
      assert.equal(body.code, "BAD_USER_INPUT", query);
    }
  });

  test("acknowledged_at and resolved_at: REST and GraphQL show when, and acting needs alerts.write", async () => {
    const [id] = await insertAlerts(1, new Date());
    const refused = await fetch(`${origin}/v1/alerts/${id}/acknowledge`, { method: "POST", headers: reader });
    const refusal = (await refused.json()) as { code: string };
    assert.equal(refusal.code, "UNAUTHORIZED_FIELD_OR_TYPE", "a consent to read changes nothing");
    const acknowledged = await fetch(`${origin}/v1/alerts/${id}/acknowledge`, { method: "POST", headers: writer });
    const acknowledgedBody = (await acknowledged.json()) as Record<string, any>;
    assert.equal(acknowledged.status, 200, JSON.stringify(acknowledgedBody));
    assert.equal(acknowledgedBody.status, "acknowledged");
    assert.ok(Date.parse(acknowledgedBody.acknowledged_at) > 0);
    assert.equal(acknowledgedBody.resolved_at, null);
    const twice = await fetch(`${origin}/v1/alerts/${id}/acknowledge`, { method: "POST", headers: writer });
    assert.deepEqual([twice.status, ((await twice.json()) as { code: string }).code], [409, "CONFLICT"]);
    const resolved = (await (await fetch(`${origin}/v1/alerts/${id}/resolve`, { method: "POST", headers: writer })).json()) as Record<string, any>;
    assert.equal(resolved.status, "resolved");
    assert.equal(resolved.acknowledged_at, acknowledgedBody.acknowledged_at);
    assert.ok(Date.parse(resolved.resolved_at) >= Date.parse(resolved.acknowledged_at));

    const listed = (await get(`/v1/alerts?since=${SINCE}&cursor=${cursorAfterAll}`)).body.items.find((item: { id: string }) => item.id === id);
    assert.deepEqual([listed.acknowledged_at, listed.resolved_at], [resolved.acknowledged_at, resolved.resolved_at]);
    const graph = await postGraphQL(parts.kamina.graphqlUrl, "{ me { alerts(first: 100) { id acknowledgedAt resolvedAt } } }", {}, reader);
    const node = graph.body.data?.me?.alerts.find((alert: { id: string }) => alert.id === id);
    assert.deepEqual([node.acknowledgedAt, node.resolvedAt].map((at: string) => new Date(at).toISOString()), [resolved.acknowledged_at, resolved.resolved_at].map((at: string) => new Date(at).toISOString()));
    for (const path of [`/v1/alerts/alr_nope/resolve`, `/v1/alerts/${"x".repeat(80)}/resolve`]) {
      const missing = await fetch(`${origin}${path}`, { method: "POST", headers: writer });
      assert.deepEqual([missing.status, ((await missing.json()) as { code: string }).code], [404, "NOT_FOUND"], path);
    }
  });
});

describe("the feed's cursors around an alert not yet published", () => {
  const alert = (id: string, createdAt: string) => ({
    id,
    userId: PERSON,
    type: "expense_spike",
    riskBand: "AMBER" as const,
    severity: "MEDIUM" as const,
    contributingFactors: [],
    suggestedAction: "budget_coaching_nudge",
    status: "OPEN" as const,
    createdAt: new Date(createdAt),
    acknowledgedAt: null,
    resolvedAt: null,
  });

  test("a pending alert is listed last and carries the cursor of the last published one, so resuming returns it again", () => {
    const rows = [
      { ...alert("alr_a", "2026-01-01T00:00:00Z"), position: 4n, pending: false },
      { ...alert("alr_b", "2026-01-02T00:00:00Z"), position: 9n, pending: false },
      { ...alert("alr_c", "2025-12-31T00:00:00Z"), position: null, pending: true },
    ];
    const feed = alertFeedOf(rows, { limit: 10 });
    assert.deepEqual(feed.edges.map((edge) => edge.node.id), ["alr_a", "alr_b", "alr_c"]);
    assert.equal(feed.edges[2]!.cursor, feed.edges[1]!.cursor);
    assert.equal(feed.pageInfo.endCursor, feed.edges[1]!.cursor);
    assert.equal(feed.pageInfo.hasNextPage, false);
    const onlyPending = alertFeedOf([rows[2]!], { limit: 10, after: feed.edges[1]!.cursor });
    assert.equal(onlyPending.pageInfo.endCursor, feed.edges[1]!.cursor, "a page of pending alerts keeps the cursor where it was");
  });
});
