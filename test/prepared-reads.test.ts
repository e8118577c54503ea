// The hot reads as named prepared statements (platform/database/prepared-reads.ts) against a real
// PostgreSQL: the rows are exactly what Prisma's $queryRaw gives for the same statement, values
// are always parameters, and a statement PostgreSQL refuses leaves the pool and the named
// statement usable. Through the graph, input that reaches these statements gets a coded answer.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Prisma } from "../generated/prisma/client.ts";
import { seedDatabase } from "../prisma/seed/index.ts";
import { allTenants, tenantsAccess } from "../platform/database/database-access.ts";
import { createPrismaClient, type PrismaClient } from "../platform/database/database.ts";
import { queryRows } from "../platform/database/prepared-reads.ts";
import { createTestDatabase, type TestDatabase } from "../testkit/postgres.ts";
import { bearer, consentToken } from "../testkit/tokens.ts";
import { postGraphQL, startTestKamina } from "./support/kamina.ts";

describe("prepared reads", () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let statements: string[];

  before(async () => {
    database = await createTestDatabase();
    await seedDatabase({ kind: "postgres", url: database.url, poolSize: 2 }, { users: 20, seed: 5, sandboxClientSecret: "kamina-sandbox-secret" });
    statements = [];
    prisma = createPrismaClient({ kind: "postgres", url: database.url, poolSize: 2 }, { access: allTenants("prepared-reads-test"), onStatement: (sql) => statements.push(sql) });
  });

  after(async () => {
    await prisma?.$disconnect();
    await database?.drop();
  });

  test("give the same rows as Prisma's $queryRaw, type by type", async () => {
    const when = new Date("2026-05-08T19:00:00.123Z");
    const statement = (tag: string) => Prisma.sql`
      SELECT ${tag}::text AS tag, 1240.55::numeric(14, 2) AS money, 0.420::numeric AS apr, NULL::numeric AS nothing,
             9007199254740993::int8 AS big, count(*) AS counted, 7::int4 AS small, 1.25::float8 AS ratio, true AS flag,
             '2026-05-25'::date AS due, '2026-05-08 14:00:00.123'::timestamp AS local, ${when}::timestamptz AS instant,
             '{"name": "debt_to_income", "weight": 0.34}'::jsonb AS factor, ARRAY['missed_due_date', 'expense_spike_food']::text[] AS factors,
             ARRAY[1.5, NULL, 2.25]::numeric[] AS amounts, ARRAY['2026-01-01'::date] AS dates, 'MX'::"Country" AS country,
             ${["USR_1", "USR_2"]}::text[] AS ids, ${new Prisma.Decimal("12.5")}::numeric AS decimal_in, ${12n}::int8 AS bigint_in
      FROM (VALUES (1), (2)) AS v(x)`;
    const prepared = await queryRows<Record<string, unknown>>(prisma, statement("same"));
    const viaPrisma = await prisma.$queryRaw<Record<string, unknown>[]>(statement("same"));
    assert.deepStrictEqual(prepared, viaPrisma);
    assert.ok(Prisma.Decimal.isDecimal(prepared[0]!.money));
    assert.equal(prepared[0]!.big, 9007199254740993n);
    assert.equal((prepared[0]!.due as Date).toISOString(), "2026-05-25T00:00:00.000Z");
    assert.equal((prepared[0]!.local as Date).toISOString(), "2026-05-08T14:00:00.123Z");
  });

  test("read dates and timestamps as Prisma does in every form PostgreSQL writes them", async () => {
    const statement = Prisma.sql`
      SELECT v.at::timestamptz AS instant, v.at::timestamp AS local, v.at::date AS day, ARRAY[v.at::timestamp] AS locals
      FROM (VALUES ('2026-05-08 19:00:00+00'), ('2026-05-08 19:00:00.1+00'), ('2026-05-08 19:00:00.12+00'), ('2026-12-31 23:59:59.999+00'),
                   ('2026-05-08 19:00:00.123456+00'), ('2026-05-08 19:00:00.5+05:30'), ('0999-01-01 00:00:00+00'), ('0045-03-15 12:00:00+00'),
                   ('2024-02-29 00:00:00.007+00')) AS v(at)`;
    const prepared = await queryRows<Record<string, unknown>>(prisma, statement);
    const viaPrisma = await prisma.$queryRaw<Record<string, unknown>[]>(statement);
    assert.deepStrictEqual(prepared, viaPrisma);
    assert.equal((prepared[3]!.instant as Date).toISOString(), "2026-12-31T23:59:59.999Z");
  });

  test("run on connections bound as the client's own: a tenant's client reads only its tenant's rows, even without a filter", async () => {
    const target = { kind: "postgres" as const, url: database.url, poolSize: 2 };
    const mexico = createPrismaClient(target, { access: tenantsAccess(["MX"]) });
    try {
      const countries = (rows: { country: string }[]) => [...new Set(rows.map((row) => row.country))].sort();
      const everyone = await queryRows<{ country: string }>(prisma, Prisma.sql`SELECT country::text AS country FROM app_user`);
      assert.ok(countries(everyone).length > 1, `the seed spans countries: ${countries(everyone).join(", ")}`);
      // The same statement text, prepared on connections bound to MX only.
      const seen = await queryRows<{ country: string }>(mexico, Prisma.sql`SELECT country::text AS country FROM app_user`);
      assert.deepEqual(countries(seen), ["MX"]);
      const viaPrisma = await mexico.$queryRaw<{ country: string }[]>(Prisma.sql`SELECT country::text AS country FROM app_user`);
      assert.equal(seen.length, viaPrisma.length);
    } finally {
      await mexico.$disconnect();
    }
  });

  test("are counted as statements, once per execution", async () => {
    const before = statements.length;
    for (let round = 0; round < 3; round++) await queryRows(prisma, Prisma.sql`SELECT ${round}::int AS round`);
    assert.equal(statements.length - before, 3);
  });

  test("send values as parameters: SQL in a value stays a value", async () => {
    const hostile = `'); DROP TABLE app_user; --`;
    const [row] = await queryRows<{ value: string }>(prisma, Prisma.sql`SELECT ${hostile}::text AS value`);
    assert.equal(row?.value, hostile);
    const [exists] = await queryRows<{ present: boolean }>(prisma, Prisma.sql`SELECT to_regclass('app_user') IS NOT NULL AS present`);
    assert.equal(exists?.present, true);
  });

  test("a value PostgreSQL refuses fails that read with its SQLSTATE, and the same prepared statement then runs on every connection", async () => {
    const read = (value: string) => queryRows<{ n: number }>(prisma, Prisma.sql`SELECT ${value}::int AS n`);
    await assert.rejects(read("not a number"), (error: unknown) => (error as { code?: unknown }).code === "22P02");
    await assert.rejects(read("a\u0000b"), (error: unknown) => typeof (error as { code?: unknown }).code === "string");
    // Both pooled connections, several times each: nothing left broken behind the failures.
    const answers = await Promise.all(Array.from({ length: 6 }, (_, index) => read(String(index))));
    assert.deepEqual(answers.map((rows) => rows[0]?.n), [0, 1, 2, 3, 4, 5]);
  });
});

describe("input that reaches the prepared reads, through the graph", () => {
  let database: TestDatabase;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  let headers: Record<string, string>;

  before(async () => {
    database = await createTestDatabase();
    await seedDatabase({ kind: "postgres", url: database.url, poolSize: 2 }, { users: 20, seed: 5, sandboxClientSecret: "kamina-sandbox-secret" });
    kamina = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 2 });
    headers = bearer(await consentToken(kamina, "USR_42891"));
  });

  after(async () => {
    await kamina?.stop();
    await database?.drop();
  });

  const ask = (query: string, variables?: Record<string, unknown>) => postGraphQL(kamina.graphqlUrl, query, variables, headers);
  const codes = (errors: { extensions?: Record<string, unknown> }[] | undefined) => (errors ?? []).map((error) => error.extensions?.code);

  test("a filter value full of SQL and odd characters matches nothing and answers normally", async () => {
    for (const category of [`x' OR '1'='1`, "'; DROP TABLE expense; --", "ñ€🦙", "%", "\\"]) {
      const { status, body } = await ask(`query($c: String) { me { expenses(category: $c, first: 5) { totalCount edges { node { amount } } } } }`, { c: category });
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
      assert.equal(body.data?.me?.expenses.totalCount, 0);
    }
  });

  test("a NUL character, which PostgreSQL refuses in text, is BAD_USER_INPUT and never reaches a statement", async () => {
    const { body } = await ask(`query($c: String) { me { id expenses(category: $c) { totalCount } } }`, { c: "food\u0000" });
    assert.deepEqual(codes(body.errors), ["BAD_USER_INPUT"], JSON.stringify(body));
  });

  test("malformed dates and cursors get a coded error before any statement, never an internal one", async () => {
    const dated = await ask(`{ me { expenses(from: "2026-02-30") { totalCount } } }`);
    assert.deepEqual(codes(dated.body.errors), ["GRAPHQL_VALIDATION_FAILED"], JSON.stringify(dated.body));
    const paged = await ask(`query($after: String) { me { expenses(first: 2, after: $after) { totalCount } } }`, { after: "not-a-cursor" });
    assert.ok(codes(paged.body.errors).includes("BAD_USER_INPUT"), JSON.stringify(paged.body));
  });
});
