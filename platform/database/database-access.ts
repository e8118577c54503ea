// Who a connection is in PostgreSQL, and so which rows it may touch (row-level security,
// prisma/migrations/*_tenant_row_security). Every connection the services open is bound here,
// when the pool hands it out, before the caller's first statement: a resolver never sees an
// unbound connection, and a statement of one tenant's request never runs on a connection bound
// to another's.
import pg from "pg";
import type { Country } from "../../generated/prisma/enums.ts";
import { preferIdle } from "./idle-affinity.ts";
import { isDatabaseUnavailable } from "./unavailable.ts";

/**
 * What a database client is allowed to see:
 * - `tenants`: the rows of these countries only (role kamina_app); a request's own client.
 * - `all-tenants`: every country's rows (role kamina_all_tenants), the named bypass for work that
 *   spans tenants by design (token checks, workers, operator commands). `why` names it in
 *   pg_stat_activity and the server's logs (application_name kamina:all-tenants:<why>).
 * - `owner`: the login role itself, for migrations and test fixtures; never a service's.
 */
export type DatabaseAccess =
  | { kind: "tenants"; countries: readonly Country[] }
  | { kind: "all-tenants"; why: string }
  | { kind: "owner"; why: string };

export const APP_ROLE = "kamina_app";
export const ALL_TENANTS_ROLE = "kamina_all_tenants";

/** Work that spans tenants by design, named: `allTenants("export-worker")`. */
export function allTenants(why: string): DatabaseAccess {
  return { kind: "all-tenants", why };
}

export function tenantsAccess(countries: readonly Country[]): DatabaseAccess {
  return { kind: "tenants", countries };
}

/** The setting statement for an access; `undefined` for the owner (nothing to switch). */
export function bindingOf(access: DatabaseAccess): Binding | undefined {
  switch (access.kind) {
    case "owner":
      return undefined;
    case "all-tenants":
      return { key: `*|${access.why}`, role: ALL_TENANTS_ROLE, tenants: "", applicationName: `kamina:all-tenants:${access.why}`.slice(0, 63) };
    case "tenants": {
      const tenants = `{${[...new Set(access.countries)].sort().join(",")}}`;
      return { key: tenants, role: APP_ROLE, tenants, applicationName: "kamina:tenants" };
    }
  }
}

export interface Binding {
  /** Equal keys, equal binding: a connection already bound so is not bound again. */
  key: string;
  role: string;
  /** A Country[] literal; empty for the bypass role, whose policy ignores it. */
  tenants: string;
  applicationName: string;
}

/** What each pooled connection was last bound to. */
const boundTo = new WeakMap<pg.PoolClient, string>();

const BIND_SQL = "SELECT set_config('role', $1, false), set_config('kamina.tenants', $2, false), set_config('application_name', $3, false)";

/**
 * Binds `client` (one round trip, only when it was last bound otherwise). Outside any
 * transaction, so a rollback cannot undo it. A connection that fails to bind is destroyed.
 */
export async function bindConnection(client: pg.PoolClient, binding: Binding): Promise<void> {
  if (boundTo.get(client) === binding.key) return;
  try {
    await client.query(BIND_SQL, [binding.role, binding.tenants, binding.applicationName]);
  } catch (error) {
    boundTo.delete(client);
    client.release(error instanceof Error ? error : new Error(String(error)));
    // A connection the server ended is an outage (503 with a retry), not a missing migration.
    if (isDatabaseUnavailable(error)) throw error;
    throw new Error(`cannot bind a database connection to ${binding.role} (${binding.tenants || binding.applicationName}); have the migrations run (npm run db:migrate)? ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  boundTo.set(client, binding.key);
}

/**
 * A pg.Pool for Prisma's driver adapter (which takes any pg.Pool) that hands out connections of
 * a shared pool, each bound to one access first. Many of them share one pool, so a process opens
 * no more connections than before however many tenant sets it serves; a connection switches
 * binding only when the next request on it belongs to another tenant set.
 */
export class BoundPool extends pg.Pool {
  constructor(shared: pg.Pool, binding: Binding, ownsShared: boolean) {
    super({ ...shared.options, max: 0 });
    const boundHere = (client: pg.PoolClient) => boundTo.get(client) === binding.key;
    const connect = async (): Promise<pg.PoolClient> => {
      preferIdle(shared, boundHere);
      const client = await shared.connect();
      await bindConnection(client, binding);
      return client;
    };
    // Only the promise forms: Prisma's adapter calls connect() and query(config) and awaits them.
    this.connect = connect as pg.Pool["connect"];
    this.query = (async (config: unknown, values?: unknown) => {
      const client = await connect();
      try {
        const result = await (client.query as (config: unknown, values?: unknown) => Promise<unknown>)(config, values);
        client.release();
        return result;
      } catch (error) {
        // A statement's own error (it has a SQLSTATE) leaves the connection usable; anything else may not.
        client.release(typeof (error as { code?: unknown }).code === "string" ? undefined : (error as Error));
        throw error;
      }
    }) as pg.Pool["query"];
    // The shared pool belongs to whoever made it; a pool made for one client goes with it.
    this.end = (async () => {
      if (ownsShared) await shared.end();
    }) as pg.Pool["end"];
  }
}
