import { GraphQLError } from "graphql";

/**
 * The one catalogue of error codes. Each code has its HTTP status (REST envelope and
 * transport-level failures) and a line of docs; docs/errors.md is generated from it.
 */
export const ERROR_CODES = {
  BAD_REQUEST: { status: 400, doc: "The HTTP request is malformed: not JSON, wrong content type, or no operation." },
  BAD_USER_INPUT: { status: 400, doc: "An argument or body field is missing, malformed or out of range." },
  INVALID_GRANT: { status: 400, doc: "The refresh token or consent grant is unknown, expired, revoked or already used (OAuth `invalid_grant`)." },
  AUTHORISATION_PENDING: { status: 400, doc: "The consent still awaits the person's authorisation; ask for tokens again once it is authorised (OAuth `authorization_pending`)." },
  GRAPHQL_PARSE_FAILED: { status: 400, doc: "The GraphQL document does not parse." },
  GRAPHQL_VALIDATION_FAILED: { status: 400, doc: "The operation asks for a field or argument the schema does not have, or its variables have the wrong type." },
  OPERATION_TOO_COMPLEX: {
    status: 400,
    doc: "The operation is over one of the limits on what one request may cost, refused before anything runs; `extensions.limit` names it (`depth`, `aliases`, `rootFields`, `directives`, `tokens`, `selections` with fragments expanded, or `cost` estimated from `first` and list sizes) and `extensions.max` its value where known. Ask for less, or split the operation.",
  },
  OPERATION_RESOLUTION_FAILURE: { status: 400, doc: "No operation to run: `operationName` names none in the document, or the document holds several and none is named." },
  OPERATION_NOT_SUPPORTED: { status: 400, doc: "The operation's type is not served on this transport: subscriptions go over graphql-ws on /graphql, queries and mutations over HTTP POST." },
  PERSISTED_QUERY_NOT_FOUND: {
    status: 400,
    doc: "The document hash (`extensions.persistedQuery.sha256Hash` or `documentId`) is unknown. With trusted documents off, send the full query with it (automatic persisted queries); with them enforced, only documents registered for your client run, and sending the text does not register it.",
  },
  PERSISTED_QUERY_REQUIRED: {
    status: 400,
    doc: "The gateway enforces trusted documents (TRUSTED_DOCUMENTS=enforce, the production default): a request names a document registered for its client by its SHA-256 (`extensions.persistedQuery.sha256Hash` or `documentId`) instead of sending query text.",
  },
  INTROSPECTION_DISABLED: { status: 400, doc: "Schema introspection (`__schema`, `__type`) is off on this gateway (the production default); the schema is published with the API documentation." },
  UNAUTHENTICATED: {
    status: 401,
    doc: "No valid token: missing, expired, not yet valid, badly signed or revoked (the token itself, or every token of a suspended client). An expired access token asks for a refresh. A 401 carries `WWW-Authenticate`: `Bearer realm=\"kamina-graph\"` when no token came, with `error=\"invalid_token\"` when the one sent is refused (RFC 6750).",
  },
  INVALID_DPOP_PROOF: {
    status: 401,
    doc: "A token or grant bound to a key (RFC 9449 DPoP) came without a valid proof: none, `Bearer` instead of the `DPoP` scheme, another key, another method, URL or access token, too old, or replayed; or an unbound token came with the `DPoP` scheme. The answer carries `WWW-Authenticate: DPoP error=\"invalid_dpop_proof\"`. The token endpoints answer it too, for a `DPoP` header that does not verify.",
  },
  CONSENT_REVOKED: {
    status: 401,
    doc: "The consent behind the token was revoked (by the person or the client) or reached its end date: neither this token nor its refresh token will work again, so stop and ask the person for a new consent. Unlike `UNAUTHENTICATED`, a refresh cannot help. Carries `WWW-Authenticate` with `error=\"invalid_token\"`.",
  },
  GATEWAY_SIGNATURE_REQUIRED: {
    status: 401,
    doc: "A subgraph's own port was called without the gateway's signature (`x-kamina-gateway-signature`), or with one that is forged, older than 30 s, or made for another method, path or body. Subgraphs serve only the gateway; partners call the gateway.",
  },
  UNAUTHORIZED_FIELD_OR_TYPE: { status: 403, doc: "The token's scopes do not cover this field, or an argument passed to it (`@argumentRequiresScopes`); it comes back null and the rest of the operation runs." },
  FORBIDDEN: { status: 403, doc: "The caller may not perform this action." },
  NOT_FOUND: { status: 404, doc: "The resource does not exist or is not visible to the caller (the two are the same answer)." },
  METHOD_NOT_ALLOWED: { status: 405, doc: "The path exists but not for this method; the `Allow` header lists the methods it takes." },
  CONFLICT: { status: 409, doc: "The request conflicts with the current state (for example, seeding a database that already has data)." },
  REQUEST_TIMEOUT: { status: 408, doc: "The request's headers or body did not arrive in time (a slow or stalled client); send it again in one go." },
  PAYLOAD_TOO_LARGE: { status: 413, doc: "The request body exceeds the size limit." },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, doc: "The request body's `Content-Type` is not one the route reads (JSON, or a form on the token routes)." },
  RATE_LIMITED: {
    status: 429,
    doc: "The client is over one of its quotas per window (docs/operations.md#rate-limits): requests, the estimated cost of its operations, failed client authentications (per client id and per address: the right secret is refused too until the window passes) or consent requests for one person. Retry after `retry_after` seconds (`extensions.retryAfter` on /graphql, and the `Retry-After` header). The answers a client gets once authenticated carry the `RateLimit-Policy` and `RateLimit` headers of the quotas it was counted against, and so does this 429.",
  },
  SERVICE_UNAVAILABLE: { status: 503, doc: "The database cannot be reached for now (down, restarting, out of connections); nothing was changed. Retry after `retry_after` seconds." },
  SUBGRAPH_UNAVAILABLE: { status: 502, doc: "A subgraph did not answer; the fields it owns come back null with this error, the rest of the data is returned." },
  INTERNAL_SERVER_ERROR: { status: 500, doc: "An unexpected failure. Details are logged with the request id, never sent to the client." },
} as const satisfies Record<string, { status: number; doc: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_CODES, value);
}

/** A GraphQL error with a catalogued code. */
export function graphQLError(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code } });
}

export function badUserInput(message: string, argument?: string): GraphQLError {
  return graphQLError("BAD_USER_INPUT", message, argument ? { argumentName: argument } : {});
}
