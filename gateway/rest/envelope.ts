import type { ServerResponse } from "node:http";
import { ERROR_CODES, type ErrorCode } from "../../platform/errors.ts";
import { sendJson } from "../../platform/http/graphql-http-server.ts";
import { dpopChallenge } from "../../platform/auth/dpop.ts";
import { tokenChallenge } from "../../platform/auth/www-authenticate.ts";

/**
 * The brief's single error envelope for every REST route: code, message, retry_after, and the
 * request id the logs carry (also in the `x-request-id` header), for a partner's support ticket.
 * `extra` adds fields beside it where a standard asks for them (RFC 6749's `error` and
 * `error_description` on the token endpoints).
 */
export function sendError(response: ServerResponse, code: ErrorCode, message: string, retryAfterSeconds: number | null = null, extra: Record<string, string> = {}): void {
  if (retryAfterSeconds !== null) response.setHeader("retry-after", String(retryAfterSeconds));
  // RFC 6750 §3: a bare challenge when no token came, `error="invalid_token"` when the one sent was refused.
  if ((code === "UNAUTHENTICATED" || code === "CONSENT_REVOKED") && !response.hasHeader("www-authenticate")) {
    response.setHeader("www-authenticate", tokenChallenge(response.req?.headers.authorization, message));
  }
  if (code === "INVALID_DPOP_PROOF" && !response.hasHeader("www-authenticate")) response.setHeader("www-authenticate", dpopChallenge(message));
  const requestId = response.getHeader("x-request-id");
  sendJson(response, ERROR_CODES[code].status, { code, message, retry_after: retryAfterSeconds, ...(typeof requestId === "string" ? { request_id: requestId } : {}), ...extra });
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
