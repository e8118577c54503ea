// `npm run db:migration -- <name>`: writes prisma/migrations/<UTC yyyymmddhhmmss>_<name>/
// migration.sql with the SQL that takes the existing migrations to prisma/schema.prisma
// (what `prisma migrate dev --create-only` writes), or nothing when they already agree.
// Offline: the migrations are replayed on a throwaway in-memory PGlite.
import { existsSync, readdirSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import {
  isEmptyMigration,
  MIGRATION_LOCK,
  migrationSqlForSchemaChange,
  migrationsDir,
} from "../platform/database/schema-engine.ts";

const USAGE = "usage: npm run db:migration -- <snake_case_name>";
/** snake_case; the directory name must fit `_prisma_migrations.migration_name` (255). */
const NAME = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;
const MAX_NAME_LENGTH = 200;

class UsageError extends Error {}

/** `yyyymmddhhmmss` in UTC, the engine's and the CLI's migration prefix. */
export function migrationTimestamp(now: Date = new Date()): string {
  return now.toISOString().replace(/\D/g, "").slice(0, 14);
}

function parseName(args: string[]): string {
  if (args.length !== 1 || !args[0]) throw new UsageError(USAGE);
  const name = args[0];
  if (!NAME.test(name) || name.length > MAX_NAME_LENGTH) {
    throw new UsageError(
      `invalid migration name "${name}": use snake_case (lowercase letters, digits, single underscores, starting with a letter, at most ${MAX_NAME_LENGTH} characters)`,
    );
  }
  return name;
}

async function main(): Promise<void> {
  const name = parseName(process.argv.slice(2));
  const sql = await migrationSqlForSchemaChange();
  if (isEmptyMigration(sql)) {
    console.log("schema and migrations agree: nothing to write.");
    return;
  }

  const directory = `${migrationTimestamp()}_${name}`;
  const existing = existsSync(migrationsDir)
    ? readdirSync(migrationsDir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
        .sort()
    : [];
  const latest = existing.at(-1);
  if (latest !== undefined && latest.localeCompare(directory) >= 0) {
    throw new Error(
      `the new migration ${directory} would not sort after the latest one (${latest}); check the clock or wait a second`,
    );
  }

  await mkdir(join(migrationsDir, directory), { recursive: true });
  const file = join(migrationsDir, directory, "migration.sql");
  await writeFile(file, sql, "utf8");
  const lockPath = join(migrationsDir, "migration_lock.toml");
  if ((await readFile(lockPath, "utf8").catch(() => null)) !== MIGRATION_LOCK) {
    await writeFile(lockPath, MIGRATION_LOCK, "utf8");
  }

  console.log(`Wrote ${relative(process.cwd(), file)}`);
  const drops = sql.match(/^(?:DROP|ALTER TABLE .* DROP) .*$/gm) ?? [];
  if (drops.length > 0) console.log(`It drops things (data loss on existing databases):\n  ${drops.join("\n  ")}`);
  console.log("Review it, then apply with `npm run db:migrate`.");
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  const line = message.split("\n").map((part) => part.trim()).find((part) => part !== "") ?? "unknown error";
  console.error(error instanceof UsageError ? line : `db:migration failed: ${line}`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
