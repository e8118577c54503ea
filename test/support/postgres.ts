// A fresh, migrated PostgreSQL database per test file, on the server every machine runs
// (127.0.0.1:5432, trust auth). Override the admin connection with TEST_DATABASE_ADMIN_URL.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { applyMigrations } from "../../prisma/schema-engine.ts";

const DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  /** Connection string of the new database. */
  url: string;
  /** Terminates its connections and drops it. Safe to call more than once. */
  drop(): Promise<void>;
}

function adminUrl(): string {
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
