import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { ConfigError, loadConfig } from "../platform/config/config.ts";
import { USER_SCOPES } from "../platform/auth/scopes.ts";
import { hashSecret } from "../platform/secret-hash.ts";
import { parsePeriod, PeriodError } from "../domain/reports/period.ts";
import { showBreakdown, showMedian, showPart } from "../domain/reports/suppression.ts";
import { RULES } from "../domain/prevention/rules.ts";
import { postGraphQL, startTestKamina } from "./support/kamina.ts";
import { createRealtimeDatabase, PERSON_A } from "./support/realtime.ts";
import { assertEnvelope, rest } from "./support/rest.ts";
import { ContractChecker } from "../testkit/openapi-contract.ts";
import type { TestDatabase } from "../testkit/postgres.ts";
import { basic, bearer, consentToken } from "../testkit/tokens.ts";
import { postAsGateway } from "../testkit/gateway-signature.ts";

type Kamina = Awaited<ReturnType<typeof startTestKamina>>;

/** The reporting bank, licensed in MX and PE, with the client scope reports.read. */
const BANK = { id: "bank_reports", secret: "bank-reports-secret-for-tests", countries: ["MX", "PE"], clientScopes: ["reports.read"] };
/** Another bank with reports.read: its consents never count for BANK. */
const OTHER = { id: "bank_other", secret: "bank-other-secret-for-tests", countries: ["MX", "PE", "CO"], clientScopes: ["reports.read"] };
/** A bank without reports.read. */
const NO_REPORTS = { id: "bank_no_reports", secret: "bank-no-reports-secret-tests", countries: ["MX", "PE"], clientScopes: [] as string[] };

const REPORT_QUERY = /* GraphQL */ `
  query ($period: String!) {
    preventionReport(period: $period) {
      period from to clientId minCell generatedAt
      totals { ...Cell } byType { ...Cell } bySeverity { ...Cell } byRiskBand { ...Cell } byCountry { ...Cell } bySegment { ...Cell }
      outcomes { acknowledged resolved medianHoursToAcknowledge medianHoursToResolve suppressed }
    }
  }
  fragment Cell on PreventionReportCell { key alerts people suppressed }
`;

interface AlertSpec {
  user: string;
  type: string;
  severity: string;
  band: string;
  at: string;
  status?: "OPEN" | "ACKNOWLEDGED" | "RESOLVED";
  /** Hours after creation. */
  ackAfter?: number;
  resolveAfter?: number;
  ruleId?: string;
}

const H = 3_600_000;

// Counted: U1..U8 consented to BANK with alerts.read (U6 in PE). In 2026Q1: 11 alerts of 8 people.
// Acknowledged after 2, 4, 6, 30, 8, 1 hours (median 5); resolved after 10, 20, 30, 50 (median 25).
const COUNTED: AlertSpec[] = [
  { user: "U1", type: "missed_due_date", severity: "HIGH", band: "RED", at: "2026-01-10T10:00:00Z", status: "RESOLVED", ackAfter: 2, resolveAfter: 10 },
  { user: "U2", type: "missed_due_date", severity: "HIGH", band: "RED", at: "2026-01-20T00:00:00Z", status: "RESOLVED", ackAfter: 4, resolveAfter: 20 },
  { user: "U3", type: "missed_due_date", severity: "HIGH", band: "RED", at: "2026-02-10T00:00:00Z", status: "ACKNOWLEDGED", ackAfter: 6 },
  { user: "U4", type: "missed_due_date", severity: "HIGH", band: "RED", at: "2026-03-31T23:00:00Z" },
  // Resolved straight from OPEN: acknowledged at the same instant.
  { user: "U5", type: "income_drop", severity: "CRITICAL", band: "AMBER", at: "2026-02-01T00:00:00Z", status: "RESOLVED", ackAfter: 30, resolveAfter: 30 },
  { user: "U5", type: "income_drop", severity: "CRITICAL", band: "AMBER", at: "2026-03-01T00:00:00Z" },
  { user: "U1", type: "dti_above_limit", severity: "MEDIUM", band: "AMBER", at: "2026-01-05T00:00:00Z", status: "ACKNOWLEDGED", ackAfter: 8 },
  { user: "U2", type: "dti_above_limit", severity: "MEDIUM", band: "AMBER", at: "2026-02-15T00:00:00Z" },
  { user: "U6", type: "dti_above_limit", severity: "MEDIUM", band: "AMBER", at: "2026-03-10T00:00:00Z", status: "RESOLVED", ackAfter: 1, resolveAfter: 50 },
  { user: "U7", type: "missed_due_date", severity: "HIGH", band: "RED", at: "2026-03-05T00:00:00Z" },
  { user: "U8", type: "missed_due_date", severity: "HIGH", band: "RED", at: "2026-03-06T00:00:00Z" },
];

// Never counted in BANK's 2026Q1: each is a savings_depleted alert, a type no counted alert has.
const NOT_COUNTED: AlertSpec[] = [
  ...["X1", "X2", "X3", "X4", "X5", "X6", "X7"].map((user) => ({ user, type: "savings_depleted", severity: "MEDIUM", band: "AMBER", at: "2026-02-02T00:00:00Z" })),
  // U1's, but outside the quarter by a millisecond on either side, or a sandbox test alert.
  { user: "U1", type: "savings_depleted", severity: "MEDIUM", band: "AMBER", at: "2025-12-31T23:59:59.999Z" },
  { user: "U1", type: "savings_depleted", severity: "MEDIUM", band: "AMBER", at: "2026-04-01T00:00:00Z" },
  { user: "U1", type: "savings_depleted", severity: "MEDIUM", band: "AMBER", at: "2026-02-03T00:00:00Z", ruleId: "sandbox:pv_savings_depleted_v1" },
];

const PEOPLE: [string, string][] = [
  ...["U1", "U2", "U3", "U4", "U5", "U7", "U8"].map((id): [string, string] => [id, "MX"]),
  ["U6", "PE"],
  ...["X1", "X2", "X4", "X5", "X6", "X7"].map((id): [string, string] => [id, "MX"]),
  ["X3", "CO"],
];

// client, user, country, status, scopes, expires in hours (negative: expired)
const CONSENTS: [string, string, string, string, string[], number?][] = [
  ...["U1", "U2", "U3", "U4", "U5", "U7", "U8"].map((user): [string, string, string, string, string[]] => [BANK.id, user, "MX", "AUTHORISED", ["alerts.read"]]),
  [BANK.id, "U6", "PE", "AUTHORISED", ["alerts.read", "wellness.read"]],
  // A second consent of U1 to the same bank: U1 is still one person.
  [BANK.id, "U1", "MX", "AUTHORISED", ["wellness.read", "alerts.read"]],
  [BANK.id, "X1", "MX", "AUTHORISED", ["wellness.read", "debts.read"]],
  [BANK.id, "X2", "MX", "REVOKED", ["alerts.read"]],
  [BANK.id, "X3", "CO", "AUTHORISED", ["alerts.read"]],
  [OTHER.id, "X4", "MX", "AUTHORISED", ["alerts.read"]],
  [BANK.id, "X6", "MX", "AUTHORISED", ["alerts.read"], -1],
  [BANK.id, "X7", "MX", "AWAITING_AUTHORISATION", ["alerts.read"]],
];

// The segment is the band of the latest diagnosis computed before the alert: U3's RED of March
// and U6's AMBER computed hours after its alert do not count. U4 and U7 have none: UNSCORED.
// user, snapshot day, band, computed at
const SNAPSHOTS: [string, string, string, string][] = [
  ["U1", "2025-12-15", "AMBER", "2025-12-15T08:00:00Z"],
  ["U2", "2025-12-20", "AMBER", "2025-12-20T08:00:00Z"],
  ["U3", "2025-11-01", "GREEN", "2025-11-01T08:00:00Z"],
  ["U3", "2026-03-20", "RED", "2026-03-20T08:00:00Z"],
  ["U5", "2026-01-15", "RED", "2026-01-15T08:00:00Z"],
  ["U6", "2026-02-01", "GREEN", "2026-02-01T08:00:00Z"],
  ["U6", "2026-03-10", "AMBER", "2026-03-10T12:00:00Z"],
  ["U8", "2026-01-01", "RED", "2026-01-01T08:00:00Z"],
];

async function seedReportWorld(sql: pg.Client): Promise<void> {
  for (const client of [BANK, OTHER, NO_REPORTS]) {
    await sql.query(
      `INSERT INTO partner_client (id, name, secret_hash, status, countries, allowed_scopes, client_scopes, sandbox)
       VALUES ($1, $1, $2, 'ACTIVE', $3::"Country"[], $4, $5, false)`,
      [client.id, await hashSecret(client.secret), client.countries, [...USER_SCOPES], client.clientScopes],
    );
  }
  for (const [id, country] of PEOPLE) await sql.query(`INSERT INTO app_user (id, country) VALUES ($1, $2::"Country")`, [id, country]);
  let n = 0;
  for (const [client, user, country, status, scopes, expiresInHours] of CONSENTS) {
    await sql.query(
      `INSERT INTO consent (id, client_id, user_id, country, status, scopes, consent_text_version, authorised_at, expires_at)
       VALUES ($1, $2, $3, $4::"Country", $5::"ConsentStatus", $6, '2026-05-01', now(), $7)`,
      [`cns_report_${n++}`, client, user, country, status, scopes, expiresInHours === undefined ? null : new Date(Date.now() + expiresInHours * H)],
    );
  }
  for (const [user, day, band, computedAt] of SNAPSHOTS) {
    await sql.query(
      `INSERT INTO wellness_snapshot (id, user_id, country, snapshot_date, score, band, trend_30d, factors, action_plan, computed_at, next_review_at)
       SELECT $1, id, country, $2::date, 50, $3::"WellnessBand", 0, '[]', '[]', $4, $2::date + 30 FROM app_user WHERE id = $5`,
      [`wsn_report_${n++}`, day, band, computedAt, user],
    );
  }
  for (const alert of [...COUNTED, ...NOT_COUNTED]) {
    const created = new Date(alert.at);
    const at = (hours: number | undefined) => (hours === undefined ? null : new Date(created.getTime() + hours * H));
    await sql.query(
      `INSERT INTO alert (id, user_id, country, type, risk_band, severity, contributing_factors, suggested_action, rule_id, status, created_at, acknowledged_at, resolved_at)
       SELECT $1, id, country, $2, $3::"WellnessBand", $4::"Severity", ARRAY[$2], 'payment_reminder_nudge', $5, $6::"AlertStatus", $7, $8, $9 FROM app_user WHERE id = $10`,
      [`alr_report_${n++}`, alert.type, alert.band, alert.severity, alert.ruleId ?? null, alert.status ?? "OPEN", created, at(alert.ackAfter), at(alert.resolveAfter), alert.user],
    );
  }
}

async function clientTokenOf(kamina: Kamina, client: { id: string; secret: string }): Promise<Record<string, string>> {
  const answer = await rest(kamina.gateway!.origin, "POST", "/v1/auth/token", { headers: basic(client.id, client.secret), form: { grant_type: "client_credentials" } });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return bearer(answer.body.access_token as string);
}

const report = (kamina: Kamina, headers: Record<string, string>, query = "?period=2026Q1") => rest(kamina.gateway!.origin, "GET", `/v1/reports/prevention${query}`, { headers });

/** A row of a REST breakdown by its dimension's value. */
function row(rows: Record<string, unknown>[], dimension: string, value: string) {
  const found = rows.find((candidate) => candidate[dimension] === value);
  assert.ok(found, `a ${dimension} row for ${value}`);
  const { alerts, people, suppressed } = found as { alerts: number | null; people: number | null; suppressed: boolean };
  return { alerts, people, suppressed };
}

const shown = (alerts: number, people: number) => ({ alerts, people, suppressed: false });
const withheld = { alerts: null, people: null, suppressed: true };

describe("the prevention report (GET /v1/reports/prevention, Query.preventionReport)", () => {
  let database: TestDatabase;
  let sql: pg.Client;
  let kamina: Kamina;
  let asBank: Record<string, string>;

  before(async () => {
    let prisma;
    ({ database, prisma } = await createRealtimeDatabase());
    await prisma.$disconnect();
    sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
    await seedReportWorld(sql);
    kamina = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 2 }, { REPORT_MIN_CELL: "2" });
    asBank = await clientTokenOf(kamina, BANK);
  });

  after(async () => {
    await kamina?.stop();
    await sql?.end();
    await database?.drop();
  });

  test("counts the quarter's alerts of the people who consented to the bank, by every dimension, with known outcomes and medians", async () => {
    const response = await report(kamina, asBank);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    const body = response.body;
    assert.deepEqual(
      { period: body.period, from: body.from, to: body.to, client_id: body.client_id, min_cell: body.min_cell },
      { period: "2026Q1", from: "2026-01-01", to: "2026-03-31", client_id: BANK.id, min_cell: 2 },
    );
    assert.ok(Math.abs(Date.parse(body.generated_at) - Date.now()) < 60_000);
    assert.deepEqual(body.totals, shown(11, 8));

    // income_drop is one person (withheld); dti_above_limit, the smallest shown row, goes with it,
    // or the total minus missed_due_date would tell income_drop's count.
    assert.deepEqual(row(body.by_type, "type", "missed_due_date"), shown(6, 6));
    assert.deepEqual(row(body.by_type, "type", "income_drop"), withheld);
    assert.deepEqual(row(body.by_type, "type", "dti_above_limit"), withheld);
    assert.deepEqual(row(body.by_type, "type", "savings_depleted"), shown(0, 0), "no one without the bank's consent, outside the quarter or a sandbox test is counted");
    const ruleTypes = [...new Set(RULES.rules.map((rule) => rule.definition.type))].sort();
    assert.deepEqual(body.by_type.map((cell: { type: string }) => cell.type), ruleTypes, "every rule's type, in a fixed order");

    assert.deepEqual(body.by_severity.map((cell: { severity: string }) => cell.severity), ["low", "medium", "high", "critical"]);
    assert.deepEqual(row(body.by_severity, "severity", "low"), shown(0, 0));
    assert.deepEqual(row(body.by_severity, "severity", "medium"), withheld);
    assert.deepEqual(row(body.by_severity, "severity", "high"), shown(6, 6));
    assert.deepEqual(row(body.by_severity, "severity", "critical"), withheld);

    assert.deepEqual(body.by_risk_band, [
      { risk_band: "green", ...shown(0, 0) },
      { risk_band: "amber", ...shown(5, 4) },
      { risk_band: "red", ...shown(6, 6) },
    ]);
    // PE is U6 alone; MX goes with it. CO is not one of the bank's countries: no row, no count.
    assert.deepEqual(body.by_country, [
      { country: "MX", ...withheld },
      { country: "PE", ...withheld },
    ]);
    assert.deepEqual(body.by_segment, [
      { segment: "green", ...shown(2, 2) },
      { segment: "amber", ...shown(4, 2) },
      { segment: "red", ...shown(3, 2) },
      { segment: "unscored", ...shown(2, 2) },
    ]);
    assert.deepEqual(body.outcomes, { acknowledged: 6, resolved: 4, median_hours_to_acknowledge: 5, median_hours_to_resolve: 25, suppressed: [] });
  });

  test("GraphQL answers the same figures as REST", async () => {
    const graph = await postGraphQL(kamina.graphqlUrl, REPORT_QUERY, { period: "2026Q1" }, asBank);
    const restAnswer = await report(kamina, asBank);
    assert.equal(graph.body.errors, undefined, JSON.stringify(graph.body.errors));
    const r = graph.body.data!.preventionReport;
    const cells = (list: { key: string; alerts: number | null; people: number | null; suppressed: boolean }[], name: string, lower = true) =>
      list.map(({ key, alerts, people, suppressed }) => ({ [name]: lower ? key.toLowerCase() : key, alerts, people, suppressed }));
    const snake: Record<string, string> = { medianHoursToAcknowledge: "median_hours_to_acknowledge", medianHoursToResolve: "median_hours_to_resolve" };
    assert.equal(r.totals.key, "all");
    const { generated_at: generatedAt, ...restFigures } = restAnswer.body;
    assert.ok(Date.parse(generatedAt) >= Date.parse(r.generatedAt), "each is computed when asked");
    assert.deepEqual(
      {
        period: r.period,
        from: r.from,
        to: r.to,
        client_id: r.clientId,
        min_cell: r.minCell,
        totals: { alerts: r.totals.alerts, people: r.totals.people, suppressed: r.totals.suppressed },
        by_type: cells(r.byType, "type", false),
        by_severity: cells(r.bySeverity, "severity"),
        by_risk_band: cells(r.byRiskBand, "risk_band"),
        by_country: cells(r.byCountry, "country", false),
        by_segment: cells(r.bySegment, "segment"),
        outcomes: {
          acknowledged: r.outcomes.acknowledged,
          resolved: r.outcomes.resolved,
          median_hours_to_acknowledge: r.outcomes.medianHoursToAcknowledge,
          median_hours_to_resolve: r.outcomes.medianHoursToResolve,
          suppressed: r.outcomes.suppressed.map((name: string) => snake[name] ?? name),
        },
      },
      restFigures,
    );
  });

  test("a month and a year are UTC calendar ranges; a future period is all zeros", async () => {
    const march = (await report(kamina, asBank, "?period=2026-03")).body;
    assert.deepEqual([march.from, march.to, march.totals], ["2026-03-01", "2026-03-31", shown(5, 5)]);
    const year = (await report(kamina, asBank, "?period=2026")).body;
    assert.deepEqual([year.from, year.to, year.totals], ["2026-01-01", "2026-12-31", shown(12, 8)], "U1's alert of April 1st is in the year, not in Q1");
    const leap = (await report(kamina, asBank, "?period=2028-02")).body;
    assert.equal(leap.to, "2028-02-29");
    const future = await report(kamina, asBank, "?period=2031Q2");
    assert.equal(future.status, 200, JSON.stringify(future.body));
    assert.deepEqual(future.body.totals, shown(0, 0));
    assert.ok([...future.body.by_type, ...future.body.by_segment].every((cell: { alerts: number }) => cell.alerts === 0));
    assert.deepEqual(future.body.outcomes, { acknowledged: 0, resolved: 0, median_hours_to_acknowledge: null, median_hours_to_resolve: null, suppressed: [] });
  });

  test("another client's report counts only its own consents", async () => {
    const other = await report(kamina, await clientTokenOf(kamina, OTHER));
    assert.equal(other.status, 200, JSON.stringify(other.body));
    assert.equal(other.body.client_id, OTHER.id);
    // X4 alone: one person, so withheld.
    assert.deepEqual(other.body.totals, withheld);
    assert.deepEqual(row(other.body.by_type, "type", "missed_due_date"), shown(0, 0));
    assert.deepEqual(other.body.by_country.map((cell: { country: string }) => cell.country), ["MX", "PE", "CO"]);
  });

  test("every period that is not a quarter, a month or a year is a 400 naming the accepted forms", async () => {
    for (const query of ["?period=2026Q5", "?period=2026-13", "?period=26Q1", "", "?period=", "?period=2026q1", "?period=2026-3", "?period=2026-00", "?period=2026Q1x", "?period=1999", "?period=2026Q1&period=2026Q2"]) {
      const response = await report(kamina, asBank, query);
      assertEnvelope(response, 400, "BAD_USER_INPUT");
      if (!query.includes("&")) assert.match(response.body.message, /2026Q1.*2026-03.*2026/, query);
    }
    const graph = await postGraphQL(kamina.graphqlUrl, REPORT_QUERY, { period: "2026Q5" }, asBank);
    assert.equal(graph.body.data?.preventionReport, null);
    assert.equal(graph.body.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
  });

  test("a consent token and a client without reports.read are 403; no token is 401", async () => {
    const asPerson = bearer(await consentToken(kamina, PERSON_A, ["alerts.read"]));
    const withoutScope = await clientTokenOf(kamina, NO_REPORTS);
    for (const headers of [asPerson, withoutScope]) {
      assertEnvelope(await report(kamina, headers), 403, "UNAUTHORIZED_FIELD_OR_TYPE", /reports\.read/);
      const graph = await postGraphQL(kamina.graphqlUrl, REPORT_QUERY, { period: "2026Q1" }, headers);
      assert.equal(graph.body.data?.preventionReport, null);
      assert.equal(graph.body.errors?.[0]?.extensions?.code, "UNAUTHORIZED_FIELD_OR_TYPE");
      // The alerts subgraph reached directly refuses it too.
      const direct = await postAsGateway(kamina, kamina.subgraphs.alerts!.url, REPORT_QUERY, { period: "2026Q1" }, headers);
      assert.equal(direct.body.data?.preventionReport, null);
      assert.equal(direct.body.errors?.[0]?.extensions?.code, "UNAUTHORIZED_FIELD_OR_TYPE");
    }
    assertEnvelope(await report(kamina, {}), 401, "UNAUTHENTICATED");
  });

  test("the route answers as GET /v1/openapi.json documents it, on success and on bad input", async () => {
    const document = await rest(kamina.gateway!.origin, "GET", "/v1/openapi.json");
    assert.equal(document.status, 200);
    const checker = new ContractChecker(document.body);
    for (const [query, status] of [["?period=2026Q1", 200], ["?period=2031Q2", 200], ["?period=2026Q5", 400]] as const) {
      const response = await report(kamina, asBank, query);
      assert.equal(response.status, status, `${query}: ${JSON.stringify(response.body)}`);
      const path = `/v1/reports/prevention${query}`;
      assert.deepEqual(checker.problems({ method: "GET", path, status: response.status, contentType: response.headers.get("content-type"), body: response.body }), [], path);
    }
  });

  test("the threshold is configurable: at the default of 10 every figure of these 8 people is withheld, at 5 some", async () => {
    const byDefault = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 2 });
    try {
      const body = (await report(byDefault, await clientTokenOf(byDefault, BANK))).body;
      assert.equal(body.min_cell, 10);
      assert.deepEqual(body.totals, withheld);
      for (const rows of [body.by_type, body.by_severity, body.by_risk_band, body.by_country, body.by_segment]) {
        for (const cell of rows as { alerts: number | null; suppressed: boolean }[]) assert.ok(cell.suppressed || cell.alerts === 0, JSON.stringify(cell));
      }
      assert.deepEqual(body.outcomes, {
        acknowledged: null,
        resolved: null,
        median_hours_to_acknowledge: null,
        median_hours_to_resolve: null,
        suppressed: ["acknowledged", "resolved", "median_hours_to_acknowledge", "median_hours_to_resolve"],
      });
    } finally {
      await byDefault.stop();
    }
    const atFive = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 2 }, { REPORT_MIN_CELL: "5" });
    try {
      const body = (await report(atFive, await clientTokenOf(atFive, BANK))).body;
      assert.equal(body.min_cell, 5);
      assert.deepEqual(body.totals, shown(11, 8));
      // Acknowledged: 5 people, and 5 with an alert not acknowledged. Resolved: 4 people.
      assert.deepEqual(body.outcomes, { acknowledged: 6, resolved: null, median_hours_to_acknowledge: 5, median_hours_to_resolve: null, suppressed: ["resolved", "median_hours_to_resolve"] });
      assert.deepEqual(body.by_segment.map((cell: { suppressed: boolean }) => cell.suppressed), [true, true, true, true]);
    } finally {
      await atFive.stop();
    }
  });
});

describe("reporting periods and suppression rules", () => {
  test("periods name UTC calendar ranges", () => {
    const q4 = parsePeriod("2026Q4");
    assert.deepEqual([q4.start.toISOString(), q4.end.toISOString(), q4.firstDay, q4.lastDay], ["2026-10-01T00:00:00.000Z", "2027-01-01T00:00:00.000Z", "2026-10-01", "2026-12-31"]);
    const december = parsePeriod("2026-12");
    assert.deepEqual([december.kind, december.end.toISOString()], ["month", "2027-01-01T00:00:00.000Z"]);
    assert.equal(parsePeriod("2026").kind, "year");
    for (const bad of ["2026Q0", "2026Q5", "2026-13", "26Q1", "", undefined, "0050", " 2026"]) assert.throws(() => parsePeriod(bad), PeriodError, String(bad));
  });

  test("REPORT_MIN_CELL defaults to 10 and refuses a threshold that suppresses nothing", () => {
    assert.equal(loadConfig({}).reports.minCell, 10);
    assert.equal(loadConfig({ REPORT_MIN_CELL: "25" }).reports.minCell, 25);
    for (const value of ["1", "0", "ten", "2.5"]) assert.throws(() => loadConfig({ REPORT_MIN_CELL: value }), ConfigError, value);
  });

  test("a breakdown withholds small rows, then its smallest shown row when the total would tell them", () => {
    const total = { alerts: 30, people: 20 };
    const cells = [
      { key: "a", alerts: 15, people: 12 },
      { key: "b", alerts: 12, people: 10 },
      { key: "c", alerts: 3, people: 2 },
      { key: "d", alerts: 0, people: 0 },
    ];
    assert.deepEqual(
      showBreakdown(cells, total, 10).map((cell) => [cell.key, cell.alerts, cell.suppressed]),
      [["a", 15, false], ["b", null, true], ["c", null, true], ["d", 0, false]],
    );
    assert.ok(showBreakdown(cells.slice(0, 2), { alerts: 27, people: 20 }, 10).every((cell) => !cell.suppressed), "nothing small: nothing withheld");
    // Under a withheld total every non-empty row is small anyway, and nothing more is withheld.
    assert.deepEqual(showBreakdown([{ key: "x", alerts: 4, people: 3 }, { key: "y", alerts: 0, people: 0 }], { alerts: 4, people: 3 }, 10).map((cell) => cell.suppressed), [true, false]);
  });

  test("a part is withheld when it or the rest is small; a median when the people under it are few", () => {
    assert.deepEqual(showPart({ alerts: 40, people: 30 }, { alerts: 2, people: 1 }, 10), { value: null, suppressed: true });
    assert.deepEqual(showPart({ alerts: 40, people: 30 }, { alerts: 20, people: 15 }, 10), { value: 40, suppressed: false });
    assert.deepEqual(showPart({ alerts: 0, people: 0 }, { alerts: 20, people: 15 }, 10), { value: 0, suppressed: false });
    assert.deepEqual(showMedian(3.5, { alerts: 12, people: 9 }, 10), { value: null, suppressed: true });
    assert.deepEqual(showMedian(3.5, { alerts: 12, people: 10 }, 10), { value: 3.5, suppressed: false });
    assert.deepEqual(showMedian(null, { alerts: 0, people: 0 }, 10), { value: null, suppressed: false });
  });
});
