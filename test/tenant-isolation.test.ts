// Tenants in the database (issue 16, item 5): PostgreSQL's row-level security confines the
// subgraphs' statements to the countries of the request's viewer, whatever a resolver asks for.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { parse } from "graphql";
import pg from "pg";
import { CLIENT_SCOPES, USER_SCOPES } from "../platform/auth/scopes.ts";
import { createLogger } from "../platform/logger.ts";
import { ServiceDatabase, type PrismaClient } from "../platform/database/database.ts";
import { PairwiseIds } from "../platform/auth/pairwise-ids.ts";
import { hashSecret } from "../platform/secret-hash.ts";
import { startSubgraph, type RunningSubgraph } from "../subgraphs/shared/subgraph-server.ts";
import { postAsGateway } from "../testkit/gateway-signature.ts";
import type { TestDatabase } from "../testkit/postgres.ts";
import { basic, bearer, CONSENT_TEXT_VERSION } from "../testkit/tokens.ts";
import { postGraphQL } from "./support/kamina.ts";
import { startSeededKamina, stopSeededKamina, type SeededKamina } from "./support/seeded-kamina.ts";

/** Tables with a country column that are not confined by tenant, and why (see the migration). */
const NOT_CONFINED: Record<string, string> = { audit_event: "written and read by the gateway and workers only; rows of no country form the global chain" };

describe("row-level security confines every statement to the request's tenants", () => {
  let seeded: SeededKamina;
  let sql: pg.Client;
  let database: TestDatabase;
  let mxPerson: string;
  let pePerson: string;

  before(async () => {
    seeded = await startSeededKamina({ users: 60, seed: 21, poolSize: 2 });
    ({ sql, database } = seeded);
    mxPerson = (await sql.query<{ id: string }>("SELECT id FROM app_user WHERE country = 'MX' ORDER BY id LIMIT 1")).rows[0]!.id;
    pePerson = (await sql.query<{ id: string }>("SELECT id FROM app_user WHERE country = 'PE' ORDER BY id LIMIT 1")).rows[0]!.id;
  });

  after(async () => {
    await stopSeededKamina(seeded);
  });

  /** A connection of the application role bound to `tenants`, as the services bind theirs. */
  async function asApp(tenants: string | null, work: (client: pg.Client) => Promise<void>): Promise<void> {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query("SET ROLE kamina_app");
      if (tenants !== null) await client.query("SELECT set_config('kamina.tenants', $1, false)", [tenants]);
      await work(client);
    } finally {
      await client.end();
    }
  }

  async function refused(client: pg.Client, statement: string, values: unknown[] = []): Promise<string> {
    await client.query("SAVEPOINT attempt");
    try {
      await client.query(statement, values);
    } catch (error) {
      await client.query("ROLLBACK TO SAVEPOINT attempt");
      return (error as { code?: string }).code ?? "?";
    }
    await client.query("ROLLBACK TO SAVEPOINT attempt");
    throw new Error(`not refused: ${statement}`);
  }

  test("every table with a country column has row-level security, and policies for both roles", async () => {
    const { rows } = await sql.query<{ table: string; rls: boolean; policies: string[] }>(`
      SELECT c.relname AS table, c.relrowsecurity AS rls,
             coalesce((SELECT array_agg(p.polname::text ORDER BY p.polname) FROM pg_policy p WHERE p.polrelid = c.oid), '{}') AS policies
        FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'country' AND NOT a.attisdropped
       WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace`);
    assert.ok(rows.length >= 12);
    for (const row of rows) {
      if (row.table in NOT_CONFINED) continue;
      assert.equal(row.rls, true, `${row.table} has no row-level security`);
      assert.deepEqual(row.policies, ["all_tenants", "tenant_isolation"], row.table);
    }
  });

  test("bound to MX, the application role sees MX rows only, in every confined table", async () => {
    await asApp("{MX}", async (client) => {
      for (const table of ["app_user", "consent", "wellness_snapshot", "debt", "debt_payment", "expense", "income_stream", "savings_goal", "coach_session", "alert"]) {
        const { rows } = await client.query<{ country: string; n: string }>(`SELECT country::text, count(*)::text AS n FROM ${table} GROUP BY 1`);
        assert.deepEqual(rows.map((row) => row.country), rows.length ? ["MX"] : [], table);
      }
      const other = await client.query("SELECT * FROM app_user WHERE id = $1", [pePerson]);
      assert.equal(other.rowCount, 0, "a PE person asked for by id is invisible");
    });
  });

  test("bound to MX, writes to another tenant's rows are refused or touch nothing", async () => {
    await asApp("{MX}", async (client) => {
      await client.query("BEGIN");
      assert.equal(await refused(client, "INSERT INTO app_user (id, country) VALUES ($1, 'PE')", [`USR_rls_${randomBytes(3).toString("hex")}`]), "42501");
      assert.equal((await client.query("UPDATE app_user SET household_size = 9 WHERE id = $1", [pePerson])).rowCount, 0);
      assert.equal((await client.query("DELETE FROM expense WHERE user_id = $1", [pePerson])).rowCount, 0);
      assert.equal((await client.query("DELETE FROM app_user WHERE id = $1", [pePerson])).rowCount, 0);
      assert.equal(await refused(client, "UPDATE app_user SET country = 'PE' WHERE id = $1", [mxPerson]), "42501", "an MX row cannot be moved out of the tenant");
      assert.equal(await refused(client, "INSERT INTO alert (id, user_id, country, type, risk_band, severity, suggested_action) VALUES ('al_rls', $1, 'PE', 'x', 'RED', 'LOW', 'x')", [pePerson]), "42501");
      // What the application role may not do at all: it owns nothing.
      assert.equal(await refused(client, "ALTER TABLE app_user DISABLE ROW LEVEL SECURITY"), "42501");
      assert.equal(await refused(client, "DROP POLICY tenant_isolation ON app_user"), "42501");
      assert.equal(await refused(client, "TRUNCATE expense"), "42501");
      await client.query("ROLLBACK");
    });
    const untouched = await sql.query("SELECT household_size FROM app_user WHERE id = $1", [pePerson]);
    assert.equal(untouched.rowCount, 1);
    assert.notEqual(untouched.rows[0].household_size, 9);
  });

  test("unbound, the application role sees nothing; a garbage binding is an error, not every row", async () => {
    await asApp(null, async (client) => {
      assert.equal((await client.query("SELECT 1 FROM app_user")).rowCount, 0);
    });
    await asApp("", async (client) => {
      assert.equal((await client.query("SELECT 1 FROM app_user")).rowCount, 0);
    });
    await asApp("{MX,XX}", async (client) => {
      await assert.rejects(client.query("SELECT 1 FROM app_user"), /invalid input value for enum/);
    });
  });

  test("the named bypass sees every tenant; the services' clients switch binding per request on a shared pool", async () => {
    const services = new ServiceDatabase({ kind: "postgres", url: database.url, poolSize: 1 });
    try {
      const everyone = await services.client({ kind: "all-tenants", why: "test" }).user.count();
      assert.equal(everyone, Number((await sql.query("SELECT count(*) FROM app_user")).rows[0].count));
      const mx = services.forTenants(["MX"]);
      const pe = services.forTenants(["PE"]);
      const both = services.forTenants(["PE", "MX"]);
      assert.equal(services.forTenants(["MX", "PE"]), both, "one client per set, whatever the order");
      // One connection, interleaved requests of different tenants: each statement sees its own.
      const rounds = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 3 === 0 ? mx : i % 3 === 1 ? pe : both).user.findMany({ select: { country: true }, distinct: ["country"] })),
      );
      rounds.forEach((countries, i) => {
        const expected = i % 3 === 0 ? ["MX"] : i % 3 === 1 ? ["PE"] : ["MX", "PE"];
        assert.deepEqual(countries.map((row) => row.country).sort(), expected, `round ${i}`);
      });
      // A transaction stays bound, and cannot write across tenants either.
      await assert.rejects(mx.$transaction([mx.user.create({ data: { id: "USR_rls_tx", country: "PE" } })]));
      assert.equal((await sql.query("SELECT 1 FROM app_user WHERE id = 'USR_rls_tx'")).rowCount, 0);
      const raw = services.pool({ kind: "tenants", countries: ["PE"] })!;
      const { rows } = await raw.query<{ country: string }>("SELECT DISTINCT country::text FROM app_user");
      assert.deepEqual(rows, [{ country: "PE" }], "raw pg reads through the service's pool are bound too");
    } finally {
      await services.close();
    }
  });

  test("requests of two tenant sets taking turns on a shared pool each find a connection already bound to theirs", async () => {
    const services = new ServiceDatabase({ kind: "postgres", url: database.url, poolSize: 2 });
    try {
      const mx = services.pool({ kind: "tenants", countries: ["MX"] })!;
      const pe = services.pool({ kind: "tenants", countries: ["PE"] })!;
      const backend = "SELECT pg_backend_pid() AS pid, current_setting('kamina.tenants') AS tenants";
      type Backend = { pid: number; tenants: string };
      // Both connections opened and bound, one to each set.
      await Promise.all([mx.query(backend), pe.query(backend)]);
      const turns: { mx: Backend[]; pe: Backend[] } = { mx: [], pe: [] };
      for (let turn = 0; turn < 4; turn++) {
        turns.mx.push((await mx.query<Backend>(backend)).rows[0]!);
        turns.pe.push((await pe.query<Backend>(backend)).rows[0]!);
      }
      assert.deepEqual(new Set(turns.mx.map((row) => row.tenants)), new Set(["{MX}"]));
      assert.deepEqual(new Set(turns.pe.map((row) => row.tenants)), new Set(["{PE}"]));
      const mxBackends = new Set(turns.mx.map((row) => row.pid));
      const peBackends = new Set(turns.pe.map((row) => row.pid));
      assert.equal(mxBackends.size, 1, "MX's reads moved between connections (each move binds again)");
      assert.equal(peBackends.size, 1, "PE's reads moved between connections (each move binds again)");
      assert.notDeepEqual(mxBackends, peBackends);
    } finally {
      await services.close();
    }
  });

  describe("through the API: a client limited to MX", () => {
    let mxClient: Record<string, string>;
    let buggy: RunningSubgraph;
    /** The client's own (pairwise) id for a person. */
    const theirs = (person: string) => new PairwiseIds(seeded.kamina.gateway!.auth.config.tokens.pairwiseIdKey).external("rls_live_mx", "sandbox", person);

    before(async () => {
      const prisma = seeded.kamina.gateway!.auth.prisma;
      const secret = randomBytes(12).toString("hex");
      await prisma.partnerClient.create({
        data: { id: "rls_live_mx", name: "rls", secretHash: await hashSecret(secret), countries: ["MX"], allowedScopes: [...USER_SCOPES], clientScopes: [...CLIENT_SCOPES], sandbox: true },
      });
      for (const person of [mxPerson, pePerson]) await consentRow(prisma, person);
      const origin = seeded.kamina.gateway!.origin;
      const token = await fetch(`${origin}/v1/auth/token`, {
        method: "POST",
        headers: { ...basic("rls_live_mx", secret), "content-type": "application/x-www-form-urlencoded" },
        body: "grant_type=client_credentials",
      });
      mxClient = bearer(((await token.json()) as { access_token: string }).access_token);
      buggy = await startForgetfulSubgraph(seeded, database.url);
    });

    after(async () => {
      await buggy?.stop();
    });

    test("users() lists its MX person and never the PE one it holds a (mis-recorded) consent of", async () => {
      const { body } = await postGraphQL(seeded.kamina.graphqlUrl, "{ users(first: 100) { totalCount edges { node { id country } } } }", {}, mxClient);
      const nodes = body.data!.users.edges.map((edge: { node: { id: string; country: string } }) => edge.node);
      assert.deepEqual(nodes, [{ id: theirs(mxPerson), country: "MX" }], "in the client's pairwise ids");
      assert.equal(body.data!.users.totalCount, 1);
    });

    test("user(id:) and _entities for the PE person come back empty", async () => {
      const one = await postGraphQL(seeded.kamina.graphqlUrl, "query ($id: ID!) { user(id: $id) { id wellness { score } } }", { id: theirs(pePerson) }, mxClient);
      assert.equal(one.body.data?.user ?? null, null);
      const entities = await postAsGateway(
        seeded.kamina,
        seeded.kamina.subgraphs.debts!.url,
        "query ($r: [_Any!]!) { _entities(representations: $r) { ... on User { id debts { id } } } }",
        { r: [{ __typename: "User", id: pePerson }] },
        mxClient,
      );
      const entity = entities.body.data?._entities?.[0] as { debts?: unknown[] } | null | undefined;
      assert.ok(entity === null || entity === undefined || (entity.debts ?? []).length === 0, JSON.stringify(entities.body));
    });

    test("REST: the PE person's debts are not found", async () => {
      const response = await fetch(`${seeded.kamina.gateway!.origin}/v1/debts?user_id=${theirs(pePerson)}`, { headers: mxClient });
      assert.ok(response.status === 404 || response.status === 403, `status ${response.status}`);
    });

    test("a resolver that forgets the tenant filter still reads only the request's tenant", async () => {
      const answer = await postAsGateway(seeded.kamina, buggy.url, "{ everyone { id country } }", {}, mxClient);
      const countries = new Set((answer.body.data!.everyone as { country: string }[]).map((row) => row.country));
      assert.deepEqual([...countries], ["MX"], JSON.stringify(answer.body.errors));
      const mine = await postAsGateway(seeded.kamina, buggy.url, "{ everyone { id country } }", {}, bearer(await partnerConsentToken(seeded, pePerson)));
      assert.deepEqual(new Set((mine.body.data!.everyone as { country: string }[]).map((row) => row.country)), new Set(["PE"]), "a consent token binds to its person's country");
    });
  });
});

/** A consent of rls_live_mx for `person`, written straight into the table (the PE one is the "bug"). */
async function consentRow(prisma: PrismaClient, person: string): Promise<void> {
  const user = await prisma.user.findUniqueOrThrow({ where: { id: person }, select: { country: true } });
  await prisma.consent.create({
    data: {
      id: `cns_rls_${person}`,
      clientId: "rls_live_mx",
      userId: person,
      country: user.country,
      status: "AUTHORISED",
      scopes: [...USER_SCOPES],
      consentTextVersion: CONSENT_TEXT_VERSION,
      authorisedAt: new Date(),
    },
  });
}

async function partnerConsentToken(seeded: SeededKamina, person: string): Promise<string> {
  const { consentToken } = await import("../testkit/tokens.ts");
  return consentToken(seeded.kamina, person);
}

/** A subgraph whose only resolver reads every person with no country filter: the bug RLS is for. */
async function startForgetfulSubgraph(seeded: SeededKamina, url: string): Promise<RunningSubgraph> {
  const config = seeded.kamina.gateway!.auth.config;
  return startSubgraph(
    {
      name: "wellness",
      typeDefs: parse(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])
        type Person { id: ID! country: String! }
        type Query { everyone: [Person!]! }`),
      resolvers: { Query: { everyone: (_: unknown, __: unknown, context: { service: { everyone(): Promise<unknown> } }) => context.service.everyone() } },
      createService: (prisma: PrismaClient) => ({ everyone: () => prisma.user.findMany({ select: { id: true, country: true } }) }),
      createLoaders: () => undefined,
      createMutations: () => undefined,
    },
    { host: "127.0.0.1", port: 0, database: { kind: "postgres", url, poolSize: 1 }, tokens: config.tokens, logger: createLogger("silent"), settings: { reports: config.reports } },
  );
}

