// The headers every answer carries, and CORS for the paths a browser app may call.
//
// Done on node's response before any route runs rather than as Hono middleware: the REST routes
// write to node's response themselves (streams, attachments) and hand Hono an already-sent
// answer, so headers a Hono middleware put on its own Response would never reach the client;
// and /graphql and /healthz are not Hono routes at all. One place, every answer.
import type { IncomingMessage, ServerResponse } from "node:http";

export interface HttpSecurityPolicy {
  /** Browser origins allowed to call /graphql and /v1/* (exact `scheme://host[:port]`); none by default. */
  corsOrigins: readonly string[];
  /** Send Strict-Transport-Security (the server is reached over https). */
  hsts: boolean;
}

/** For JSON answers: nothing may load, frame or be submitted from them. */
export const API_CONTENT_SECURITY_POLICY = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const HSTS = "max-age=31536000; includeSubDomains";
/** Methods and request headers a browser app may use; the REST routes and /graphql take no others. */
const CORS_METHODS = "GET, POST, PUT, PATCH, DELETE";
const CORS_REQUEST_HEADERS = "authorization, content-type, dpop, x-request-id, apollo-require-preflight, x-apollo-operation-name";
/** Response headers a browser app may read beside the safelisted ones. */
const CORS_EXPOSED_HEADERS = "x-request-id, retry-after, www-authenticate, ratelimit-limit, ratelimit-remaining, ratelimit-reset, ratelimit-policy, location";
const PREFLIGHT_MAX_AGE_SECONDS = "600";

/** Paths served to browser apps: GraphQL and the REST API (not /healthz, not /.well-known). */
function corsPath(path: string): boolean {
  return path === "/graphql" || path === "/v1" || path.startsWith("/v1/");
}

/**
 * Sets the security headers (a route may replace the Content-Security-Policy, as the reference
 * page does) and the CORS headers of an allowed origin. Answers a CORS preflight itself and
 * returns true then: 204 for an allowed origin on a CORS path, 403 with no CORS header otherwise.
 */
export function applySecurityHeaders(request: IncomingMessage, response: ServerResponse, policy: HttpSecurityPolicy): boolean {
  response.setHeader("x-content-type-options", "nosniff");
  response.setHeader("referrer-policy", "no-referrer");
  response.setHeader("x-frame-options", "DENY");
  response.setHeader("content-security-policy", API_CONTENT_SECURITY_POLICY);
  if (policy.hsts) response.setHeader("strict-transport-security", HSTS);

  const path = new URL(request.url ?? "/", "http://localhost").pathname;
  const origin = request.headers.origin;
  const served = corsPath(path) && policy.corsOrigins.length > 0;
  if (served) response.setHeader("vary", "Origin");
  const allowed = served && typeof origin === "string" && policy.corsOrigins.includes(origin);
  if (allowed) {
    response.setHeader("access-control-allow-origin", origin);
    response.setHeader("access-control-expose-headers", CORS_EXPOSED_HEADERS);
  }
  const preflight = request.method === "OPTIONS" && typeof origin === "string" && request.headers["access-control-request-method"] !== undefined;
  if (!preflight) return false;
  if (allowed) {
    response.setHeader("access-control-allow-methods", CORS_METHODS);
    response.setHeader("access-control-allow-headers", CORS_REQUEST_HEADERS);
    response.setHeader("access-control-max-age", PREFLIGHT_MAX_AGE_SECONDS);
    response.writeHead(204).end();
  } else {
    response.writeHead(403, { "content-length": 0 }).end();
  }
  return true;
}
