import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { parse } from "csv-parse/sync";
import { startSeededKamina, stopSeededKamina, type SeededKamina } from "./support/seeded-kamina.ts";
import { assertEnvelope, rest } from "./support/rest.ts";
import { ContractChecker } from "../testkit/openapi-contract.ts";
import { bearer, clientToken, consentToken } from "../testkit/tokens.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
const DEBT_KEYS = ["apr", "balance", "currency", "due_date", "issuer", "status", "type"];
const EXPENSE_KEYS = ["amount", "category", "currency", "id", "mcc", "merchant", "occurred_at"];
const SESSION_KEYS = ["ended_at", "id", "intent", "message_count", "sentiment", "sentiment_label", "started_at"];
/** An issuer that needs RFC 4180 quoting: a comma, double quotes and a non-ASCII letter. */
const AWKWARD_ISSUER = 'Caja Popular "Mexicana", S.C. de A.P.';

function day(offset: number): string {
  return new Date(Date.now() + offset * DAY_MS).toISOString().slice(0, 10);
}

describe("the brief's debt, expense and coach routes, served over the same graph", () => {
  let seeded: SeededKamina;
  let origin: string;
  let asDemoUser: Record<string, string>;
  let asPartner: Record<string, string>;
  /** Another person, whose one consent to the sandbox client grants wellness.read alone. */
  let narrowUser: string;
  let asNarrowUser: Record<string, string>;

  before(async () => {
    seeded = await startSeededKamina({ users: 20, seed: 5, poolSize: 2 });
    origin = seeded.kamina.gateway!.origin;
    asDemoUser = bearer(await consentToken(seeded.kamina, "USR_42891"));
    asPartner = bearer(await clientToken(seeded.kamina));
    narrowUser = await unconsentedUser(seeded);
    asNarrowUser = bearer(await consentToken(seeded.kamina, narrowUser, ["wellness.read"]));
    await seeded.sql.query(
      `INSERT INTO debt (id, user_id, country, issuer, type, principal, balance, minimum_payment, currency, apr, due_date, status, opened_at)
       SELECT 'dbt_csv_quoting', id, country, $1, 'PERSONAL_LOAN', 500.00, 450.10, 25.00, 'MXN', 0.2875, current_date + 9, 'LATE', current_date - 200
       FROM app_user WHERE id = 'USR_42891'`,
      [AWKWARD_ISSUER],
    );
  });

  after(async () => {
    await stopSeededKamina(seeded ?? {});
  });

  test("GET /v1/debts lists each open balance with issuer and APR, shaped like the export's items", async () => {
    const response = await rest(origin, "GET", "/v1/debts", { headers: asDemoUser });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.deepEqual(Object.keys(response.body).sort(), ["items", "page"]);
    assert.deepEqual(response.body.page, { next_cursor: null });
    const open = await seeded.sql.query(`SELECT id FROM debt WHERE user_id = 'USR_42891' AND status <> 'PAID_OFF'`);
    assert.equal(response.body.items.length, open.rowCount);
    for (const item of response.body.items) {
      assert.deepEqual(Object.keys(item).sort(), DEBT_KEYS);
      assert.equal(typeof item.balance, "number");
      assert.equal(typeof item.apr, "number");
      assert.match(item.currency, /^[A-Z]{3}$/);
      assert.match(item.due_date, /^\d{4}-\d{2}-\d{2}$/);
      assert.notEqual(item.status, "paid_off");
    }
    const card = response.body.items.find((item: { issuer: string }) => item.issuer === "BBVA México");
    assert.deepEqual({ ...card, due_date: undefined }, { issuer: "BBVA México", type: "credit_card", balance: 12480.55, currency: "MXN", apr: 0.42, due_date: undefined, status: "current" });
    const loan = response.body.items.find((item: { issuer: string }) => item.issuer === "Banorte");
    assert.deepEqual([loan.type, loan.balance, loan.currency, loan.apr], ["installment", 28523.71, "MXN", 0.31]);
  });

  test("GET /v1/debts?status= narrows to one status, named as the brief writes enums", async () => {
    const late = await rest(origin, "GET", "/v1/debts?status=late", { headers: asDemoUser });
    assert.equal(late.status, 200, JSON.stringify(late.body));
    assert.ok(late.body.items.some((item: { issuer: string }) => item.issuer === AWKWARD_ISSUER));
    assert.ok(late.body.items.every((item: { status: string }) => item.status === "late"));
    const paidOff = await rest(origin, "GET", "/v1/debts?status=paid_off", { headers: asDemoUser });
    assert.equal(paidOff.status, 200, JSON.stringify(paidOff.body));
    const rows = await seeded.sql.query(`SELECT id FROM debt WHERE user_id = 'USR_42891' AND status = 'PAID_OFF'`);
    assert.equal(paidOff.body.items.length, rows.rowCount);
    assertEnvelope(await rest(origin, "GET", "/v1/debts?status=open", { headers: asDemoUser }), 400, "BAD_USER_INPUT", /current, late, defaulted, paid_off/);
    assertEnvelope(await rest(origin, "GET", "/v1/debts?status=LATE", { headers: asDemoUser }), 400, "BAD_USER_INPUT", /status/);
  });

  test("the CSV export writes an issuer a spreadsheet would run as a formula as text; the JSON keeps it as it is", async () => {
    const { rows } = await seeded.sql.query<{ id: string }>(`SELECT id FROM app_user WHERE id <> 'USR_42891' AND country = 'MX' ORDER BY id LIMIT 1`);
    const owner = rows[0]!.id;
    const formulas = ['=HYPERLINK("http://attacker.example","x")', "+1+1", "@SUM(A1)", "-2+3"];
    for (const [index, issuer] of formulas.entries()) {
      await seeded.sql.query(
        `INSERT INTO debt (id, user_id, country, issuer, type, principal, balance, minimum_payment, currency, apr, due_date, status, opened_at)
         VALUES ($1, $2, 'MX', $3, 'PERSONAL_LOAN', 100, 50, 5, 'MXN', 0.3, current_date + 5, 'CURRENT', current_date - 30)`,
        [`dbt_formula_${index}`, owner, issuer],
      );
    }
    const asOwner = bearer(await consentToken(seeded.kamina, owner));
    const json = await rest(origin, "GET", "/v1/exports/debts?format=json", { headers: asOwner });
    assert.equal(json.status, 200, JSON.stringify(json.body));
    for (const issuer of formulas) assert.ok(json.body.items.some((item: { issuer: string }) => item.issuer === issuer), issuer);
    const text = await (await fetch(`${origin}/v1/exports/debts?format=csv`, { headers: asOwner })).text();
    const issuers = parse<Record<string, string>>(text, { columns: true, record_delimiter: "\r\n" }).map((row) => row.issuer);
    for (const issuer of formulas) assert.ok(issuers.includes(`'${issuer}`), `${issuer} behind a quote in ${JSON.stringify(issuers)}`);
    assert.ok(!issuers.some((issuer) => /^[=+\-@]/.test(issuer ?? "")), "no cell starts a formula");
  });

  test("GET /v1/exports/debts?format=csv is the JSON export's items as RFC 4180 CSV", async () => {
    const json = await rest(origin, "GET", "/v1/exports/debts?format=json", { headers: asDemoUser });
    assert.equal(json.status, 200, JSON.stringify(json.body));
    const response = await fetch(`${origin}/v1/exports/debts?format=csv`, { headers: asDemoUser });
    const text = await response.text();
    assert.equal(response.status, 200, text);
    assert.equal(response.headers.get("content-type"), "text/csv; charset=utf-8");
    assert.match(response.headers.get("content-disposition") ?? "", /^attachment; filename="debts_USR_42891_\d{4}-\d{2}-\d{2}\.csv"$/);
    assert.ok(text.startsWith("issuer,type,balance,currency,apr,due_date,status\r\n"), text);
    assert.ok(text.endsWith("\r\n"));
    assert.ok(text.includes(`"Caja Popular ""Mexicana"", S.C. de A.P.",personal_loan,450.1,MXN,0.2875,`), text);
    assert.ok(text.includes("BBVA México,credit_card,12480.55,MXN,0.42,"), text);

    // csv-parse is strict by default: a stray quote or a short row is an error, not a guess.
    const rows = parse<Record<string, string>>(text, { columns: true, record_delimiter: "\r\n" });
    const items = rows.map((row) => ({ ...row, balance: Number(row.balance), apr: Number(row.apr) }));
    assert.deepEqual(items, json.body.items);
    assert.equal(items.length, (await seeded.sql.query(`SELECT id FROM debt WHERE user_id = 'USR_42891'`)).rowCount);
  });

  test("GET /v1/expenses pages categorised transactions between two dates, newest first", async () => {
    const [from, to] = [day(-89), day(0)];
    const seen: { id: string; occurred_at: string }[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const path: string = `/v1/expenses?from=${from}&to=${to}&limit=40${cursor ? `&cursor=${cursor}` : ""}`;
      const response = await rest(origin, "GET", path, { headers: asDemoUser });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.deepEqual(Object.keys(response.body).sort(), ["items", "page"]);
      assert.ok(response.body.items.length <= 40);
      for (const item of response.body.items) {
        assert.deepEqual(Object.keys(item).sort(), EXPENSE_KEYS);
        assert.match(item.mcc, /^\d{4}$/);
        assert.equal(typeof item.amount, "number");
        assert.match(item.currency, /^[A-Z]{3}$/);
        assert.ok(item.occurred_at.slice(0, 10) >= from && item.occurred_at.slice(0, 10) <= to, item.occurred_at);
      }
      seen.push(...response.body.items);
      cursor = response.body.page.next_cursor;
      pages++;
    } while (cursor !== null);

    const expected = await seeded.sql.query(
      `SELECT id FROM expense WHERE user_id = 'USR_42891' AND occurred_at >= $1::date AND occurred_at < $2::date + 1`,
      [from, to],
    );
    assert.ok(expected.rowCount! > 40, "the demo user has more than one page of expenses");
    assert.equal(pages, Math.ceil(expected.rowCount! / 40));
    assert.equal(new Set(seen.map((item) => item.id)).size, expected.rowCount);
    const times = seen.map((item) => Date.parse(item.occurred_at));
    assert.deepEqual(times, [...times].sort((a, b) => b - a));
  });

  test("GET /v1/expenses?category= keeps one category", async () => {
    const response = await rest(origin, "GET", `/v1/expenses?from=${day(-89)}&to=${day(0)}&category=groceries&limit=500`, { headers: asDemoUser });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.ok(response.body.items.length > 0);
    assert.ok(response.body.items.every((item: { category: string }) => item.category === "groceries"));
    assert.equal(response.body.page.next_cursor, null);
  });

  test("GET /v1/coach/sessions answers intent and sentiment, never the conversation, even when transcripts are granted", async () => {
    // The demo user's consent grants every user scope, coach.transcripts.read included.
    const response = await rest(origin, "GET", "/v1/coach/sessions", { headers: asDemoUser });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.deepEqual(Object.keys(response.body).sort(), ["items", "page"]);
    const sessions = await seeded.sql.query<{ started_at: Date }>(`SELECT started_at FROM coach_session WHERE user_id = 'USR_42891' ORDER BY started_at DESC`);
    assert.ok(sessions.rowCount! > 0, "the demo user has coach sessions");
    assert.equal(response.body.items.length, sessions.rowCount);
    for (const item of response.body.items) {
      assert.deepEqual(Object.keys(item).sort(), SESSION_KEYS);
      assert.ok(item.sentiment >= -1 && item.sentiment <= 1);
      assert.ok(["negative", "neutral", "positive"].includes(item.sentiment_label));
    }
    assert.ok(!JSON.stringify(response.body).includes("transcript"));

    // `from` and `to` are inclusive dates: the newest session's day alone holds it.
    const newest = sessions.rows[0]!.started_at.toISOString().slice(0, 10);
    const oneDay = await rest(origin, "GET", `/v1/coach/sessions?from=${newest}&to=${newest}`, { headers: asDemoUser });
    assert.equal(oneDay.status, 200, JSON.stringify(oneDay.body));
    const thatDay = sessions.rows.filter((row) => row.started_at.toISOString().slice(0, 10) === newest).length;
    assert.equal(oneDay.body.items.length, thatDay);
  });

  test("a partner token names the person with user_id and reads what that person's consent covers", async () => {
    for (const path of ["/v1/debts", `/v1/expenses?from=${day(-30)}&to=${day(0)}`, "/v1/coach/sessions", "/v1/exports/debts?format=json"]) {
      const own = await rest(origin, "GET", path, { headers: asDemoUser });
      const partner = await rest(origin, "GET", `${path}${path.includes("?") ? "&" : "?"}user_id=USR_42891`, { headers: asPartner });
      assert.equal(partner.status, 200, `${path}: ${JSON.stringify(partner.body)}`);
      assert.deepEqual({ ...partner.body, as_of: undefined }, { ...own.body, as_of: undefined }, path);
    }
    const csv = await fetch(`${origin}/v1/exports/debts?format=csv&user_id=USR_42891`, { headers: asPartner });
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get("content-disposition") ?? "", /filename="debts_USR_42891_/);
    await csv.arrayBuffer();
    assertEnvelope(await rest(origin, "GET", "/v1/debts?user_id=USR_00000001", { headers: asPartner }), 404, "NOT_FOUND");
    assertEnvelope(await rest(origin, "GET", `/v1/debts?user_id=${narrowUser}`, { headers: asPartner }), 403, "UNAUTHORIZED_FIELD_OR_TYPE");
  });

  test("a consent that does not grant the data answers 403 UNAUTHORIZED_FIELD_OR_TYPE", async () => {
    const brief = bearer(await consentToken(seeded.kamina, await unconsentedUser(seeded), ["wellness.read", "debts.read", "expenses.read"]));
    assertEnvelope(await rest(origin, "GET", "/v1/coach/sessions", { headers: brief }), 403, "UNAUTHORIZED_FIELD_OR_TYPE");
    for (const path of ["/v1/debts", `/v1/expenses?from=${day(-30)}&to=${day(0)}`, "/v1/coach/sessions", "/v1/exports/debts?format=csv"]) {
      assertEnvelope(await rest(origin, "GET", path, { headers: asNarrowUser }), 403, "UNAUTHORIZED_FIELD_OR_TYPE");
    }
  });

  test("bad parameters are a 400 in the envelope naming what is wrong", async () => {
    const range = `from=${day(-30)}&to=${day(0)}`;
    const cases: [string, RegExp][] = [
      ["/v1/expenses?from=2026-02-30&to=2026-03-01", /`from` must be a calendar date written YYYY-MM-DD/],
      ["/v1/expenses?from=2026-5-1&to=2026-05-08", /`from` must be a calendar date/],
      ["/v1/expenses?from=2026-05-01&to=tomorrow", /`to` must be a calendar date/],
      ["/v1/expenses?from=2026-05-01", /^`to` is required, as a calendar date/],
      ["/v1/expenses", /^`from` is required, as a calendar date/],
      ["/v1/expenses?from=2026-05-09&to=2026-05-08", /`from` \(2026-05-09\) must not be after `to` \(2026-05-08\)/],
      ["/v1/expenses?from=2025-01-01&to=2026-01-02", /spans 367 days; at most 366/],
      ["/v1/expenses?from=2026-05-01&from=2026-05-02&to=2026-05-08", /`from` is given 2 times/],
      [`/v1/expenses?${range}&limit=0`, /`limit` must be an integer from 1 to 500/],
      [`/v1/expenses?${range}&limit=501`, /`limit` must be an integer from 1 to 500/],
      [`/v1/expenses?${range}&limit=ten`, /`limit` must be an integer from 1 to 500/],
      [`/v1/expenses?${range}&limit=2.5`, /`limit` must be an integer from 1 to 500/],
      [`/v1/expenses?${range}&cursor=not%20a%20cursor`, /`cursor` must be a page.next_cursor this route returned/],
      [`/v1/expenses?${range}&cursor=${Buffer.from('["forged"]').toString("base64url")}`, /`cursor` must be a page.next_cursor this route returned/],
      [`/v1/expenses?${range}&category=Food%20%26%20drink`, /`category` must be 1 to 64 lower-case letters/],
      [`/v1/expenses?${range}&user_id=USR%2042891%3B`, /`user_id` must be an id/],
      ["/v1/coach/sessions?from=2026-13-01", /`from` must be a calendar date/],
      ["/v1/coach/sessions?from=2026-05-02&to=2026-05-01", /must not be after/],
      ["/v1/debts?user_id=%3Cscript%3E", /`user_id` must be an id/],
      ["/v1/exports/debts?format=xml", /`format` must be one of json, csv/],
      ["/v1/exports/debts?format=CSV", /`format` must be one of json, csv/],
    ];
    for (const [path, message] of cases) {
      const response = await rest(origin, "GET", path, { headers: asDemoUser });
      assert.equal(response.body.retry_after, null, path);
      assertEnvelope(response, 400, "BAD_USER_INPUT", message);
    }
  });

  test("without a token every route is a 401, whatever its parameters", async () => {
    for (const path of ["/v1/debts?status=nope", "/v1/expenses?from=bad", "/v1/coach/sessions", "/v1/exports/debts?format=xml"]) {
      assertEnvelope(await rest(origin, "GET", path), 401, "UNAUTHENTICATED");
    }
  });

  test("each route answers as GET /v1/openapi.json documents it, on success and on bad input", async () => {
    const document = await rest(origin, "GET", "/v1/openapi.json");
    assert.equal(document.status, 200);
    const checker = new ContractChecker(document.body);
    const calls: [string, number][] = [
      ["/v1/debts", 200],
      ["/v1/debts?status=open", 400],
      [`/v1/expenses?from=${day(-89)}&to=${day(0)}&limit=10`, 200],
      [`/v1/expenses?from=${day(-89)}&to=${day(0)}&limit=0`, 400],
      [`/v1/coach/sessions?from=${day(-365)}&to=${day(0)}`, 200],
      ["/v1/coach/sessions?from=2026-13-01", 400],
      ["/v1/exports/debts?format=json", 200],
      ["/v1/exports/debts?format=csv", 200],
      ["/v1/exports/debts?format=xml", 400],
    ];
    for (const [path, status] of calls) {
      const response = await rest(origin, "GET", path, { headers: asDemoUser });
      assert.equal(response.status, status, `${path}: ${JSON.stringify(response.body)}`);
      assert.deepEqual(checker.problems({ method: "GET", path, status: response.status, contentType: response.headers.get("content-type"), body: response.body }), [], path);
    }
  });
});

/** Someone who has not consented to the sandbox client yet (the seed gives about half of the people a consent). */
async function unconsentedUser(seeded: SeededKamina): Promise<string> {
  const { rows } = await seeded.sql.query<{ id: string }>(
    `SELECT id FROM app_user u WHERE id <> 'USR_42891' AND NOT EXISTS (SELECT 1 FROM consent c WHERE c.user_id = u.id) ORDER BY id LIMIT 1`,
  );
  assert.ok(rows[0], "the seed leaves someone without a consent");
  return rows[0].id;
}
