// A person's data-subject requests through the Kamina app, and the operator's commands: the
// export holds the person's rows and nobody else's; erasure removes them, ends their consents so
// nothing of theirs reads through the API any more, keeps the audit log pseudonymised and
// verifiable, and each request leaves a receipt.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { decodeJwt } from "jose";
import pg from "pg";
import { seedDatabase } from "../prisma/seed/index.ts";
import { verifyAuditChains } from "../platform/audit/audit-chain.ts";
import { createTestDatabase, type TestDatabase } from "../testkit/postgres.ts";
import { bearer, BRIEF_CONSENT_REQUEST, consentToken, sandboxCredentials, TEST_SANDBOX_SECRET } from "../testkit/tokens.ts";
import { postGraphQL, startTestKamina } from "./support/kamina.ts";
import { assertEnvelope, rest } from "./support/rest.ts";

const run = promisify(execFile);
const PERSON = "USR_42891";
/** Tables with a user_id column: none may keep a row of an erased person's. */
const PERSONAL_TABLES = ["consent", "wellness_snapshot", "wellness_daily", "savings_goal", "debt", "debt_payment", "expense", "income_stream", "coach_session", "alert", "audit_event"];
const READ = "{ me { id wellness { score } debts { id } expenses(first: 5) { edges { node { id } } } } }";

describe("data-subject requests: export and erase everything about one person", () => {
  let database: TestDatabase;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  let sql: pg.Client;
  let other: string;
  let personToken: string;
  let otherToken: string;

  const app = () => ({ "x-kamina-app-key": kamina.gateway!.auth.config.appApiKey });
  const call = (path: string, json: unknown, headers: Record<string, string> = app()) => rest(kamina.gateway!.origin, "POST", path, { headers, json });

  before(async () => {
    database = await createTestDatabase();
    await seedDatabase({ kind: "postgres", url: database.url, poolSize: 2 }, { users: 20, seed: 7, sandboxClientSecret: TEST_SANDBOX_SECRET });
    kamina = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 4 });
    sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
    other = (await kamina.gateway!.auth.prisma.user.findFirstOrThrow({ where: { country: "MX", id: { not: PERSON } }, select: { id: true } })).id;
    personToken = await consentToken(kamina, PERSON);
    otherToken = await consentToken(kamina, other);
    for (const token of [personToken, otherToken]) {
      const read = await postGraphQL(kamina.graphqlUrl, READ, undefined, bearer(token));
      assert.equal(read.status, 200, JSON.stringify(read.body));
      assert.equal(read.body.errors, undefined, JSON.stringify(read.body.errors));
    }
  });

  after(async () => {
    await sql?.end();
    await kamina?.stop();
    await database?.drop();
  });

  test("only the Kamina app may ask, with a well-formed body", async () => {
    assertEnvelope(await call("/v1/data-subject/export", { user_external_id: PERSON }, sandboxCredentials(kamina)), 401, "UNAUTHENTICATED");
    assertEnvelope(await call("/v1/data-subject/erase", { user_external_id: PERSON }, {}), 401, "UNAUTHENTICATED");
    assertEnvelope(await call("/v1/data-subject/export", { user_external_id: PERSON, extra: 1 }), 400, "BAD_USER_INPUT");
    assertEnvelope(await call("/v1/data-subject/erase", {}), 400, "BAD_USER_INPUT");
    assertEnvelope(await call("/v1/data-subject/export", { user_external_id: "USR_NOBODY" }), 404, "NOT_FOUND");
  });

  test("the export holds every row of the person's, who read their data, and nobody else's rows; it leaves a receipt", async () => {
    // A cohort tag as an evaluation would store it (the seed runs none).
    await sql.query(`INSERT INTO cohort_tag (user_id, country, tag, since) SELECT id, country, 'reliable_payer', '2026-11-02T10:00:00Z' FROM app_user WHERE id = $1`, [PERSON]);
    const answer = await call("/v1/data-subject/export", { user_external_id: PERSON });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.headers.get("cache-control"), "no-store");
    const document = answer.body;
    assert.equal(document.person.id, PERSON);
    for (const [table, column] of [["expenses", "expense"], ["debts", "debt"], ["wellness_snapshots", "wellness_snapshot"], ["consents", "consent"]] as const) {
      const { rows } = await sql.query<{ count: string }>(`SELECT count(*) FROM ${column} WHERE user_id = $1`, [PERSON]);
      assert.equal(document[table].length, Number(rows[0]!.count), `${table}: every row`);
    }
    assert.ok(document.expenses.length > 0 && document.debts.length > 0);
    assert.deepEqual(document.cohort_tags, [{ tag: "reliable_payer", since: "2026-11-02T10:00:00.000Z" }]);
    for (const key of ["consents", "wellness_snapshots", "wellness_daily_scores", "savings_goals", "debts", "debt_payments", "expenses", "income_streams", "coach_sessions", "alerts", "cohort_tags", "audit_events"]) {
      assert.ok(Array.isArray(document[key]), key);
      for (const row of document[key]) if ("userId" in row) assert.equal(row.userId, PERSON, `${key}: only the person's rows`);
    }
    assert.ok(!JSON.stringify(document).includes(other), "nothing about anyone else");
    const receipts = document.audit_events.filter((event: { action: string }) => event.action === "consent.receipt");
    assert.ok(receipts.length >= 1, "who read the person's data");
    assert.equal(typeof document.expenses[0].amount, "string", "money as a string");

    const { rows } = await sql.query("SELECT action, user_id, country, detail FROM audit_event WHERE id = $1", [document.receipt_id]);
    assert.equal(rows[0].action, "data_subject.export");
    assert.equal(rows[0].user_id, PERSON);
    assert.equal(rows[0].detail.requested_by, "app");
    assert.equal(rows[0].detail.rows.expenses, document.expenses.length);
  });

  test("an operator exports with the command; erasing needs --yes", async () => {
    const { stdout } = await run(process.execPath, ["--import", "tsx", "scripts/dsr-export.ts", other, "--reference", "TICKET-7"], { env: { ...process.env, DATABASE_URL: database.url } });
    const document = JSON.parse(stdout);
    assert.equal(document.person.id, other);
    assert.ok(!stdout.includes(PERSON));
    const { rows } = await sql.query("SELECT detail FROM audit_event WHERE id = $1", [document.receipt_id]);
    assert.deepEqual([rows[0].detail.requested_by, rows[0].detail.reference], ["operator", "TICKET-7"]);
    await assert.rejects(run(process.execPath, ["--import", "tsx", "scripts/dsr-erase.ts", other], { env: { ...process.env, DATABASE_URL: database.url } }), (error: { code?: number }) => error.code === 2);
    assert.equal((await sql.query("SELECT 1 FROM app_user WHERE id = $1", [other])).rowCount, 1, "nothing erased without --yes");
  });

  test("erasure revokes the consents, deletes the person's rows, keeps the audit log pseudonymised and verifiable, and leaves a receipt", async () => {
    const consentId = decodeJwt(personToken).consent_id as string;
    const before = await sql.query<{ count: string }>("SELECT count(*) FROM audit_event WHERE user_id = $1", [PERSON]);
    const expenses = await sql.query<{ count: string }>("SELECT count(*) FROM expense WHERE user_id = $1", [PERSON]);
    const otherRows = await sql.query<{ count: string }>("SELECT count(*) FROM expense WHERE user_id = $1", [other]);

    const answer = await call("/v1/data-subject/erase", { user_external_id: PERSON });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const report = answer.body;
    assert.ok(report.revoked_consents.includes(consentId));
    assert.equal(report.deleted.expenses, Number(expenses.rows[0]!.count));
    assert.equal(report.deleted.cohort_tags, 1, "the tag the export showed");
    assert.equal((await sql.query("SELECT 1 FROM cohort_tag WHERE user_id = $1", [PERSON])).rowCount, 0);
    assert.equal(report.pseudonymised_audit_events, Number(before.rows[0]!.count));

    // Nothing of the person's reads through the API any more.
    const read = await postGraphQL(kamina.graphqlUrl, READ, undefined, bearer(personToken));
    assert.equal(read.status, 401, JSON.stringify(read.body));
    const asked = await rest(kamina.gateway!.origin, "POST", "/v1/auth/consent", { headers: sandboxCredentials(kamina), json: BRIEF_CONSENT_REQUEST });
    assert.notEqual(asked.status, 200, "no new consent for a person no longer stored");
    assertEnvelope(await call("/v1/data-subject/export", { user_external_id: PERSON }), 404, "NOT_FOUND");
    assertEnvelope(await call("/v1/data-subject/erase", { user_external_id: PERSON }), 404, "NOT_FOUND");

    for (const table of ["app_user", ...PERSONAL_TABLES]) {
      const column = table === "app_user" ? "id" : "user_id";
      assert.equal((await sql.query(`SELECT 1 FROM ${table} WHERE ${column} = $1`, [PERSON])).rowCount, 0, `${table} keeps nothing of the person's`);
    }
    const outbox = await sql.query("SELECT 1 FROM outbox_event WHERE payload::text LIKE $1", [`%${PERSON}%`]);
    assert.equal(outbox.rowCount, 0, "no event names the person");

    // The audit log keeps what happened, without the person: the receipts of the consent's reads stay.
    const kept = await sql.query("SELECT user_id, subject_digest FROM audit_event WHERE consent_id = $1", [consentId]);
    assert.ok(kept.rowCount! >= 1);
    for (const row of kept.rows) {
      assert.equal(row.user_id, null);
      assert.match(row.subject_digest, /^[0-9a-f]{64}$/);
    }
    const receipt = (await sql.query("SELECT action, user_id, subject_digest, subject_salt, detail FROM audit_event WHERE id = $1", [report.receipt_id])).rows[0];
    assert.equal(receipt.action, "data_subject.erase");
    assert.equal(receipt.user_id, null);
    assert.equal(receipt.subject_salt, null);
    assert.equal(receipt.subject_digest, report.subject_digest);
    assert.equal(createHash("sha256").update(report.subject_salt + PERSON).digest("hex"), report.subject_digest, "the person can show the receipt is theirs");
    assert.deepEqual(receipt.detail.revoked_consents, report.revoked_consents);
    assert.deepEqual((await verifyAuditChains(kamina.gateway!.auth.prisma)).filter((chain) => chain.broken), [], "the chain still verifies");

    // Nobody else is touched.
    assert.equal((await sql.query("SELECT 1 FROM expense WHERE user_id = $1", [other])).rowCount, Number(otherRows.rows[0]!.count));
    const otherRead = await postGraphQL(kamina.graphqlUrl, "{ me { id } }", undefined, bearer(otherToken));
    assert.equal(otherRead.status, 200);
    assert.equal(otherRead.body.data?.me.id, other);
  });

  test("an operator erases with the command, and the erasure's receipt is written", async () => {
    const { stdout } = await run(process.execPath, ["--import", "tsx", "scripts/dsr-erase.ts", other, "--yes", "--reference", "TICKET-8"], { env: { ...process.env, DATABASE_URL: database.url } });
    const report = JSON.parse(stdout);
    assert.ok(report.deleted.expenses > 0);
    assert.equal((await sql.query("SELECT 1 FROM app_user WHERE id = $1", [other])).rowCount, 0);
    const { rows } = await sql.query("SELECT action, detail FROM audit_event WHERE id = $1", [report.receipt_id]);
    assert.equal(rows[0].action, "data_subject.erase");
    assert.equal(rows[0].detail.reference, "TICKET-8");
    assert.equal((await postGraphQL(kamina.graphqlUrl, "{ me { id } }", undefined, bearer(otherToken))).status, 401);
    assert.deepEqual((await verifyAuditChains(kamina.gateway!.auth.prisma)).filter((chain) => chain.broken), []);
  });
});
