/**
 * WebSocket close codes the gateway uses on /graphql besides graphql-ws's own protocol codes
 * (4400 bad message, 4406 subprotocol, 4408 init timeout, 4409 duplicate id, 4429 repeated init,
 * 4500 internal error). Documented in docs/realtime.md; a client decides what to do by code.
 */
export const CLOSE_CODES = {
  /** No token in `connection_init`, a token that fails verification, or one that expired: get a new token, reconnect. */
  UNAUTHENTICATED: 4401,
  /** The consent behind the token was revoked or expired, or the token was revoked: do not reconnect with it. */
  FORBIDDEN: 4403,
  /**
   * The client already holds as many open sockets as it may (WS_MAX_CONNECTIONS_PER_CLIENT): close
   * one before opening another. graphql-ws uses the same code for a repeated `connection_init`; the
   * reason tells them apart. Its clients do not retry it.
   */
  TOO_MANY_CONNECTIONS: 4429,
  /** The client read too slowly and fell too far behind: reconnect and resume with `after` = the last cursor received. */
  TOO_SLOW: 4410,
  /** The gateway is shutting down: reconnect (to another instance) and resume with `after`. */
  GOING_AWAY: 1001,
} as const;

/** Close reasons are limited to 123 bytes by the WebSocket protocol. */
export function closeReason(text: string): string {
  const bytes = Buffer.from(text, "utf8");
  return bytes.length <= 123 ? text : bytes.subarray(0, 120).toString("utf8") + "...";
}

/** An expired token asks for a new one (4401); a revoked token or consent is final (4403). */
export function closeCodeForRejectedToken(reason: string): number {
  return /expired/i.test(reason) && !/consent/i.test(reason) ? CLOSE_CODES.UNAUTHENTICATED : CLOSE_CODES.FORBIDDEN;
}
