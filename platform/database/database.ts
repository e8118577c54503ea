import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import type { SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PrismaClient } from "../../generated/prisma/client.ts";
import type { Country } from "../../generated/prisma/enums.ts";
import { BoundPool, bindingOf, tenantsAccess, type DatabaseAccess } from "./database-access.ts";
import { lockEmbeddedDatabase } from "./embedded-lock.ts";
import { attachPool } from "./prepared-reads.ts";
import { surviveConnectionErrors } from "./pool-errors.ts";

/** Where the data lives: a PostgreSQL server, or the embedded PGlite shared in-process. */
export type DatabaseTarget =
  | { kind: "postgres"; url: string; poolSize?: number }
  | { kind: "pglite"; pglite: PGlite };

export interface PrismaOptions {
  /** Which rows the client may touch: a tenant set, a named bypass, or the owner (database-access.ts). */
  access: DatabaseAccess;
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

/** A pool of connections to the server, as every pool of the services is configured. */
export function sharedPool(target: Extract<DatabaseTarget, { kind: "postgres" }>): pg.Pool {
  const max = target.poolSize ?? 10;
  return surviveConnectionErrors(new pg.Pool({ connectionString: target.url, max, min: Math.min(WARM_CONNECTIONS, max), idleTimeoutMillis: 30_000 }));
}

/**
 * The driver adapter for `target` as the login role itself (migrations, the schema engine). The
 * services' clients go through createPrismaClient, which binds each connection to an access.
 */
export function adapterFactory(target: DatabaseTarget): SqlMigrationAwareDriverAdapterFactory {
  if (target.kind === "pglite") return new PrismaPGlite(target.pglite);
  return new PrismaPg(sharedPool(target), { disposeExternalPool: true });
}

/** A pool whose connections are bound to `access` before use (the owner's is the pool itself). */
function accessPool(shared: pg.Pool, access: DatabaseAccess, ownsShared: boolean): pg.Pool {
  const binding = bindingOf(access);
  return binding ? new BoundPool(shared, binding, ownsShared) : shared;
}

/**
 * One Prisma client per subgraph per process; the services own the queries. Errors are
 * "minimal": the other formats capture a stack trace at every call, to point at the caller if
 * the call fails (2.4% of the server's CPU in bench:realtime), and no Prisma message reaches a
 * client anyway (platform/http/format-error.ts); the logged error keeps its message and code.
 *
 * `access` is required: a client says which rows it may touch (database-access.ts). On the
 * embedded PGlite (one connection shared by everything) no role is taken: see embeddedAccessWarning.
 */
export function createPrismaClient(target: DatabaseTarget, options: PrismaOptions): PrismaClient {
  if (target.kind === "pglite") return prismaOver(new PrismaPGlite(target.pglite), options);
  const pool = accessPool(sharedPool(target), options.access, true);
  return prismaOver(new PrismaPg(pool, { disposeExternalPool: true }), options, pool);
}

/** `pool`: the one the adapter uses; prepared reads asked through the client go to it too (prepared-reads.ts), bound the same way. */
function prismaOver(adapter: SqlMigrationAwareDriverAdapterFactory, options: PrismaOptions, pool?: pg.Pool): PrismaClient {
  const { onStatement } = options;
  const client = new PrismaClient({
    adapter,
    errorFormat: "minimal",
    log: onStatement ? [{ level: "query", emit: "event" }] : [],
  });
  if (onStatement) client.$on("query", (event) => onStatement(event.query));
  if (pool) attachPool(client, pool, onStatement);
  return client;
}

/** What embedded mode says at start, once: PostgreSQL's row-level security is not in force there. */
export const EMBEDDED_ACCESS_WARNING =
  "EMBEDDED PGLITE DOES NOT ENFORCE TENANT ROW-LEVEL SECURITY: its one connection is shared by every request and runs as the owner, " +
  "so tenant isolation rests on the services' own country filters alone. Local use only: set DATABASE_URL for PostgreSQL's per-tenant roles (docs/operations.md, Tenants)";

/**
 * The connections of one service: one pool to the server, whose connections are handed out bound
 * to the access of whoever asks (a request's tenant set, or a named bypass). One Prisma client per
 * distinct access, made when first asked for (at most one per set of countries). Raw `pg` reads
 * take their pool from `pool(access)` so they are bound the same way.
 */
export class ServiceDatabase {
  private readonly shared: pg.Pool | undefined;
  private readonly clients = new Map<string, PrismaClient>();
  private readonly pools = new Map<string, pg.Pool>();
  private embedded: PrismaClient | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly target: DatabaseTarget,
    private readonly options: Omit<PrismaOptions, "access"> = {},
  ) {
    this.shared = target.kind === "postgres" ? sharedPool(target) : undefined;
  }

  /** True when rows are not confined by PostgreSQL (the embedded PGlite). */
  get enforcesRowSecurity(): boolean {
    return this.shared !== undefined;
  }

  /** The Prisma client bound to `access`. */
  client(access: DatabaseAccess): PrismaClient {
    if (!this.shared) return (this.embedded ??= createPrismaClient(this.target, { ...this.options, access }));
    const key = accessKey(access);
    let client = this.clients.get(key);
    if (!client) {
      const pool = this.pool(access) ?? this.shared;
      client = prismaOver(new PrismaPg(pool), { ...this.options, access }, pool);
      this.clients.set(key, client);
    }
    return client;
  }

  /** The Prisma client of a request confined to `countries`. */
  forTenants(countries: readonly Country[]): PrismaClient {
    return this.client(tenantsAccess(countries));
  }

  /** A pg.Pool whose connections are bound to `access` (for raw prepared reads); undefined on PGlite. */
  pool(access: DatabaseAccess): pg.Pool | undefined {
    if (!this.shared) return undefined;
    const key = accessKey(access);
    let pool = this.pools.get(key);
    if (!pool) {
      pool = accessPool(this.shared, access, false);
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** Idempotent: a subgraph stopped by hand and then again with its app closes its pools once. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.clients.values()].map((client) => client.$disconnect()));
      await this.embedded?.$disconnect();
      await this.shared?.end();
    })();
    return this.closing;
  }
}

function accessKey(access: DatabaseAccess): string {
  return bindingOf(access)?.key ?? `owner|${access.kind === "owner" ? access.why : ""}`;
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
export { allTenants, tenantsAccess, type DatabaseAccess } from "./database-access.ts";
