// A fresh, migrated PostgreSQL database per test file, on the server every machine runs
// (127.0.0.1:5432, trust auth). Override the admin connection with TEST_DATABASE_ADMIN_URL.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { applyMigrations } from "../platform/database/schema-engine.ts";

const DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  /** Connection string of the new database. */
  url: string;
  /** Terminates its connections and drops it. Safe to call more than once. */
  drop(): Promise<void>;
}

/** The server the tests create their databases on (`npm test`'s preflight checks it first). */
export function adminUrl(): string {
  return process.env.TEST_DATABASE_ADMIN_URL || DEFAULT_ADMIN_URL;
}

async function asAdmin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Creates `kamina_test_<time>_<random>`, applies `prisma/migrations` to it, and returns it. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `kamina_test_${Date.now()}_${randomBytes(4).toString("hex")}`;
  await asAdmin(`CREATE DATABASE "${name}"`);
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  const database: TestDatabase = {
    url: url.toString(),
    drop: () => (dropped ??= asAdmin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)),
  };
  try {
    await applyMigrations({ kind: "postgres", url: database.url, poolSize: 2 });
  } catch (error) {
    await database.drop().catch(() => undefined);
    throw error;
  }
  return database;
}

/**
 * Rows of `table` read so far by sequential scan or through its indexes (all of them, or only
 * `indexes`), by PostgreSQL's own counters. A session's reads reach them when it flushes its
 * statistics: have the session that ran the statement call `SELECT pg_stat_force_next_flush()` first.
 */
export async function rowsReadFrom(sql: pg.Client, table: string, indexes?: readonly string[]): Promise<number> {
  await sql.query("SELECT pg_stat_force_next_flush()");
  const { rows } = await sql.query<{ read: string }>(
    `SELECT (coalesce(t.seq_tup_read, 0) + coalesce((SELECT sum(i.idx_tup_read) FROM pg_stat_user_indexes i
                                                      WHERE i.relid = t.relid AND ($2::text[] IS NULL OR i.indexrelname = ANY($2))), 0))::text AS read
       FROM pg_stat_user_tables t WHERE t.relname = $1`,
    [table, indexes ?? null],
  );
  return Number(rows[0]?.read ?? Number.NaN);
}
