// The migrations in prisma/migrations are the only way the schema reaches a database:
// they must match prisma/schema.prisma (the drift check) and apply cleanly, once, to
// PostgreSQL and to the embedded PGlite.
import assert from "node:assert/strict";
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import {
  applyMigrations,
  isEmptyMigration,
  migrationSqlForSchemaChange,
  migrationsDir,
  schemaPath,
} from "../platform/database/schema-engine.ts";
import { createTestDatabase, type TestDatabase } from "../testkit/postgres.ts";

/** The table of every model in schema.prisma (its `@@map`, else its name). */
async function schemaTables(): Promise<string[]> {
  const schema = await readFile(schemaPath, "utf8");
  const tables: string[] = [];
  for (const match of schema.matchAll(/^model\s+(\w+)\s*\{([\s\S]*?)^\}/gm)) {
    const [, model, body] = match;
    tables.push(/@@map\(\s*"([^"]+)"\s*\)/.exec(body ?? "")?.[1] ?? model ?? "");
  }
  return tables.sort();
}

async function migrationNames(): Promise<string[]> {
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
}

const TABLES_SQL =
  "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name";

async function assertEveryTable(names: string[]): Promise<void> {
  const expected = await schemaTables();
  assert.ok(expected.length >= 20, `found only ${expected.length} models in schema.prisma`);
  for (const table of [...expected, "_prisma_migrations"]) {
    assert.ok(names.includes(table), `table ${table} is missing`);
  }
}

describe("schema drift", () => {
  test("prisma/schema.prisma and prisma/migrations agree (run `npm run db:migration -- <name>` if not)", async () => {
    const sql = await migrationSqlForSchemaChange();
    assert.ok(
      isEmptyMigration(sql),
      `schema.prisma has changes no migration covers; run \`npm run db:migration -- <name>\`. Missing SQL:\n${sql}`,
    );
  });

  test("the check notices a schema edit that has no migration", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kamina-drift-"));
    try {
      const edited = join(dir, "schema.prisma");
      await copyFile(schemaPath, edited);
      const model = "\nmodel DriftProbe {\n  id Int @id\n  @@map(\"drift_probe\")\n}\n";
      await writeFile(edited, (await readFile(edited, "utf8")) + model);
      const sql = await migrationSqlForSchemaChange({ schemaPath: edited });
      assert.ok(!isEmptyMigration(sql));
      assert.match(sql, /CREATE TABLE "drift_probe"/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("migrations on PostgreSQL", () => {
  let database: TestDatabase | undefined;
  after(async () => {
    await database?.drop();
  });

  test("apply to a fresh database, create every table, and apply nothing the second time", async () => {
    const started = performance.now();
    database = await createTestDatabase(); // creates the database and applies the migrations
    const firstMs = performance.now() - started;

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const tables = await client.query<{ table_name: string }>(TABLES_SQL);
      await assertEveryTable(tables.rows.map((row) => row.table_name));

      const recorded = await client.query<{ migration_name: string; finished_at: Date | null; rolled_back_at: Date | null }>(
        "SELECT migration_name, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY migration_name",
      );
      assert.deepEqual(
        recorded.rows.map((row) => row.migration_name),
        await migrationNames(),
      );
      for (const row of recorded.rows) {
        assert.ok(row.finished_at, `${row.migration_name} did not finish`);
        assert.equal(row.rolled_back_at, null);
      }
    } finally {
      await client.end();
    }

    const againStarted = performance.now();
    const again = await applyMigrations({ kind: "postgres", url: database.url, poolSize: 2 });
    assert.deepEqual(again.applied, []);
    console.log(
      `PostgreSQL: create+apply ${Math.round(firstMs)} ms, re-apply ${Math.round(performance.now() - againStarted)} ms`,
    );
  });
});

describe("migrations on PGlite", () => {
  test("apply to an in-memory PGlite, then apply nothing the second time", async () => {
    const pglite = new PGlite();
    try {
      await pglite.waitReady;
      const started = performance.now();
      const first = await applyMigrations({ kind: "pglite", pglite });
      const firstMs = performance.now() - started;
      assert.deepEqual(first.applied, await migrationNames());

      const tables = await pglite.query<{ table_name: string }>(TABLES_SQL);
      await assertEveryTable(tables.rows.map((row) => row.table_name));

      const second = await applyMigrations({ kind: "pglite", pglite });
      assert.deepEqual(second.applied, []);
      console.log(`PGlite: apply ${Math.round(firstMs)} ms`);
    } finally {
      await pglite.close();
    }
  });
});
