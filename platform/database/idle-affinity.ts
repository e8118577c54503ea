import type pg from "pg";

/**
 * pg.Pool hands out the idle connection released last. Where checkouts of two bindings interleave
 * on one pool (a subgraph's token check spans tenants, its resolvers are bound to the request's
 * tenants: database-access.ts), that connection was mostly last bound the other way, so a
 * checkout paid a binding round trip before its own statement (under bench:gateway's
 * distinct-pages load, 434 of the subgraphs' 1,479 statements), and PostgreSQL plans a prepared
 * statement again when the role it ran under changes.
 *
 * Before a checkout that no other one waits ahead of, this moves the idle connection released
 * last among those `wanted` accepts to where the pool takes the next one from. Only an order
 * changes: the pool's accounting and timers are untouched, and the caller still checks (and if
 * need be sets) the binding of whatever connection it is handed. Reads pg-pool's idle list
 * (`_idle`, `_pendingQueue`, pg-pool 3.x); should those ever change shape, nothing is moved.
 */
export function preferIdle(pool: pg.Pool, wanted: (client: pg.PoolClient) => boolean): void {
  const { _idle: idle, _pendingQueue: waiting } = pool as unknown as { _idle?: unknown; _pendingQueue?: unknown };
  if (!Array.isArray(idle) || !Array.isArray(waiting) || waiting.length > 0 || idle.length < 2) return;
  for (let index = idle.length - 1; index >= 0; index--) {
    const client = (idle[index] as { client?: pg.PoolClient } | undefined)?.client;
    if (client === undefined || !wanted(client)) continue;
    if (index !== idle.length - 1) idle.push(...idle.splice(index, 1));
    return;
  }
}
