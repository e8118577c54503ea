// What a REST route says of itself for the OpenAPI document. The schemas are zod schemas the
// route's handler validates its input with (and its tests check its answers against), so the
// document is generated from them and never kept by hand beside them.
import { z } from "zod";
import { ERROR_CODES, type ErrorCode } from "../../platform/errors.ts";

/** Who may call a route: a consent or partner token, the client's credentials, the Kamina app's key, or anyone. */
export type RouteCaller = "token" | "partner-token" | "client" | "client-or-app" | "app" | "public";

export interface RouteResponse {
  description: string;
  /** The JSON body; omitted for a body that is not JSON (`contentType`) or none. */
  schema?: z.ZodType;
  /** For a body that is not JSON, e.g. `text/csv`; several when the request chooses (`text/csv` or `application/jsonl`). */
  contentType?: string | readonly string[];
}

export interface RouteSpec {
  summary: string;
  /** Groups the route in the reference (the brief's data classes, consent, webhooks, ...). */
  tag: string;
  caller: RouteCaller;
  description?: string;
  /** The query parameters, one key each. */
  query?: z.ZodObject;
  /** Request headers the route reads beyond authentication (`Idempotency-Key`). */
  headers?: z.ZodObject;
  /** A JSON body (or, on the token routes, a form with the same fields). */
  body?: z.ZodType;
  /** Form bodies too (the OAuth token routes). */
  form?: boolean;
  /** A body that is a file, not JSON (an app's CSV export): the content types it may come as. */
  fileBody?: { contentTypes: readonly string[]; description: string };
  /** Answers other than errors, by status. */
  responses: Record<number, RouteResponse>;
  /** The error codes the route answers with, beyond those every route of its caller kind can (401, 405, 413, 415, 500). */
  errors?: readonly ErrorCode[];
  /** An OAuth endpoint: its errors carry RFC 6749's `error` and `error_description` beside the envelope (oauthErrorEnvelope). */
  oauthErrors?: boolean;
}

/** A person's id as the REST routes take it (`user_id`): what our ids and the partners' pseudonymous ones look like. */
export const PERSON_ID = /^[\w-]{1,64}$/;

/** The brief's error envelope, as every REST failure answers. */
export const errorEnvelope = z
  .object({
    code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]).describe("One of docs/errors.md"),
    message: z.string().describe("What went wrong, for a person to read"),
    retry_after: z.number().int().nullable().describe("Seconds to wait before retrying, or null"),
    request_id: z.string().optional().describe("The request's id (also the x-request-id header): quote it to support"),
  })
  .describe("The brief's error envelope");

/** A list's page: the brief's `page.next_cursor`. */
export const pageOf = z.object({ next_cursor: z.string().nullable().describe("Pass as `cursor` for the next page; null on the last") });

/** RFC 6749 §5.2's error codes (and RFC 9449's), as the token endpoints name them beside the envelope's own code. */
export const OAUTH_ERRORS = [
  "invalid_request",
  "invalid_client",
  "invalid_grant",
  "unauthorized_client",
  "unsupported_grant_type",
  "invalid_scope",
  "authorization_pending",
  "invalid_dpop_proof",
] as const;
export type OAuthErrorCode = (typeof OAUTH_ERRORS)[number];

/**
 * The token endpoints' errors: the envelope, plus `error` and `error_description` so off-the-shelf
 * OAuth clients read them (RFC 6749 §5.2). Both are absent where OAuth names no error (a 429, a 5xx).
 */
export const oauthErrorEnvelope = errorEnvelope
  .extend({
    error: z.enum(OAUTH_ERRORS).optional().describe("The OAuth error code (RFC 6749 §5.2, RFC 9449 §5)"),
    error_description: z.string().optional().describe("`message` in the characters RFC 6749 allows (no quotes, backslashes or non-ASCII)"),
  })
  .describe("The brief's error envelope, with RFC 6749's error fields")
  // One component of the document, referred to by every token endpoint's error answers.
  .meta({ id: "OAuthErrorEnvelope" });
