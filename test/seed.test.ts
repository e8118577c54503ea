// The synthetic-data generator against real PostgreSQL: what a partner would find after
// `npm run seed` (the brief's demo client and user, five tenants with their currencies,
// exact money), that the same options reproduce the same bytes, and that a populated
// database is never seeded twice.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { applyMigrations } from "../platform/database/schema-engine.ts";
import { isEmpty, seedDatabase, SeedRefusedError, type SeedOptions } from "../prisma/seed/index.ts";
import { generateDemoHousehold } from "../prisma/seed/demo-user.ts";
import { populationContext } from "../prisma/seed/population.ts";
import { CONSENT_TEXT } from "../prisma/seed/reference-data.ts";
import { hashSecret, verifySecret } from "../platform/secret-hash.ts";
import { createTestDatabase, type TestDatabase } from "../testkit/postgres.ts";

const SECRET = "kamina-sandbox-secret";
// The brief's export is "as_of": "2026-05-08T14:00:00-05:00".
const OPTIONS: SeedOptions = { users: 300, seed: 42, sandboxClientSecret: SECRET, now: new Date("2026-05-08T14:00:00-05:00") };
const CURRENCY = { EC: "USD", MX: "MXN", PE: "PEN", CO: "COP", CL: "CLP" } as const;
const INDEXES = `SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname`;

/** Tables the seed writes, with an order that makes their text dump deterministic. */
const CHECKSUMMED: Record<string, string> = {
  partner_client: "id",
  consent_text_version: "version",
  app_user: "id",
  consent: "id",
  consent_event: "id",
  debt: "id",
  debt_payment: "id",
  expense: "id",
  income_stream: "id",
  savings_goal: "id",
  coach_session: "id",
  coach_transcript: "session_id",
  wellness_snapshot: "id",
  wellness_daily: "user_id",
  alert: "id",
};

async function checksums(query: (sql: string) => Promise<{ rows: Record<string, unknown>[] }>): Promise<Record<string, string>> {
  await query("SET TimeZone = 'UTC'");
  const sums: Record<string, string> = {};
  for (const [table, key] of Object.entries(CHECKSUMMED)) {
    // Transcripts are sealed with fresh data keys and IVs on every run: their bytes differ by
    // design, so only what is not ciphertext is compared (test/encryption-at-rest.test.ts opens them).
    const row = table === "coach_transcript" ? "(t.session_id, t.country, length(t.text))::text" : "t::text";
    const { rows } = await query(`SELECT md5(coalesce(string_agg(${row}, E'\\n' ORDER BY t."${key}"), '')) AS sum FROM "${table}" t`);
    sums[table] = String(rows[0]?.sum);
  }
  return sums;
}

describe("seeding a fresh PostgreSQL database", () => {
  let database: TestDatabase;
  let client: pg.Client;
  let indexesBefore: unknown[];
  const sql = async <T extends Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> =>
    (await client.query(text, params)).rows as T[];

  before(async () => {
    database = await createTestDatabase();
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query("SET TimeZone = 'UTC'");
    indexesBefore = await sql(INDEXES);
    assert.equal(await isEmpty({ kind: "postgres", url: database.url }), true);
    const report = await seedDatabase({ kind: "postgres", url: database.url }, OPTIONS);
    assert.equal(report.asOf, "2026-05-08");
    assert.ok(report.elapsedMs >= 0);
  });

  after(async () => {
    await client?.end();
    await database?.drop();
  });

  test("row counts are plausible for 300 households", async () => {
    const [counts] = await sql<Record<string, string>>(`SELECT
      (SELECT count(*) FROM app_user) AS users,
      (SELECT count(*) FROM debt) AS debts,
      (SELECT count(*) FROM debt_payment) AS payments,
      (SELECT count(*) FROM expense) AS expenses,
      (SELECT count(*) FROM income_stream) AS incomes,
      (SELECT count(*) FROM wellness_snapshot) AS snapshots,
      (SELECT count(*) FROM consent WHERE client_id = 'of_lab_demo' AND status = 'AUTHORISED') AS consents,
      (SELECT count(*) FROM alert) AS alerts,
      (SELECT count(*) FROM coach_transcript) AS transcripts`);
    const n = (key: string): number => Number(counts?.[key]);
    assert.equal(n("users"), 300);
    assert.equal(n("snapshots"), 300 * 13, "12 monthly snapshots plus today's per user");
    assert.ok(n("debts") >= 300 && n("debts") <= 1500, `debts ${n("debts")}`);
    assert.ok(n("expenses") >= 300 * 30 && n("expenses") <= 300 * 85, `expenses ${n("expenses")}`);
    assert.ok(n("payments") > n("debts") * 3, `payments ${n("payments")}`);
    assert.ok(n("incomes") >= 300, `income streams ${n("incomes")}`);
    assert.ok(n("consents") > 100 && n("consents") < 200, `consents ${n("consents")}`);
    assert.ok(n("alerts") > 0 && n("transcripts") > 0);

    const perUser = await sql<{ min: number; max: number }>(
      `SELECT min(c)::int AS min, max(c)::int AS max FROM (SELECT count(*) AS c FROM expense GROUP BY user_id) x`,
    );
    assert.ok((perUser[0]?.min ?? 0) >= 25 && (perUser[0]?.max ?? 0) <= 90, JSON.stringify(perUser));
    const debtsPerUser = await sql<{ min: number; max: number }>(
      `SELECT min(c)::int AS min, max(c)::int AS max FROM (SELECT count(*) AS c FROM debt GROUP BY user_id) x`,
    );
    assert.deepEqual(debtsPerUser[0], { min: 1, max: 5 });
    const late = await sql<{ status: string }>(`SELECT DISTINCT status::text FROM debt WHERE status IN ('LATE', 'DEFAULTED')`);
    assert.equal(late.length, 2, "some debts are late and some defaulted");
    const payments = await sql<{ status: string }>(`SELECT DISTINCT status::text FROM debt_payment ORDER BY 1`);
    assert.deepEqual(payments.map((p) => p.status), ["LATE", "MISSED", "ON_TIME", "PENDING"]);
  });

  test("the demo client is stored with the brief's scopes and only a scrypt hash of its secret", async () => {
    const [demo] = await sql<{
      name: string;
      sandbox: boolean;
      status: string;
      countries: string;
      allowed_scopes: string[];
      client_scopes: string[];
      secret_hash: string;
    }>(`SELECT name, sandbox, status::text, countries::text, allowed_scopes, client_scopes, secret_hash FROM partner_client WHERE id = 'of_lab_demo'`);
    assert.ok(demo);
    assert.equal(demo.name, "OpenFinance Lab demo");
    assert.equal(demo.sandbox, true);
    assert.equal(demo.status, "ACTIVE");
    assert.equal(demo.countries, "{EC,MX,PE,CO,CL}");
    assert.deepEqual(demo.allowed_scopes, [
      "wellness.read",
      "debts.read",
      "expenses.read",
      "income.read",
      "goals.read",
      "coach.read",
      "alerts.read",
      // Beyond the brief: changing an alert's status is a write of its own (issue 21, item 5).
      "alerts.write",
      "coach.transcripts.read",
      // Beyond the brief: behavioural cohort tags have a scope of their own (issue 21, item 2).
      "cohorts.read",
    ]);
    assert.deepEqual(demo.client_scopes, ["reports.read", "exports.create", "webhooks.manage"]);
    assert.match(demo.secret_hash, /^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
    assert.ok(!demo.secret_hash.includes(SECRET));
    assert.equal(await verifySecret(SECRET, demo.secret_hash), true);
    assert.equal(await verifySecret("wrong-secret", demo.secret_hash), false);

    const [text] = await sql<{ version: string; language: string; sha256: string }>(`SELECT version, language, sha256 FROM consent_text_version`);
    assert.deepEqual(text, {
      version: "2026-05-01",
      language: "es",
      sha256: createHash("sha256").update(CONSENT_TEXT).digest("hex"),
    });
  });

  test("USR_42891 carries the brief's debts, diagnosis and alert", async () => {
    const [user] = await sql<{ country: string }>(`SELECT country::text FROM app_user WHERE id = 'USR_42891'`);
    assert.equal(user?.country, "MX");

    const debts = await sql(
      `SELECT issuer, type::text, balance::text, currency, apr::text, to_char(due_date, 'YYYY-MM-DD') AS due_date
         FROM debt WHERE user_id = 'USR_42891' ORDER BY due_date`,
    );
    assert.deepEqual(debts, [
      { issuer: "Banorte", type: "INSTALLMENT", balance: "28523.71", currency: "MXN", apr: "0.3100", due_date: "2026-05-18" },
      { issuer: "BBVA México", type: "CREDIT_CARD", balance: "12480.55", currency: "MXN", apr: "0.4200", due_date: "2026-05-25" },
    ]);
    const [elsewhere] = await sql<{ count: string }>(
      `SELECT count(*) FROM (SELECT country, currency FROM debt WHERE user_id = 'USR_42891' UNION ALL SELECT country, currency FROM expense WHERE user_id = 'USR_42891'
         UNION ALL SELECT country, currency FROM income_stream WHERE user_id = 'USR_42891' UNION ALL SELECT country, currency FROM savings_goal WHERE user_id = 'USR_42891') r
        WHERE country::text <> 'MX' OR currency <> 'MXN'`,
    );
    assert.equal(elsewhere?.count, "0", "every row of the demo person is Mexican, in MXN");

    const [latest] = await sql<{ score: number; band: string; trend_30d: number; factors: { name: string; weight: number; value: number }[]; next_review_at: string }>(
      `SELECT score, band::text, trend_30d, factors, to_char(next_review_at, 'YYYY-MM-DD') AS next_review_at
         FROM wellness_snapshot WHERE user_id = 'USR_42891' ORDER BY snapshot_date DESC LIMIT 1`,
    );
    assert.ok(latest);
    assert.equal(latest.score, 64);
    assert.equal(latest.band, "AMBER");
    assert.equal(latest.trend_30d, -3);
    assert.equal(latest.next_review_at, "2026-06-08");
    // The brief's three factor values, with the engine's fixed weights (the brief's 0.34 / 0.21 / 0.18 are not the model's).
    const byName = new Map(latest.factors.map((factor) => [factor.name, factor]));
    assert.deepEqual(
      ["debt_to_income", "expense_volatility", "savings_ratio"].map((name) => ({ name, weight: byName.get(name)?.weight, value: byName.get(name)?.value })),
      [
        { name: "debt_to_income", weight: 0.2, value: 0.51 },
        { name: "expense_volatility", weight: 0.08, value: 0.18 },
        { name: "savings_ratio", weight: 0.14, value: 0.04 },
      ],
    );
    assert.equal(latest.factors.length, 8);
    assert.equal(Math.round(latest.factors.reduce((sum, f) => sum + f.weight, 0) * 100), 100);

    const alerts = await sql(`SELECT risk_band::text, contributing_factors, suggested_action, status::text FROM alert WHERE user_id = 'USR_42891'`);
    assert.deepEqual(alerts, [
      { risk_band: "RED", contributing_factors: ["missed_due_date", "expense_spike_food"], suggested_action: "soft_outreach_v2", status: "OPEN" },
    ]);
    const consents = await sql(`SELECT id FROM consent WHERE user_id = 'USR_42891'`);
    assert.equal(consents.length, 0, "the demo user's consent is left to the consent flow");
  });

  test("all five tenants are present, each in its own currency", async () => {
    const rows = await sql<{ country: keyof typeof CURRENCY; users: string; currencies: string[] }>(
      `SELECT u.country::text AS country, count(DISTINCT u.id) AS users,
              array(SELECT DISTINCT currency FROM (
                SELECT currency FROM expense e WHERE e.country = u.country
                UNION SELECT currency FROM income_stream i WHERE i.country = u.country
                UNION SELECT currency FROM savings_goal g WHERE g.country = u.country
                UNION SELECT currency FROM debt d WHERE d.country = u.country) c) AS currencies
         FROM app_user u GROUP BY u.country ORDER BY u.country`,
    );
    assert.deepEqual(rows.map((r) => r.country).sort(), ["CL", "CO", "EC", "MX", "PE"]);
    for (const row of rows) assert.deepEqual(row.currencies, [CURRENCY[row.country]], `${row.country} currencies`);
    const byCountry = Object.fromEntries(rows.map((r) => [r.country, Number(r.users)]));
    const others = rows.filter((r) => r.country !== "EC").map((r) => Number(r.users));
    assert.ok(others.every((n) => n < (byCountry.EC ?? 0)), `Ecuador is the largest tenant: ${JSON.stringify(byCountry)}`);
    // Every row a person owns carries that person's tenant.
    const [mismatch] = await sql<{ n: string }>(
      `SELECT (SELECT count(*) FROM expense e JOIN app_user u ON u.id = e.user_id WHERE e.country <> u.country)
            + (SELECT count(*) FROM debt d JOIN app_user u ON u.id = d.user_id WHERE d.country <> u.country)
            + (SELECT count(*) FROM wellness_snapshot s JOIN app_user u ON u.id = s.user_id WHERE s.country <> u.country) AS n`,
    );
    assert.equal(Number(mismatch?.n), 0);
  });

  test("money is exact numeric, never float, and ids are pseudonymous", async () => {
    const money = await sql<{ table_name: string; column_name: string; data_type: string; numeric_scale: number }>(
      `SELECT table_name, column_name, data_type, numeric_scale FROM information_schema.columns
        WHERE table_schema = current_schema() AND (column_name IN ('principal', 'balance', 'credit_limit', 'minimum_payment',
              'amount_due', 'amount_paid', 'amount', 'monthly_amount', 'target_amount', 'current_amount', 'apr', 'sentiment'))
        ORDER BY table_name, column_name`,
    );
    assert.equal(money.length, 12);
    for (const column of money) assert.equal(column.data_type, "numeric", `${column.table_name}.${column.column_name}`);
    const floats = await sql(
      `SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND data_type IN ('real', 'double precision')`,
    );
    assert.deepEqual(floats, []);
    const [cents] = await sql<{ n: string }>(`SELECT count(*) AS n FROM expense WHERE amount <= 0 OR amount <> round(amount, 2)`);
    assert.equal(Number(cents?.n), 0);
    const [pesos] = await sql<{ n: string }>(`SELECT count(*) AS n FROM expense WHERE currency IN ('COP', 'CLP') AND amount <> trunc(amount)`);
    assert.equal(Number(pesos?.n), 0, "COP and CLP amounts are whole pesos");

    const [ids] = await sql<{ bad_ids: string; bad_digests: string }>(
      `SELECT count(*) FILTER (WHERE id !~ '^USR_[0-9]{5,8}$') AS bad_ids,
              count(*) FILTER (WHERE national_id_digest IS NOT NULL AND national_id_digest !~ '^[0-9a-f]{64}$') AS bad_digests
         FROM app_user`,
    );
    assert.deepEqual(ids, { bad_ids: "0", bad_digests: "0" });
    const [consentIds] = await sql<{ n: string }>(`SELECT count(*) AS n FROM consent WHERE id !~ '^cns_[0-9a-f]+$'`);
    assert.equal(Number(consentIds?.n), 0);
  });

  test("every person has 365 daily scores in at most two rows, equal to the diagnosis on each snapshot day", async () => {
    const [shape] = await sql<{ people: string; too_many_rows: string; wrong_days: string; off_snapshot: string; out_of_range: string; first_day: string; last_day: string }>(
      `WITH days AS (
         SELECT d.user_id, make_date(d.year, 1, 1) + (t.i::int - 1) AS day, t.score
         FROM wellness_daily d CROSS JOIN LATERAL unnest(d.scores) WITH ORDINALITY AS t(score, i) WHERE t.score IS NOT NULL)
       SELECT
         (SELECT count(DISTINCT user_id) FROM wellness_daily) AS people,
         (SELECT count(*) FROM (SELECT user_id FROM wellness_daily GROUP BY user_id HAVING count(*) > 2) x) AS too_many_rows,
         (SELECT count(*) FROM (SELECT user_id FROM days GROUP BY user_id HAVING count(*) <> 365 OR count(DISTINCT day) <> 365) x) AS wrong_days,
         (SELECT count(*) FROM days JOIN wellness_snapshot s ON s.user_id = days.user_id AND s.snapshot_date = days.day WHERE s.score <> days.score) AS off_snapshot,
         (SELECT count(*) FROM days WHERE score < 0 OR score > 100) AS out_of_range,
         (SELECT to_char(min(day), 'YYYY-MM-DD') FROM days) AS first_day,
         (SELECT to_char(max(day), 'YYYY-MM-DD') FROM days) AS last_day`,
    );
    assert.deepEqual(shape, { people: "300", too_many_rows: "0", wrong_days: "0", off_snapshot: "0", out_of_range: "0", first_day: "2025-05-09", last_day: "2026-05-08" });
  });

  test("wellness history is monthly, banded by score, and trends against the previous month", async () => {
    const [shape] = await sql<{ bad_bands: string; bad_weights: string; bad_trends: string; dates: string }>(
      `SELECT
         (SELECT count(*) FROM wellness_snapshot WHERE band::text <> CASE WHEN score >= 70 THEN 'GREEN' WHEN score >= 40 THEN 'AMBER' ELSE 'RED' END) AS bad_bands,
         (SELECT count(*) FROM wellness_snapshot s
           WHERE (SELECT round(sum((f->>'weight')::numeric), 2) FROM jsonb_array_elements(s.factors) f) <> 1) AS bad_weights,
         (SELECT count(*) FROM wellness_snapshot s
            JOIN wellness_snapshot p ON p.user_id = s.user_id
                                    AND p.snapshot_date = date_trunc('month', s.snapshot_date - interval '1 month')::date
           WHERE s.trend_30d <> s.score - p.score) AS bad_trends,
         (SELECT string_agg(DISTINCT to_char(snapshot_date, 'YYYY-MM-DD'), ',' ORDER BY to_char(snapshot_date, 'YYYY-MM-DD')) FROM wellness_snapshot) AS dates`,
    );
    assert.equal(shape?.bad_bands, "0");
    assert.equal(shape?.bad_weights, "0");
    assert.equal(shape?.bad_trends, "0");
    assert.equal(
      shape?.dates,
      "2025-06-01,2025-07-01,2025-08-01,2025-09-01,2025-10-01,2025-11-01,2025-12-01,2026-01-01,2026-02-01,2026-03-01,2026-04-01,2026-05-01,2026-05-08",
    );
    const bands = await sql<{ band: string }>(
      `SELECT DISTINCT band::text FROM wellness_snapshot WHERE snapshot_date = '2026-05-08' ORDER BY 1`,
    );
    assert.deepEqual(bands.map((b) => b.band), ["AMBER", "GREEN", "RED"]);
    const [future] = await sql<{ n: string }>(
      `SELECT (SELECT count(*) FROM expense WHERE occurred_at >= '2026-05-08')
            + (SELECT count(*) FROM coach_session WHERE started_at >= '2026-05-08')
            + (SELECT count(*) FROM alert WHERE created_at >= '2026-05-08') AS n`,
    );
    assert.equal(Number(future?.n), 0, "nothing happens after the seed's day");
  });

  test("the indexes dropped for the bulk load are all rebuilt, and sequences continue after the seeded ids", async () => {
    assert.deepEqual(await sql(INDEXES), indexesBefore);
    const [sequence] = await sql<{ last: string; max: string }>(
      `SELECT (SELECT last_value FROM expense_id_seq)::text AS last, (SELECT max(id) FROM expense)::text AS max`,
    );
    assert.equal(sequence?.last, sequence?.max);
  });

  test("a database that already has users is refused, and left untouched", async () => {
    const target = { kind: "postgres" as const, url: database.url };
    assert.equal(await isEmpty(target), false);
    await assert.rejects(seedDatabase(target, { ...OPTIONS, users: 5 }), SeedRefusedError);
    const [users] = await sql<{ n: string }>(`SELECT count(*) AS n FROM app_user`);
    assert.equal(Number(users?.n), 300);
  });
});

describe("determinism", () => {
  test("the same options give the same bytes, on PostgreSQL twice and on PGlite", async () => {
    const options: SeedOptions = { ...OPTIONS, users: 120, batchSize: 50 };
    const databases = [await createTestDatabase(), await createTestDatabase()];
    const pglite = new PGlite();
    try {
      const sums: Record<string, string>[] = [];
      for (const [i, database] of databases.entries()) {
        // A different batch size must not change the data either.
        await seedDatabase({ kind: "postgres", url: database.url }, i === 0 ? options : { ...options, batchSize: 1000 });
        const client = new pg.Client({ connectionString: database.url });
        await client.connect();
        try {
          sums.push(await checksums((text) => client.query(text)));
        } finally {
          await client.end();
        }
      }
      await applyMigrations({ kind: "pglite", pglite });
      await seedDatabase({ kind: "pglite", pglite }, options);
      sums.push(await checksums((text) => pglite.query<Record<string, unknown>>(text)));

      assert.deepEqual(sums[1], sums[0]);
      assert.deepEqual(sums[2], sums[0]);
      const other = await createTestDatabase();
      databases.push(other);
      await seedDatabase({ kind: "postgres", url: other.url }, { ...options, seed: 7 });
      const client = new pg.Client({ connectionString: other.url });
      await client.connect();
      try {
        const otherSums = await checksums((text) => client.query(text));
        assert.notEqual(otherSums.expense, sums[0]?.expense, "another seed gives other data");
      } finally {
        await client.end();
      }
    } finally {
      await pglite.close();
      await Promise.all(databases.map((database) => database.drop()));
    }
  });
});

describe("generator and CLI", () => {
  test("the demo user's rows diagnose as the brief's 64 / AMBER / -3 on any seed day", () => {
    const start = Math.floor(Date.parse("2026-05-08") / 86_400_000);
    for (const offset of [0, 1, 23, 84, 214, 365]) {
      const demo = generateDemoHousehold(populationContext(7, start + offset));
      const today = demo.snapshots[demo.snapshots.length - 1]!;
      assert.deepEqual([today.score, today.band, today.trend30d], [64, "AMBER", -3], `seeded ${offset} days after 2026-05-08`);
      assert.deepEqual(new Set(demo.debts.map((debt) => `${debt.country} ${debt.currency}`)), new Set(["MX MXN"]));
    }
  });

  test("a client secret hash verifies only its own secret and rejects malformed hashes", async () => {
    const hash = await hashSecret("s3cret");
    assert.notEqual(hash, await hashSecret("s3cret"), "a random salt per hash");
    assert.equal(await verifySecret("s3cret", hash), true);
    assert.equal(await verifySecret("s3cret!", hash), false);
    for (const bad of ["", "plain", "scrypt$16384$8$1$$", "scrypt$99999999$8$1$c2FsdA==$aGFzaA==", "bcrypt$1$2$3$4$5"]) {
      assert.equal(await verifySecret("s3cret", bad), false, bad);
    }
  });

  test("the CLI rejects bad arguments with exit code 2 before touching a database", () => {
    for (const args of [["--users", "abc"], ["--users", "-3"], ["--seed"], ["--bogus"]]) {
      const run = spawnSync(process.execPath, ["--import", "tsx", "scripts/seed.ts", ...args], {
        encoding: "utf8",
        env: { ...process.env, DATABASE_URL: "postgresql://nobody@127.0.0.1:1/none" },
      });
      assert.equal(run.status, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, /^seed: .+\nusage: npm run seed/);
    }
  });
});
