// The database the command-line tools (`db:migrate`, `seed`, the batch jobs) work on, chosen
// as the server chooses it: DATABASE_URL when set, else the embedded PGlite under DATA_DIR.
import type { PGlite } from "@electric-sql/pglite";
import { DEFAULT_DATA_DIR } from "../config/config.ts";
import { openEmbeddedDatabase, type DatabaseTarget } from "./database.ts";
import { EmbeddedDatabaseInUseError } from "./embedded-lock.ts";

export interface DatabaseFromEnvironment {
  target: DatabaseTarget;
  /** Where the data is, for messages; a URL's password is masked. */
  where: string;
  close(): Promise<void>;
}

export async function openDatabaseFromEnvironment(poolSize: number, env: NodeJS.ProcessEnv = process.env): Promise<DatabaseFromEnvironment> {
  const databaseUrl = env.DATABASE_URL?.trim();
  if (databaseUrl) return { target: { kind: "postgres", url: databaseUrl, poolSize }, where: redactUrl(databaseUrl), close: async () => {} };
  const dataDir = env.DATA_DIR?.trim() || DEFAULT_DATA_DIR;
  const where = `embedded PGlite at ${dataDir}/pglite`;
  let pglite: PGlite;
  try {
    pglite = await openEmbeddedDatabase(dataDir);
  } catch (error) {
    if (error instanceof EmbeddedDatabaseInUseError) throw error;
    throw new Error(`cannot open the ${where}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { target: { kind: "pglite", pglite }, where, close: () => pglite.close() };
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "DATABASE_URL";
  }
}
