// The statements that every request and every subscription event makes against the consent
// table: the same answers on PostgreSQL and on the embedded PGlite, and on PostgreSQL each
// consent is found by key, however many the table holds.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { ReceiptWriter } from "../gateway/scopes/receipts.ts";
import { applyMigrations } from "../platform/database/schema-engine.ts";
import { readClientTokenStates } from "../platform/auth/client-token-states.ts";
import { readConsentTokenStates } from "../platform/auth/consent-token-states.ts";
import { allTenants, createPrismaClient, type PrismaClient } from "../platform/database/database.ts";
import { createTestDatabase, rowsReadFrom } from "../testkit/postgres.ts";

const PEOPLE = 3_000;
const CLIENT = "of_lookup_client";
/** Index entries and table rows one lookup of a handful of consents may read. */
const FEW = 20;

const SEED = `
  INSERT INTO partner_client (id, name, secret_hash, countries) VALUES ('${CLIENT}', 'Lookup client', 'unused', '{MX}'), ('of_other_client', 'Other', 'unused', '{MX}');
  INSERT INTO consent_text_version (version, sha256, published_at) VALUES ('lookup-v1', 'unused', now());
  INSERT INTO app_user (id, country) SELECT 'usr_lookup_' || n, 'MX' FROM generate_series(1, ${PEOPLE}) AS n;
  INSERT INTO consent (id, client_id, user_id, country, status, scopes, consent_text_version, authorised_at)
    SELECT 'cns_lookup_' || n, '${CLIENT}', 'usr_lookup_' || n, 'MX', CASE WHEN n % 2 = 0 THEN 'REVOKED' ELSE 'AUTHORISED' END::"ConsentStatus",
           '{wellness.read,alerts.read}', 'lookup-v1', now()
    FROM generate_series(1, ${PEOPLE}) AS n;
  INSERT INTO revoked_token (jti, expires_at) VALUES ('jti_revoked', now() + interval '1 hour');
  ANALYZE;`;

interface Target {
  prisma: PrismaClient;
  query<Row>(text: string): Promise<Row[]>;
  /** Consent rows read so far by the statements `prisma` ran (PostgreSQL only). */
  consentRowsRead?(): Promise<number>;
  close(): Promise<void>;
}

async function openPostgres(): Promise<Target> {
  const database = await createTestDatabase();
  const sql = new pg.Client({ connectionString: database.url });
  await sql.connect();
  await sql.query(SEED);
  // One connection, so that the test can flush the statistics of the session that ran the statement.
  const prisma = createPrismaClient({ kind: "postgres", url: database.url, poolSize: 1 }, { access: allTenants("test") });
  return {
    prisma,
    query: async (text) => (await sql.query(text)).rows,
    async consentRowsRead() {
      await prisma.$executeRaw`SELECT pg_stat_force_next_flush()`;
      return rowsReadFrom(sql, "consent");
    },
    async close() {
      await prisma.$disconnect();
      await sql.end();
      await database.drop();
    },
  };
}

async function openPGlite(): Promise<Target> {
  const pglite = new PGlite();
  await pglite.waitReady;
  await applyMigrations({ kind: "pglite", pglite });
  await pglite.exec(SEED);
  const prisma = createPrismaClient({ kind: "pglite", pglite }, { access: allTenants("test") });
  return {
    prisma,
    query: async <Row,>(text: string) => (await pglite.query<Row>(text)).rows,
    async close() {
      await prisma.$disconnect();
      await pglite.close();
    },
  };
}

function consentLookups(name: string, open: () => Promise<Target>) {
  describe(name, () => {
    let target: Target;
    before(async () => {
      target = await open();
    });
    after(async () => {
      await target?.close();
    });

    test("a batch of token checks reads each token's consent, in the order asked", async () => {
      const before = await target.consentRowsRead?.();
      const states = await readConsentTokenStates(target.prisma, [
        { jti: "jti_a", consentId: "cns_lookup_7", clientId: CLIENT, userId: "usr_lookup_7" },
        { jti: "jti_b", consentId: "cns_lookup_8", clientId: CLIENT, userId: "usr_lookup_8" },
        { jti: "jti_revoked", consentId: "cns_lookup_9", clientId: CLIENT, userId: "usr_lookup_9" },
        // Not the token's consent: another client's, another person's.
        { jti: "jti_c", consentId: "cns_lookup_11", clientId: "of_other_client", userId: "usr_lookup_11" },
        { jti: "jti_d", consentId: "cns_lookup_13", clientId: CLIENT, userId: "usr_lookup_14" },
      ]);

      assert.deepEqual(
        states.map((state) => state && { status: state.status, revoked: state.revoked, expiresAt: state.expiresAt }),
        [
          { status: "AUTHORISED", revoked: false, expiresAt: null },
          { status: "REVOKED", revoked: false, expiresAt: null },
          { status: "AUTHORISED", revoked: true, expiresAt: null },
          undefined,
          undefined,
        ],
      );
      if (before !== undefined) {
        const read = (await target.consentRowsRead!()) - before;
        assert.ok(read <= FEW, `checking 5 tokens read ${read} consent rows`);
      }
    });

    test("a batch of client token checks reads each token's client once, in the order asked", async () => {
      const states = await readClientTokenStates(target.prisma, [
        { jti: "jti_a", clientId: CLIENT },
        { jti: "jti_revoked", clientId: CLIENT },
        { jti: "jti_a", clientId: CLIENT },
        { jti: "jti_b", clientId: "of_no_such_client" },
      ]);
      assert.deepEqual(
        states.map((state) => state && { status: state.status, revoked: state.revoked, countries: state.countries }),
        [{ status: "ACTIVE", revoked: false, countries: ["MX"] }, { status: "ACTIVE", revoked: true, countries: ["MX"] }, { status: "ACTIVE", revoked: false, countries: ["MX"] }, undefined],
      );
      assert.notEqual(states[0]!.countries, states[2]!.countries, "each caller gets its own copy");
      assert.deepEqual(await readClientTokenStates(target.prisma, []), []);
    });

    test("no tokens, no rows", async () => {
      assert.deepEqual(await readConsentTokenStates(target.prisma, []), []);
    });

    test("a batch of receipts reads each receipt's consent and writes one audit event for each", async () => {
      const writer = new ReceiptWriter(target.prisma);
      const viewer = { kind: "client" as const, environment: "live" as const, clientId: CLIENT, countries: ["MX" as const], consentVersion: "0", scopes: new Set<string>(), tokenId: "jti_receipts" };
      const before = await target.consentRowsRead?.();
      await Promise.all([
        writer.write({ requestId: "lookup-receipts-1", viewer, operationName: "Lookups" }, [
          { consentId: "cns_lookup_21", fields: ["User.wellness", "Wellness.score"] },
          { consentId: "cns_lookup_23", fields: ["User.wellness"] },
        ]),
        writer.write({ requestId: "lookup-receipts-2", viewer, operationName: null }, [{ consentId: "cns_lookup_25", fields: ["Alert.riskBand"] }]),
      ]);

      const rows = await target.query<{ request_id: string; consent_id: string; user_id: string; fields: string[]; detail: unknown }>(
        "SELECT request_id, consent_id, user_id, fields, detail FROM audit_event WHERE request_id LIKE 'lookup-receipts-%' ORDER BY consent_id",
      );
      assert.deepEqual(rows, [
        { request_id: "lookup-receipts-1", consent_id: "cns_lookup_21", user_id: "usr_lookup_21", fields: ["User.wellness", "Wellness.score"], detail: { tokenUse: "client", operationName: "Lookups" } },
        { request_id: "lookup-receipts-1", consent_id: "cns_lookup_23", user_id: "usr_lookup_23", fields: ["User.wellness"], detail: { tokenUse: "client", operationName: "Lookups" } },
        { request_id: "lookup-receipts-2", consent_id: "cns_lookup_25", user_id: "usr_lookup_25", fields: ["Alert.riskBand"], detail: { tokenUse: "client", operationName: null } },
      ]);
      if (before !== undefined) {
        const read = (await target.consentRowsRead!()) - before;
        assert.ok(read <= FEW, `writing 3 receipts read ${read} consent rows`);
      }
    });

    test("a receipt naming a consent the client does not hold fails the write, and its statement writes nothing", async () => {
      const writer = new ReceiptWriter(target.prisma);
      const viewer = { kind: "client" as const, environment: "live" as const, clientId: "of_other_client", countries: ["MX" as const], consentVersion: "0", scopes: new Set<string>(), tokenId: "jti_foreign" };
      await assert.rejects(
        writer.write({ requestId: "lookup-foreign-1", viewer, operationName: 'Odd "name" \\ here' }, [
          { consentId: "cns_lookup_31", fields: ["User.wellness"] },
        ]),
        /name no consent of their client/,
      );
      const rows = await target.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_event WHERE request_id = 'lookup-foreign-1'");
      assert.deepEqual(rows, [{ n: 0 }]);
    });

    test("receipts of several requests in one statement each keep their own fields: lists shared, distinct and empty", async () => {
      const writer = new ReceiptWriter(target.prisma);
      const viewer = { kind: "client" as const, environment: "live" as const, clientId: CLIENT, countries: ["MX" as const], consentVersion: "0", scopes: new Set<string>(), tokenId: "jti_lists" };
      const sent: Record<string, Record<string, string[]>> = {
        "lookup-lists-1": { cns_lookup_41: ["User.debts", "User.wellness"], cns_lookup_43: ["User.debts", "User.wellness"] },
        "lookup-lists-2": { cns_lookup_41: ['User."a,b"', "User.{c}"], cns_lookup_45: [] },
        "lookup-lists-3": { cns_lookup_43: ["User.wellness"], cns_lookup_45: ["User.debts", "User.wellness"] },
      };
      // Started together: one statement writes them all.
      await Promise.all(
        Object.entries(sent).map(([requestId, receipts]) =>
          writer.write({ requestId, viewer, operationName: null }, Object.entries(receipts).map(([consentId, fields]) => ({ consentId, fields }))),
        ),
      );
      const rows = await target.query<{ request_id: string; consent_id: string; fields: string[] }>(
        "SELECT request_id, consent_id, fields FROM audit_event WHERE request_id LIKE 'lookup-lists-%' ORDER BY request_id, consent_id",
      );
      const written: Record<string, Record<string, string[]>> = {};
      for (const row of rows) (written[row.request_id] ??= {})[row.consent_id] = row.fields;
      assert.deepEqual(written, sent);
    });

    test("receipts that differ only by their request are one event naming each request once; any other difference keeps them apart", async () => {
      const writer = new ReceiptWriter(target.prisma);
      const viewer = { kind: "client" as const, environment: "live" as const, clientId: CLIENT, countries: ["MX" as const], consentVersion: "0", scopes: new Set<string>(), tokenId: "jti_polls" };
      const poll = (requestId: string, operationName: string, receipts: { consentId: string; fields: string[] }[]) =>
        writer.write({ requestId, viewer, operationName, product: "graphql" }, receipts);
      const wellness = { consentId: "cns_lookup_51", fields: ["User.wellness"] };
      const twice = [wellness];
      // Started together: one statement writes them all.
      await Promise.all([
        poll("lookup-poll-1", "Poll", twice),
        // A REST call running two operations writes twice under its one id: it is named once.
        poll("lookup-poll-1", "Poll", twice),
        poll("lookup-poll-2", "Poll", [wellness, { consentId: "cns_lookup_53", fields: ["User.wellness"] }]),
        poll("lookup-poll-3", "Poll", [wellness]),
        poll("lookup-poll-4", "Other", [wellness]),
        poll("lookup-poll-5", "Poll", [{ consentId: "cns_lookup_51", fields: ["User.debts"] }]),
      ]);
      const rows = await target.query<{ request_id: string; request_ids: string[] | null; consent_id: string; fields: string[]; operation: string }>(
        "SELECT request_id, request_ids, consent_id, fields, detail ->> 'operationName' AS operation FROM audit_event WHERE request_id LIKE 'lookup-poll-%' ORDER BY request_id, consent_id",
      );
      assert.deepEqual(rows, [
        { request_id: "lookup-poll-1", request_ids: ["lookup-poll-1", "lookup-poll-2", "lookup-poll-3"], consent_id: "cns_lookup_51", fields: ["User.wellness"], operation: "Poll" },
        { request_id: "lookup-poll-2", request_ids: null, consent_id: "cns_lookup_53", fields: ["User.wellness"], operation: "Poll" },
        { request_id: "lookup-poll-4", request_ids: null, consent_id: "cns_lookup_51", fields: ["User.wellness"], operation: "Other" },
        { request_id: "lookup-poll-5", request_ids: null, consent_id: "cns_lookup_51", fields: ["User.debts"], operation: "Poll" },
      ]);
      // Each call is billed once, however many receipts record it.
      const usage = await target.query<{ count: number }>(`SELECT count::int FROM usage_counter WHERE client_id = '${CLIENT}' AND product = 'graphql'`);
      assert.deepEqual(usage, [{ count: 5 }]);
    });

    test("a receipt's text arrives as sent, quotes and backslashes included", async () => {
      const writer = new ReceiptWriter(target.prisma);
      const viewer = { kind: "client" as const, environment: "live" as const, clientId: CLIENT, countries: ["MX" as const], consentVersion: "0", scopes: new Set<string>(), tokenId: "jti_text" };
      await writer.write({ requestId: "lookup-text-1", viewer, operationName: 'Odd "name" \\ here {a,b}' }, [{ consentId: "cns_lookup_33", fields: ['User."quoted"', "User.back\\slash"] }]);
      const rows = await target.query<{ fields: string[]; detail: unknown }>("SELECT fields, detail FROM audit_event WHERE request_id = 'lookup-text-1'");
      assert.deepEqual(rows, [{ fields: ['User."quoted"', "User.back\\slash"], detail: { tokenUse: "client", operationName: 'Odd "name" \\ here {a,b}' } }]);
    });
  });
}

consentLookups("consent lookups on PostgreSQL, by key", openPostgres);
consentLookups("consent lookups on the embedded PGlite", openPGlite);
