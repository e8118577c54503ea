import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { sendJson } from "../../platform/http/graphql-http-server.ts";
import { DpopError, verifyDpopProof } from "../../platform/auth/dpop.ts";
import { quotable } from "../../platform/auth/www-authenticate.ts";
import type { PartnerClient } from "../../generated/prisma/client.ts";
import type { ErrorCode } from "../../platform/errors.ts";
import type { AuthApi } from "../auth/auth-api.ts";
import { AuthError } from "../auth/auth-error.ts";
import { requireClient } from "./callers.ts";
import { RestError, sendError } from "./envelope.ts";
import { parseInput, readBody } from "./request-body.ts";
import type { RestRoutes } from "./rest-routes.ts";
import type { OAuthErrorCode, RouteSpec } from "./route-spec.ts";

export const CONSENT_GRANT = "urn:kamina:consent";
const GRANT_TYPES = [CONSENT_GRANT, "refresh_token", "client_credentials"] as const;

const text = (max: number) => z.string({ error: "must be a string" }).min(1, "must not be empty").max(max, "is too long");

// OAuth token requests: unknown parameters are ignored (RFC 6749 §3.2).
const tokenRequest = z.object({ grant_type: text(64), client_id: text(128).optional() });
const consentGrant = z.object({ consent_id: text(128) });
const refreshGrant = z.object({ refresh_token: text(256) });
const clientGrant = z.object({ scope: text(1024).optional() });
const revocationRequest = z.object({
  token: text(8192).describe("An access token or a refresh token of this client"),
  token_type_hint: z.string().optional().describe("`access_token` or `refresh_token`: accepted, not needed (the two kinds are told apart by their form)"),
});

/**
 * The token request as the document shows it: one shape per grant type, each made of the
 * schemas the handler checks in turn (`tokenRequest`, then its grant's), so the rules are theirs.
 */
const tokenRequestByGrant = z.discriminatedUnion("grant_type", [
  tokenRequest
    .extend({ grant_type: z.literal(CONSENT_GRANT) })
    .extend(consentGrant.shape)
    .describe("Exchanges an authorised consent for its tokens, once"),
  tokenRequest
    .extend({ grant_type: z.literal("refresh_token") })
    .extend(refreshGrant.shape)
    .describe("A new access token and the next refresh token (rotation; a reused refresh token revokes its family)"),
  tokenRequest
    .extend({ grant_type: z.literal("client_credentials") })
    .extend({ scope: clientGrant.shape.scope.describe("Space-separated scopes; by default every scope the client may hold") })
    .describe("The partner's own token, no refresh token"),
]);

const tokenAnswer = z.object({
  access_token: z.string().describe("A JWT access token (EdDSA, `typ: at+jwt`)"),
  token_type: z.enum(["Bearer", "DPoP"]).describe("`DPoP` when the request's `DPoP` proof bound the token to its key"),
  expires_in: z.number().int().describe("Seconds the access token lives"),
  refresh_token: z.string().optional().describe("The next refresh token (consent and refresh grants only); keep only the newest"),
  scope: z.string().describe("The granted scopes, space-separated"),
  consent_id: z.string().optional().describe("The consent the tokens stand on (consent and refresh grants only)"),
});

const TAG = "tokens";

const SPECS = {
  token: {
    summary: "The token endpoint (RFC 6749)",
    description:
      "Grant types `urn:kamina:consent`, `refresh_token` and `client_credentials`; a form or JSON body, unknown parameters ignored. A valid `DPoP` proof binds the tokens to its key (RFC 9449). Answers carry `Cache-Control: no-store`.",
    tag: TAG,
    caller: "client",
    body: tokenRequestByGrant,
    form: true,
    responses: { 200: { description: "The tokens", schema: tokenAnswer } },
    errors: ["FORBIDDEN", "INVALID_GRANT", "AUTHORISATION_PENDING", "INVALID_DPOP_PROOF"],
    oauthErrors: true,
  },
  revoke: {
    summary: "Revoke a token (RFC 7009)",
    description:
      "An access token's `jti` joins the revocation list; a refresh token revokes its family and the access tokens issued with it. The answer is the same for every token, known or not; only this client's tokens are revoked.",
    tag: TAG,
    caller: "client",
    body: revocationRequest,
    form: true,
    responses: { 200: { description: "Revoked, or nothing to revoke: an empty body" } },
    errors: ["FORBIDDEN"],
    oauthErrors: true,
  },
} satisfies Record<string, RouteSpec>;

/** The token endpoint (RFC 6749) and token revocation (RFC 7009). */
export function addTokenRoutes(router: RestRoutes, api: AuthApi): void {
  router.add("POST", "/v1/auth/token", async (request, response) => oauthAnswers(response, async () => {
    const client = await tokenClient(api, request, response);
    const body = await readBody(request, { form: true });
    const { grant_type: grantType, client_id: clientId } = parseInput(tokenRequest, body);
    if (clientId !== undefined && clientId !== client.id) throw new RestError("BAD_USER_INPUT", `\`client_id\` must be the client that authenticates (${client.id})`);
    // The request is checked in full before its DPoP proof is spent.
    switch (grantType) {
      case CONSENT_GRANT:
      case "refresh_token": {
        const grant =
          grantType === CONSENT_GRANT
            ? { kind: "consent" as const, consentId: parseInput(consentGrant, body).consent_id }
            : { kind: "refresh" as const, refreshToken: parseInput(refreshGrant, body).refresh_token };
        const jkt = await proofKey(api, request);
        const tokens =
          grant.kind === "consent" ? await api.grants.forConsent(client, grant.consentId, jkt) : await api.grants.refresh(client, grant.refreshToken, jkt);
        sendTokens(response, {
          access_token: tokens.accessToken,
          token_type: tokenType(jkt),
          expires_in: tokens.expiresIn,
          refresh_token: tokens.refreshToken,
          scope: tokens.scopes.join(" "),
          consent_id: tokens.consentId,
        });
        return;
      }
      case "client_credentials": {
        const { scope } = parseInput(clientGrant, body);
        const jkt = await proofKey(api, request);
        const tokens = await api.grants.forClient(client, scope?.split(" ").filter(Boolean), jkt);
        sendTokens(response, { access_token: tokens.accessToken, token_type: tokenType(jkt), expires_in: tokens.expiresIn, scope: tokens.scopes.join(" ") });
        return;
      }
      default:
        throw new OAuthError("BAD_USER_INPUT", `\`grant_type\` ${grantType} is not supported; use one of ${GRANT_TYPES.join(", ")}`, "unsupported_grant_type");
    }
  }), SPECS.token);

  router.add("POST", "/v1/auth/revoke", async (request, response) => oauthAnswers(response, async () => {
    const client = await tokenClient(api, request, response);
    const { token } = parseInput(revocationRequest, await readBody(request, { form: true }));
    await api.revocation.revoke(client, token);
    // The same answer for every token, known or not (RFC 7009 §2.2).
    response.writeHead(200, { "cache-control": "no-store", "content-length": 0 });
    response.end();
  }), SPECS.revoke);
}

/** A failure whose OAuth error is not the one its code implies (OAUTH_ERROR_OF). */
class OAuthError extends RestError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly oauth: OAuthErrorCode,
  ) {
    super(code, message);
  }
}

/** RFC 6749 §5.2 (and RFC 9449 §5, RFC 8628 §3.5) for each code a token endpoint answers with. */
const OAUTH_ERROR_OF: Partial<Record<ErrorCode, OAuthErrorCode>> = {
  BAD_REQUEST: "invalid_request",
  BAD_USER_INPUT: "invalid_request",
  UNSUPPORTED_MEDIA_TYPE: "invalid_request",
  PAYLOAD_TOO_LARGE: "invalid_request",
  UNAUTHENTICATED: "invalid_client",
  // The scope check is the only FORBIDDEN of a grant; a suspended client's is tokenClient's.
  FORBIDDEN: "invalid_scope",
  INVALID_GRANT: "invalid_grant",
  AUTHORISATION_PENDING: "authorization_pending",
  INVALID_DPOP_PROOF: "invalid_dpop_proof",
};

/** The authenticated client; a suspended one may use no grant (`unauthorized_client`). */
async function tokenClient(api: AuthApi, request: IncomingMessage, response: ServerResponse): Promise<PartnerClient> {
  try {
    return await requireClient(api, request, response);
  } catch (error) {
    if (error instanceof AuthError && error.code === "FORBIDDEN") throw new OAuthError(error.code, error.message, "unauthorized_client");
    throw error;
  }
}

/**
 * Runs a token endpoint: an expected failure answers the envelope with RFC 6749's `error` and
 * `error_description` beside it, so off-the-shelf OAuth clients read it. The rest (a 5xx, a
 * database outage) goes on to the router's own answer.
 */
async function oauthAnswers(response: ServerResponse, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    const failure = error instanceof RestError || error instanceof AuthError ? error : undefined;
    const oauth = failure instanceof OAuthError ? failure.oauth : failure && OAUTH_ERROR_OF[failure.code];
    if (!failure || !oauth || response.headersSent) throw error;
    sendError(response, failure.code, failure.message, failure instanceof RestError ? failure.retryAfterSeconds : null, { error: oauth, error_description: quotable(failure.message) });
  }
}

/**
 * RFC 9449 §5: the key a request's `DPoP` header proves possession of, checked for this POST
 * (`htm`, `htu`, `iat`) and spent (replay); undefined without the header. The tokens issued
 * are then bound to it. A proof that does not verify is refused, never ignored.
 */
export async function proofKey(api: AuthApi, request: IncomingMessage): Promise<string | undefined> {
  const proof = request.headers.dpop;
  if (proof === undefined) return undefined;
  if (typeof proof !== "string" || proof === "") throw new RestError("INVALID_DPOP_PROOF", "Send one DPoP proof in the `DPoP` header");
  try {
    return await verifyDpopProof({ proof, request: { method: request.method ?? "POST", url: api.proofs.requestUrl(request) }, replay: api.proofs.replay });
  } catch (error) {
    if (error instanceof DpopError) throw new RestError("INVALID_DPOP_PROOF", error.message);
    throw error;
  }
}

/** RFC 9449 §5: `DPoP` for a bound access token. */
export function tokenType(jkt: string | undefined): "DPoP" | "Bearer" {
  return jkt === undefined ? "Bearer" : "DPoP";
}

/** Token responses are never cached (RFC 6749 §5.1). */
export function sendTokens(response: ServerResponse, body: Record<string, unknown>): void {
  response.setHeader("cache-control", "no-store");
  response.setHeader("pragma", "no-cache");
  sendJson(response, 200, body);
}
