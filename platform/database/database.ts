import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import type { SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PrismaClient } from "../../generated/prisma/client.ts";
import { lockEmbeddedDatabase } from "./embedded-lock.ts";

/** Where the data lives: a PostgreSQL server, or the embedded PGlite shared in-process. */
export type DatabaseTarget =
  | { kind: "postgres"; url: string; poolSize?: number }
  | { kind: "pglite"; pglite: PGlite };

export interface PrismaOptions {
  /** Called once per SQL statement Prisma sends; used for statement counts. */
  onStatement?: (sql: string) => void;
}

/**
 * Connections each pool keeps open however quiet it gets: opening one costs a TCP handshake, a
 * server process and Prisma's session set-up, and when every pool of a quiet gateway had closed
 * them, the first second of traffic after a lull paid that on every hop (bench:realtime: the
 * first events after a 35 s lull at 200-400 ms, against 15-20 ms once warm).
 */
const WARM_CONNECTIONS = 2;

export function adapterFactory(target: DatabaseTarget): SqlMigrationAwareDriverAdapterFactory {
  if (target.kind === "pglite") return new PrismaPGlite(target.pglite);
  const max = target.poolSize ?? 10;
  return new PrismaPg({
    connectionString: target.url,
    max,
    min: Math.min(WARM_CONNECTIONS, max),
    idleTimeoutMillis: 30_000,
  });
}

/**
 * One Prisma client per subgraph per process; the services own the queries. Errors are
 * "minimal": the other formats capture a stack trace at every call, to point at the caller if
 * the call fails (2.4% of the server's CPU in bench:realtime), and no Prisma message reaches a
 * client anyway (platform/http/format-error.ts); the logged error keeps its message and code.
 */
export function createPrismaClient(target: DatabaseTarget, options: PrismaOptions = {}): PrismaClient {
  const { onStatement } = options;
  const client = new PrismaClient({
    adapter: adapterFactory(target),
    errorFormat: "minimal",
    log: onStatement ? [{ level: "query", emit: "event" }] : [],
  });
  if (onStatement) client.$on("query", (event) => onStatement(event.query));
  return client;
}

/** Opens (creating if needed) the embedded PostgreSQL persisted under `dataDir`. */
/**
 * The embedded database under `dataDir`, for this process only: a second process is refused
 * with EmbeddedDatabaseInUseError (embedded-lock.ts) rather than let into PGlite. Closing it
 * releases the lock.
 */
export async function openEmbeddedDatabase(dataDir: string): Promise<PGlite> {
  mkdirSync(dataDir, { recursive: true });
  const directory = join(dataDir, "pglite");
  const release = lockEmbeddedDatabase(`${directory}.lock`, directory);
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(directory);
    await pglite.waitReady;
  } catch (error) {
    release();
    throw error;
  }
  const close = pglite.close.bind(pglite);
  pglite.close = async () => {
    try {
      await close();
    } finally {
      release();
    }
  };
  return pglite;
}

export type { PrismaClient };
