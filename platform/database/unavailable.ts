// Whether an error means the database cannot be reached for now (refused, shut down, not taking
// connections, out of connection slots) rather than a bug or a bad statement: callers answer
// 503 SERVICE_UNAVAILABLE with a retry, never 500.

/** SQLSTATE codes and classes of a database that is there but not serving. */
const UNAVAILABLE_STATES = new Set(["57P01", "57P02", "57P03", "53300", "55000"]);
const UNAVAILABLE_CLASS = "08"; // connection exception
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "EPIPE"]);
/** Prisma's driver-adapter kinds for a connection that is gone. */
const UNAVAILABLE_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout"]);
/**
 * node-postgres raises these without any code when the server ends a connection mid-use (a
 * restart, pg_terminate_backend) or none can be had in time; they are matched by message, the
 * only thing they carry.
 */
const DRIVER_MESSAGES = /^(Connection terminated( unexpectedly| due to connection timeout)?|Client has encountered a connection error and is not queryable|timeout exceeded when trying to connect)$/;

/** Seconds a client should wait before retrying a request the database could not serve. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

type Inspectable = { code?: unknown; cause?: unknown; meta?: unknown; driverAdapterError?: unknown; originalCode?: unknown; kind?: unknown; message?: unknown };

export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (error === null || typeof error !== "object" || depth > 6) return false;
  const value = error as Inspectable;
  for (const code of [value.code, value.originalCode]) {
    if (typeof code !== "string") continue;
    if (UNAVAILABLE_STATES.has(code) || code.startsWith(UNAVAILABLE_CLASS) && code.length === 5) return true;
    if (NETWORK_CODES.has(code)) return true;
  }
  if (typeof value.kind === "string" && UNAVAILABLE_KINDS.has(value.kind)) return true;
  if (value.code === undefined && typeof value.message === "string" && DRIVER_MESSAGES.test(value.message)) return true;
  return [value.cause, value.meta, value.driverAdapterError].some((inner) => isDatabaseUnavailable(inner, depth + 1));
}
