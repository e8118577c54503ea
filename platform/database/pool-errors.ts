import type pg from "pg";

/**
 * A connection the server ends (a restart, pg_terminate_backend) raises an error event: on the
 * pool while the connection is idle, and on the connection itself while it is handed out between
 * two queries (pg-pool takes its own listener off a connection it hands out). Unheard, either is
 * an uncaught exception that stops the process. Heard, pg drops the connection, and the query that
 * next uses it fails with an error isDatabaseUnavailable recognises (503 with a retry).
 */
export function surviveConnectionErrors(pool: pg.Pool, onIdleError: (error: Error) => void = () => undefined): pg.Pool {
  pool.on("error", onIdleError);
  pool.on("connect", (client) => client.on("error", () => undefined));
  return pool;
}
