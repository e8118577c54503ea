// The setup most suites share: a fresh database seeded with the synthetic population, the real
// subgraphs and gateway on it, and a plain SQL client to look underneath.
import pg from "pg";
import { seedDatabase } from "../../prisma/seed/index.ts";
import { startTestKamina } from "./kamina.ts";
import { createTestDatabase, type TestDatabase } from "../../testkit/postgres.ts";
import { TEST_SANDBOX_SECRET } from "../../testkit/tokens.ts";

export interface SeededKamina {
  database: TestDatabase;
  kamina: Awaited<ReturnType<typeof startTestKamina>>;
  sql: pg.Client;
}

/** `env`: configuration for the started kamina, over the test defaults (startTestKamina). */
export async function startSeededKamina(options: { users: number; seed: number; poolSize?: number; env?: Record<string, string> }): Promise<SeededKamina> {
  const database = await createTestDatabase();
  const poolSize = options.poolSize ?? 4;
  await seedDatabase({ kind: "postgres", url: database.url, poolSize }, { users: options.users, seed: options.seed, sandboxClientSecret: TEST_SANDBOX_SECRET });
  const kamina = await startTestKamina({ kind: "postgres", url: database.url, poolSize }, options.env);
  const sql = new pg.Client({ connectionString: database.url });
  await sql.connect();
  return { database, kamina, sql };
}

/** Undoes what startSeededKamina did, whatever part of it succeeded. */
export async function stopSeededKamina(parts: Partial<SeededKamina>): Promise<void> {
  await parts.sql?.end();
  await parts.kamina?.stop();
  await parts.database?.drop();
}
