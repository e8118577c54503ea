// The brief's scenario 4 (a CRM's nightly batch): POST /v1/exports/wellness queues an export,
// the export worker writes it, and the partner downloads it from a signed URL. Real servers,
// real HTTP, a seeded PostgreSQL.
import { PairwiseIds } from "../platform/auth/pairwise-ids.ts";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { inFileOrder } from "../domain/cohorts/cohorts.ts";
import { DownloadSigner } from "../gateway/exports/download-signature.ts";
import { hashSecret } from "../platform/secret-hash.ts";
import { createLogger } from "../platform/logger.ts";
import { USER_SCOPES } from "../platform/auth/scopes.ts";
import { seedDatabase } from "../prisma/seed/index.ts";
import { ExportJobs } from "../realtime/exports/export-jobs.ts";
import { WELLNESS_EXPORT_COLUMNS } from "../realtime/exports/wellness-export.ts";
import { startRealtimeWorkers, type RunningRealtimeWorkers } from "../runtime/realtime-workers.ts";
import { ContractChecker } from "../testkit/openapi-contract.ts";
import { createTestDatabase, type TestDatabase } from "../testkit/postgres.ts";
import { basic, bearer, clientToken, consentToken, DEMO_CLIENT, TEST_SANDBOX_SECRET } from "../testkit/tokens.ts";
import { startTestKamina } from "./support/kamina.ts";
import { rest, type RestResponse } from "./support/rest.ts";

const OTHER = { id: "of_other_crm", secret: "other-crm-secret-123" };
/** The KEK before the last rotation: the gateway lists it in KEY_ENCRYPTION_KEY_PREVIOUS. */
const PREVIOUS_KEK = randomBytes(32);

type Row = Record<string, string | number | null>;

function assertRefused(response: RestResponse, status: number, code: string, message?: RegExp): void {
  const context = JSON.stringify(response.body);
  assert.equal(response.status, status, context);
  assert.equal(response.body.code, code, context);
  assert.ok("message" in response.body && "retry_after" in response.body, context);
  if (message) assert.match(response.body.message, message, context);
}

describe("wellness exports", () => {
  let database: TestDatabase;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  let sql: pg.Client;
  let exportDir: string;
  let workers: RunningRealtimeWorkers | undefined;
  let demoToken: string;
  let otherToken: string;

  const origin = () => kamina.gateway!.origin;
  const startWorkers = async () => {
    workers = await startRealtimeWorkers(kamina.gateway!.auth.config, kamina.database, createLogger("silent"));
  };
  const stopWorkers = async () => {
    await workers?.stop();
    workers = undefined;
  };

  async function createExport(token: string, body?: unknown): Promise<RestResponse> {
    return rest(origin(), "POST", "/v1/exports/wellness", { headers: bearer(token), ...(body === undefined ? {} : { json: body }) });
  }

  async function finished(token: string, id: string): Promise<RestResponse> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const answer = await rest(origin(), "GET", `/v1/exports/wellness/${id}`, { headers: bearer(token) });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      if (answer.body.status !== "queued" && answer.body.status !== "running") return answer;
      if (Date.now() > deadline) assert.fail(`export ${id} still ${answer.body.status}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** What the export must hold for `clientId`: every active consent's person, with only what it grants. */
  async function expectedRows(clientId: string): Promise<Row[]> {
    const { rows } = await sql.query<{ user_id: string; country: string; scopes: string[] }>(
      `SELECT c.user_id, c.country::text AS country, c.scopes FROM consent c JOIN partner_client p ON p.id = c.client_id
       WHERE c.client_id = $1 AND c.status = 'AUTHORISED' AND (c.expires_at IS NULL OR c.expires_at > now()) AND c.country = ANY(p.countries)
       ORDER BY c.user_id`,
      [clientId],
    );
    const expected: Row[] = [];
    for (const person of rows) {
      const row: Row = Object.fromEntries(WELLNESS_EXPORT_COLUMNS.map((column) => [column, null]));
      row.user_id = person.user_id;
      row.country = person.country;
      if (person.scopes.includes("wellness.read")) {
        const latest = await sql.query(
          `SELECT score, lower(band::text) AS band, trend_30d, to_char(next_review_at, 'YYYY-MM-DD') AS next FROM wellness_snapshot WHERE user_id = $1 ORDER BY snapshot_date DESC LIMIT 1`,
          [person.user_id],
        );
        const snapshot = latest.rows[0];
        if (snapshot) Object.assign(row, { wellness_score: snapshot.score, wellness_band: snapshot.band, wellness_trend_30d: snapshot.trend_30d, wellness_next_review_at: snapshot.next });
      }
      if (person.scopes.includes("debts.read")) {
        const totals = await sql.query(
          `SELECT currency, sum(balance)::text AS balance, count(*)::int AS n FROM debt WHERE user_id = $1 AND status <> 'PAID_OFF' GROUP BY currency ORDER BY currency`,
          [person.user_id],
        );
        row.debt_open_count = totals.rows.reduce((sum, total) => sum + total.n, 0);
        if (totals.rows.length) {
          row.debt_total_balance = totals.rows.map((total) => total.balance).join(";");
          row.debt_currency = totals.rows.map((total) => total.currency).join(";");
        }
      }
      if (person.scopes.includes("cohorts.read")) {
        const tags = await sql.query<{ tag: string }>(`SELECT tag FROM cohort_tag WHERE user_id = $1`, [person.user_id]);
        row.cohort_tags = inFileOrder(tags.rows).map((tag) => tag.tag).join(";");
      }
      expected.push(row);
    }
    return expected;
  }

  /** CSV as the partner reads it: every cell a string, an empty cell a column not granted. */
  function asCsvRows(rows: Row[]): Record<string, string>[] {
    return rows.map((row) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, value === null ? "" : String(value)])));
  }

  function parseCsv(text: string): Record<string, string>[] {
    const [header, ...lines] = text.trimEnd().split("\n");
    const columns = header!.split(",");
    // The values exported (ids, codes, numbers, dates) never need quoting.
    return lines.map((line) => Object.fromEntries(line.split(",").map((value, index) => [columns[index]!, value])));
  }

  before(async () => {
    database = await createTestDatabase();
    const target = { kind: "postgres" as const, url: database.url, poolSize: 4 };
    await seedDatabase(target, { users: 40, seed: 7, sandboxClientSecret: TEST_SANDBOX_SECRET });
    exportDir = await mkdtemp(join(tmpdir(), "kamina-exports-"));
    // The gateway alone: each test starts and stops the export worker (the realtime workers) itself.
    kamina = await startTestKamina(target, { REALTIME_WORKERS: "false", EXPORT_DIR: exportDir, EXPORT_POLL_MS: "50", KEY_ENCRYPTION_KEY_PREVIOUS: PREVIOUS_KEK.toString("base64url") });
    sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
    await sql.query(
      `INSERT INTO partner_client (id, name, secret_hash, countries, allowed_scopes, client_scopes, sandbox)
       VALUES ($1, 'Other CRM', $2, '{EC}', $3, '{exports.create}', true)`,
      [OTHER.id, await hashSecret(OTHER.secret), [...USER_SCOPES]],
    );
    // One of the demo client's people consents to the other client too, with wellness.read alone.
    const { rows } = await sql.query<{ user_id: string }>(`SELECT c.user_id FROM consent c WHERE c.client_id = $1 AND c.country = 'EC' AND c.status = 'AUTHORISED' ORDER BY c.user_id LIMIT 1`, [DEMO_CLIENT]);
    const shared = rows[0]!.user_id;
    const answer = await rest(origin(), "POST", "/v1/auth/consent", {
      headers: basic(OTHER.id, OTHER.secret),
      json: { client_id: OTHER.id, user_external_id: shared, scopes: ["wellness.read"], country: "EC", consent_text_version: "2026-05-01" },
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    // Among the demo client's people: one without wellness.read, one revoked.
    const people = await sql.query<{ id: string }>(`SELECT id FROM consent WHERE client_id = $1 AND status = 'AUTHORISED' ORDER BY user_id LIMIT 3`, [DEMO_CLIENT]);
    await sql.query(`UPDATE consent SET scopes = '{debts.read,expenses.read}' WHERE id = $1`, [people.rows[1]!.id]);
    await sql.query(`UPDATE consent SET status = 'REVOKED', revoked_at = now() WHERE id = $1`, [people.rows[2]!.id]);
    demoToken = await clientToken(kamina);
    const other = await rest(origin(), "POST", "/v1/auth/token", { headers: basic(OTHER.id, OTHER.secret), form: { grant_type: "client_credentials" } });
    otherToken = other.body.access_token;
  });

  after(async () => {
    await stopWorkers();
    await sql?.end();
    await kamina?.stop();
    await database?.drop();
    if (exportDir) await rm(exportDir, { recursive: true, force: true });
  });

  test("a CSV export is queued, written by the worker and downloaded with the consented people and only their granted columns", async () => {
    const created = await createExport(demoToken);
    assert.equal(created.status, 202, JSON.stringify(created.body));
    assert.match(created.body.id, /^exp_[\w-]+$/);
    assert.deepEqual(created.body, { id: created.body.id, status: "queued", format: "csv", poll_url: `/v1/exports/wellness/${created.body.id}` });
    assert.equal(created.headers.get("location"), created.body.poll_url);
    const queued = await rest(origin(), "GET", created.body.poll_url, { headers: bearer(demoToken) });
    assert.equal(queued.body.status, "queued");

    await startWorkers();
    const done = await finished(demoToken, created.body.id);
    assert.equal(done.body.status, "succeeded", JSON.stringify(done.body));
    const expected = await expectedRows(DEMO_CLIENT);
    assert.ok(expected.length >= 10, `only ${expected.length} consented people`);
    assert.equal(done.body.rows, expected.length);
    assert.equal(done.body.format, "csv");
    const expiresAt = Date.parse(done.body.expires_at);
    assert.ok(expiresAt > Date.now() + 3500_000 && expiresAt <= Date.now() + 3600_000, done.body.expires_at);
    const url = new URL(done.body.download_url);
    assert.equal(url.origin, origin());
    assert.equal(url.pathname, `/v1/exports/files/${created.body.id}`);

    const download = await fetch(done.body.download_url);
    assert.equal(download.status, 200);
    assert.equal(download.headers.get("content-type"), "text/csv; charset=utf-8");
    assert.match(download.headers.get("content-disposition") ?? "", /attachment; filename="wellness-exp_[\w-]+\.csv"/);
    const text = await download.text();
    assert.equal(text.split("\n")[0], WELLNESS_EXPORT_COLUMNS.join(","));
    assert.deepEqual(parseCsv(text), asCsvRows(expected));

    // The person whose consent lacks wellness.read: in the file, with an empty score.
    const narrowed = (await sql.query(`SELECT user_id FROM consent WHERE client_id = $1 AND status = 'AUTHORISED' AND NOT ('wellness.read' = ANY(scopes))`, [DEMO_CLIENT])).rows[0]!.user_id;
    const row = parseCsv(text).find((candidate) => candidate.user_id === narrowed)!;
    assert.equal(row.wellness_score, "");
    assert.equal(row.wellness_band, "");
    assert.notEqual(row.debt_open_count, "");
    // A revoked consent's person is not in it.
    const revoked = (await sql.query(`SELECT user_id FROM consent WHERE client_id = $1 AND status = 'REVOKED'`, [DEMO_CLIENT])).rows[0]!.user_id;
    assert.ok(!text.includes(revoked));

    // One consent receipt per consent read under, with the fields read, for this export.
    const receipts = await sql.query<{ consent_id: string; user_id: string; fields: string[] }>(
      `SELECT consent_id, user_id, fields FROM audit_event WHERE action = 'consent.receipt' AND request_id = $1`,
      [created.body.id],
    );
    assert.ok(receipts.rows.length >= expected.length - 1, `${receipts.rows.length} receipts for ${expected.length} people`);
    assert.equal(new Set(receipts.rows.map((receipt) => receipt.consent_id)).size, receipts.rows.length);
    const narrowedReceipt = receipts.rows.find((receipt) => receipt.user_id === narrowed)!;
    assert.ok(!narrowedReceipt.fields.includes("User.wellness"), narrowedReceipt.fields.join());
    assert.ok(narrowedReceipt.fields.includes("User.debtSummary"));
    for (const receipt of receipts.rows) assert.ok(receipt.fields.every((field) => ["User.wellness", "User.debtSummary", "User.cohorts"].includes(field)));
  });

  test("a JSON Lines export holds the same rows, null where a column is not granted", async () => {
    const created = await createExport(demoToken, { format: "jsonl" });
    assert.equal(created.status, 202);
    assert.equal(created.body.format, "jsonl");
    const done = await finished(demoToken, created.body.id);
    assert.equal(done.body.status, "succeeded");
    const download = await fetch(done.body.download_url);
    assert.equal(download.status, 200);
    assert.equal(download.headers.get("content-type"), "application/jsonl; charset=utf-8");
    const lines = (await download.text()).trimEnd().split("\n").map((line) => JSON.parse(line) as Row);
    assert.deepEqual(lines, await expectedRows(DEMO_CLIENT));
    assert.ok(lines.some((line) => line.wellness_score === null && line.debt_open_count !== null));
  });

  test("another client's export and its file are refused; each client exports only its own people", async () => {
    const mine = await finished(demoToken, (await createExport(demoToken)).body.id);
    const theirs = await createExport(otherToken);
    assert.equal(theirs.status, 202);
    const done = await finished(otherToken, theirs.body.id);
    assert.equal(done.body.rows, 1);
    const text = await (await fetch(done.body.download_url)).text();
    // The other (sandbox, not the brief's demo) client's rows name people by its own pairwise ids.
    const people = new PairwiseIds(kamina.gateway!.auth.config.tokens.pairwiseIdKey);
    const expected = (await expectedRows(OTHER.id)).map((row) => ({ ...row, user_id: people.external(OTHER.id, "sandbox", String(row.user_id)) }));
    assert.deepEqual(parseCsv(text), asCsvRows(expected));
    assert.equal(parseCsv(text)[0]!.debt_open_count, "", "the other client's consent has no debts.read");

    assertRefused(await rest(origin(), "GET", `/v1/exports/wellness/${mine.body.id}`, { headers: bearer(otherToken) }), 404, "NOT_FOUND");
    // The other client's own signed URL, pointed at the demo client's export.
    const swapped = done.body.download_url.replace(theirs.body.id, mine.body.id);
    assertRefused(await rest(swapped, "GET", ""), 403, "FORBIDDEN", /signature/);
    assertRefused(await rest(origin(), "GET", `/v1/exports/files/exp_nosuchexport?expires=9999999999&signature=abc`), 404, "NOT_FOUND");

    // Suspension revokes a client's tokens; its signed URLs, which need none, stop working too.
    await sql.query(`UPDATE partner_client SET status = 'SUSPENDED' WHERE id = $1`, [OTHER.id]);
    try {
      assertRefused(await rest(done.body.download_url, "GET", ""), 403, "FORBIDDEN", /suspended/);
    } finally {
      await sql.query(`UPDATE partner_client SET status = 'ACTIVE' WHERE id = $1`, [OTHER.id]);
    }
    assert.equal((await fetch(done.body.download_url)).status, 200);
  });

  test("a tampered, unsigned or expired download URL is refused", async () => {
    const done = await finished(demoToken, (await createExport(demoToken)).body.id);
    const url = new URL(done.body.download_url);
    const signature = url.searchParams.get("signature")!;
    const tampered = new URL(url);
    tampered.searchParams.set("signature", (signature[0] === "A" ? "B" : "A") + signature.slice(1));
    assertRefused(await rest(tampered.toString(), "GET", ""), 403, "FORBIDDEN", /signature/);
    const later = new URL(url);
    later.searchParams.set("expires", String(Number(url.searchParams.get("expires")) + 3600));
    assertRefused(await rest(later.toString(), "GET", ""), 403, "FORBIDDEN", /signature/);
    assertRefused(await rest(`${url.origin}${url.pathname}`, "GET", ""), 403, "FORBIDDEN", /expires/);

    // A genuine signature whose time is up.
    const signer = new DownloadSigner(kamina.gateway!.auth.config.tokens.keyEncryptionKey);
    const expires = Math.floor(Date.now() / 1000) - 5;
    const expired = `${url.origin}${url.pathname}?expires=${expires}&signature=${signer.sign("GET", url.pathname, DEMO_CLIENT, expires)}`;
    assertRefused(await rest(expired, "GET", ""), 403, "FORBIDDEN", /expired/);
    assert.equal((await fetch(done.body.download_url)).status, 200);

    // Signed before a KEK rotation (the old KEK now KEY_ENCRYPTION_KEY_PREVIOUS): good until it expires. Under a KEK nobody lists: refused.
    const inTenMinutes = Math.floor(Date.now() / 1000) + 600;
    const underKek = (kek: Buffer) => `${url.origin}${url.pathname}?expires=${inTenMinutes}&signature=${new DownloadSigner(kek).sign("GET", url.pathname, DEMO_CLIENT, inTenMinutes)}`;
    assert.equal((await fetch(underKek(PREVIOUS_KEK))).status, 200);
    assertRefused(await rest(underKek(randomBytes(32)), "GET", ""), 403, "FORBIDDEN", /signature/);
  });

  test("creating an export needs a partner token with exports.create and a known format", async () => {
    const narrow = await rest(origin(), "POST", "/v1/auth/token", { headers: basic(DEMO_CLIENT, TEST_SANDBOX_SECRET), form: { grant_type: "client_credentials", scope: "wellness.read" } });
    assertRefused(await createExport(narrow.body.access_token), 403, "FORBIDDEN", /exports\.create/);
    const person = (await sql.query(`SELECT id FROM app_user WHERE country = 'MX' ORDER BY id LIMIT 1`)).rows[0]!.id as string;
    assertRefused(await createExport(await consentToken(kamina, person, ["wellness.read"])), 403, "FORBIDDEN", /client-credentials/);
    assertRefused(await rest(origin(), "POST", "/v1/exports/wellness"), 401, "UNAUTHENTICATED");
    assertRefused(await createExport(demoToken, { format: "xlsx" }), 400, "BAD_USER_INPUT", /format/);
    assertRefused(await createExport(demoToken, { format: "csv", bucket: "s3://x" }), 400, "BAD_USER_INPUT", /bucket/);
    assertRefused(await rest(origin(), "GET", "/v1/exports/wellness/exp_unknown", { headers: bearer(demoToken) }), 404, "NOT_FOUND");
  });

  test("a job whose worker died is run again by the next worker, and only one worker claims a job", async () => {
    await stopWorkers();
    const created = await createExport(demoToken, { format: "jsonl" });
    const jobs = new ExportJobs(kamina.gateway!.auth.prisma);
    const claims = await Promise.all([jobs.claim("worker-a", 60_000), jobs.claim("worker-b", 60_000)]);
    assert.equal(claims.filter(Boolean).length, 1, "two workers claimed one job");
    // The claiming worker dies mid-run: its lease lapses and nothing renews it.
    await sql.query(`UPDATE export_job SET leased_until = now() - interval '1 second' WHERE id = $1`, [created.body.id]);
    const running = await rest(origin(), "GET", created.body.poll_url, { headers: bearer(demoToken) });
    assert.equal(running.body.status, "running");

    await startWorkers();
    const done = await finished(demoToken, created.body.id);
    assert.equal(done.body.status, "succeeded");
    assert.equal((await sql.query(`SELECT attempts FROM export_job WHERE id = $1`, [created.body.id])).rows[0].attempts, 2);
    const lines = (await (await fetch(done.body.download_url)).text()).trimEnd().split("\n");
    assert.equal(lines.length, done.body.rows);
    assert.ok((await readdir(exportDir)).every((name) => !name.endsWith(".partial")));
  });

  test("every export route answers as the OpenAPI document says, on success and on bad input", async () => {
    const checker = new ContractChecker((await rest(origin(), "GET", "/v1/openapi.json")).body);
    const checked = (method: string, path: string, answer: RestResponse): RestResponse => {
      const problems = checker.problems({ method, path, status: answer.status, contentType: answer.headers.get("content-type"), body: answer.body });
      assert.deepEqual(problems, [], JSON.stringify(answer.body));
      return answer;
    };
    const create = async (body?: unknown) => checked("POST", "/v1/exports/wellness", await createExport(demoToken, body));
    const poll = async (path: string) => checked("GET", path, await rest(origin(), "GET", path, { headers: bearer(demoToken) }));

    await stopWorkers();
    const created = await create();
    assert.equal(created.status, 202);
    assert.equal((await create({ format: "xlsx" })).status, 400);
    assert.equal((await poll(created.body.poll_url)).body.status, "queued");
    assert.equal((await poll("/v1/exports/wellness/exp_unknown")).status, 404);
    await startWorkers();
    const done = await finished(demoToken, created.body.id);
    assert.equal((await poll(created.body.poll_url)).body.status, "succeeded");

    const url = new URL(done.body.download_url);
    const download = await fetch(url);
    checked("GET", `${url.pathname}${url.search}`, { status: download.status, headers: download.headers, body: await download.text() });
    assert.equal(download.status, 200);
    const unsigned = await rest(origin(), "GET", url.pathname);
    assert.equal(checked("GET", url.pathname, unsigned).status, 403);
  });
});
