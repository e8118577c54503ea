import type { ServerResponse } from "node:http";
import { ERROR_CODES, type ErrorCode } from "../../platform/errors.ts";
import { sendJson } from "../../platform/http/graphql-http-server.ts";
import { dpopChallenge } from "../../platform/auth/dpop.ts";

/** The brief's single error envelope for every REST route: code, message, retry_after. */
export function sendError(response: ServerResponse, code: ErrorCode, message: string, retryAfterSeconds: number | null = null): void {
  if (retryAfterSeconds !== null) response.setHeader("retry-after", String(retryAfterSeconds));
  if (code === "UNAUTHENTICATED" && !response.hasHeader("www-authenticate")) response.setHeader("www-authenticate", 'Bearer realm="kamina-graph"');
  if (code === "INVALID_DPOP_PROOF" && !response.hasHeader("www-authenticate")) response.setHeader("www-authenticate", dpopChallenge(message));
  sendJson(response, ERROR_CODES[code].status, { code, message, retry_after: retryAfterSeconds });
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
