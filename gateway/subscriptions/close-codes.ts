/**
 * WebSocket close codes the gateway uses on /graphql besides graphql-ws's own protocol codes
 * (4400 bad message, 4406 subprotocol, 4408 init timeout, 4409 duplicate id, 4429 repeated init,
 * 4500 internal error). Documented in docs/realtime.md; a client decides what to do by code.
 */
export const CLOSE_CODES = {
  /** "Refresh, then retry": no token in `connection_init`, one that fails verification, or one that expired. Get a new token, reconnect, resume with `after`. */
  UNAUTHENTICATED: 4401,
  /**
   * "Stop": the consent behind the token was revoked or expired, the token was revoked, or its
   * client is suspended. The same code at connect and on a live socket, so a client that
   * reconnects after one sees it again instead of a 4401 that sends it refreshing a token that
   * cannot be refreshed.
   */
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
  /**
   * An event could not be read for now (a subgraph or the database unreachable): reconnect with
   * back-off and resume with `after`, so the event is delivered once it can be, never skipped.
   */
  TRY_AGAIN_LATER: 1013,
} as const;

/** Close reasons are limited to 123 bytes by the WebSocket protocol. */
export function closeReason(text: string): string {
  const bytes = Buffer.from(text, "utf8");
  return bytes.length <= 123 ? text : bytes.subarray(0, 120).toString("utf8") + "...";
}

/**
 * What the token verifier's refusal (platform/auth/token-verifier.ts) means to a subscriber: a
 * consent that is over (its code CONSENT_REVOKED: revoked, rejected or expired), a revoked token
 * or a suspended client is final (4403, stop); anything else (an expired or malformed token, a
 * key no longer published) is fixed by a new token (4401). Used alike at connect and on a live
 * socket; test/subscriptions.test.ts holds each refusal to its code.
 */
export function closeCodeForRejectedToken(refusal: { reason: string; code?: string }): number {
  if (refusal.code === "CONSENT_REVOKED") return CLOSE_CODES.FORBIDDEN;
  return /revoked|no longer authorised|suspended/i.test(refusal.reason) ? CLOSE_CODES.FORBIDDEN : CLOSE_CODES.UNAUTHENTICATED;
}
