import type { ServerResponse } from "node:http";
import { ERROR_CODES, type ErrorCode } from "../../platform/errors.ts";
import { sendJson } from "../../platform/http/graphql-http-server.ts";
import { dpopChallenge } from "../../platform/auth/dpop.ts";

/**
 * The brief's single error envelope for every REST route: code, message, retry_after, and the
 * request id the logs carry (also in the `x-request-id` header), for a partner's support ticket.
 */
export function sendError(response: ServerResponse, code: ErrorCode, message: string, retryAfterSeconds: number | null = null): void {
  if (retryAfterSeconds !== null) response.setHeader("retry-after", String(retryAfterSeconds));
  if (code === "UNAUTHENTICATED" && !response.hasHeader("www-authenticate")) response.setHeader("www-authenticate", 'Bearer realm="kamina-graph"');
  if (code === "INVALID_DPOP_PROOF" && !response.hasHeader("www-authenticate")) response.setHeader("www-authenticate", dpopChallenge(message));
  const requestId = response.getHeader("x-request-id");
  sendJson(response, ERROR_CODES[code].status, { code, message, retry_after: retryAfterSeconds, ...(typeof requestId === "string" ? { request_id: requestId } : {}) });
}

/** A REST failure a handler throws; the router turns it into the envelope. */
export class RestError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }
}
