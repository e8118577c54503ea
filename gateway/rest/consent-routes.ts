import { z } from "zod";
import type { AuditEvent, PartnerClient } from "../../generated/prisma/client.ts";
import { PARTNER_ID, PARTNER_ID_RULE } from "../../platform/partner-ids/partner-ids.ts";
import { ConsentStatus, Country } from "../../generated/prisma/enums.ts";
import { sendJson } from "../../platform/http/graphql-http-server.ts";
import type { AuthApi } from "../auth/auth-api.ts";
import { DEFAULT_RECEIPT_PAGE, MAX_RECEIPT_PAGE } from "../auth/consent-receipts.ts";
import { requestsOf } from "../auth/audit-log.ts";
import type { ConsentRecord } from "../auth/consent-service.ts";
import { meterOf } from "../rate-limit/request-meter.ts";
import { requireApp, requireClient, requireClientOrApp } from "./callers.ts";
import { APP_SEES_OUR_IDS, type ShowPerson } from "../pairwise/client-person-ids.ts";
import { RestError } from "./envelope.ts";
import { pageLimit } from "./query-params.ts";
import { parseInput, readBody } from "./request-body.ts";
import type { RestRoutes } from "./rest-routes.ts";
import { pageOf, type RouteSpec } from "./route-spec.ts";
import { proofKey, sendTokens, tokenType } from "./token-routes.ts";

const COUNTRIES = Object.values(Country);
const MAX_REASON = 500;

/**
 * The brief's consent request: an unknown field is refused rather than ignored. The person is
 * named by `user_external_id` (the brief's) or, instead, by `customer_id`: the client's own
 * customer id the person linked in the Kamina app (issue 21, item 1). Exactly one of the two.
 */
const consentRequest = z.strictObject({
  client_id: z.string({ error: "must be a string" }).min(1, "must not be empty"),
  user_external_id: z
    .string({ error: "must be a string" })
    .min(1, "must not be empty")
    .max(128, "is too long")
    .optional()
    .describe("The person: the id they gave the client (the brief's `USR_...`) or the client's pairwise id for them. Either this or `customer_id`"),
  customer_id: z
    .string({ error: "must be a string" })
    .regex(PARTNER_ID, `must be ${PARTNER_ID_RULE}`)
    .optional()
    .describe("The person, by this client's own customer id, once the person linked it in the Kamina app; resolved for this client only. Either this or `user_external_id`"),
  scopes: z.array(z.string({ error: "must hold strings" }), { error: "must be an array of scope names" }).min(1, "must name at least one scope").max(32, "names too many scopes"),
  country: z.enum(COUNTRIES, { error: `must be one of ${COUNTRIES.join(", ")}` }),
  consent_text_version: z.string({ error: "must be a string" }).min(1, "must not be empty").max(64, "is too long"),
});

const reasonBody = z.object({
  reason: z
    .string({ error: "must be a string" })
    .trim()
    .min(1, "must not be empty")
    .max(MAX_REASON, "is too long")
    .optional()
    .describe(`Why, in words (1 to ${MAX_REASON} characters); kept in the consent's history`),
});

// What the routes answer, for the OpenAPI document (and the contract tests that check live answers).
const timestamp = z.iso.datetime();
const STATUSES = Object.values(ConsentStatus);

const consentAnswer = z
  .object({
    consent_id: z.string().describe("The consent's id, `cns_` and 24 hex digits"),
    client_id: z.string().describe("The partner client that asked for it"),
    user_external_id: z.string().describe("The person's pseudonymous id"),
    country: z.enum(COUNTRIES).describe("The person's country"),
    status: z.enum(STATUSES).describe("AWAITING_AUTHORISATION, then AUTHORISED, REJECTED or EXPIRED; AUTHORISED then REVOKED or EXPIRED"),
    scopes: z.array(z.string()).describe("The per-user scopes granted"),
    consent_text_version: z.string().describe("The version of the consent text the person was shown"),
    consent_text_sha256: z.string().describe("SHA-256 (hex) of that text"),
    created_at: timestamp.describe("When the client asked"),
    authorised_at: timestamp.nullable().describe("When the person authorised it; null until then"),
    expires_at: timestamp.nullable().describe("When it expires: 24 hours after the request while it awaits the person, a year after authorisation once authorised"),
    revoked_at: timestamp.nullable().describe("When it was revoked; null unless revoked"),
    revocation_reason: z.string().nullable().describe("The reason given with the revocation, if any"),
    history: z
      .array(z.object({ status: z.enum(STATUSES), reason: z.string().nullable(), at: timestamp }))
      .describe("Every change of status, oldest first, with its reason"),
  })
  .describe("A consent, as its client (or the app) sees it");

const consentTokens = z.object({
  access_token: z.string().describe("A JWT access token (EdDSA, `typ: at+jwt`) for the granted scopes"),
  refresh_token: z.string().describe("`rf_` and 256 random bits; rotated on every use"),
  expires_in: z.number().int().describe("Seconds the access token lives"),
  consent_id: z.string().describe("The consent, authorised at once (sandbox client)"),
  token_type: z.literal("DPoP").optional().describe("Only for tokens bound to the `DPoP` proof's key"),
});

const awaitingConsent = z.object({
  consent_id: z.string().describe("The consent; exchange it at POST /v1/auth/token once the person authorises it"),
  status: z.literal("AWAITING_AUTHORISATION").describe("The person answers in the Kamina app"),
});

const receiptAnswer = z.object({
  receipt_id: z.string().describe("The receipt's id"),
  at: timestamp.describe("When the data was read"),
  request_id: z.string().describe("The request (or export job) that read it; the first of `request_ids`"),
  request_ids: z.array(z.string()).describe("Every request this receipt records: identical reads of the person by the client at the same moment (same fields, token kind and operation name) share one receipt"),
  client_id: z.string(),
  user_external_id: z.string(),
  consent_id: z.string(),
  country: z.enum(COUNTRIES),
  scopes: z.array(z.string()).describe("The consent's scopes when the data was read"),
  fields: z.array(z.string()).describe("The fields returned, as `Type.field`"),
  detail: z.record(z.string(), z.unknown()).nullable().describe("How it was read (token kind, operation name or export job); null when not recorded"),
});

// The handler reads these by hand (`pageLimit` and the cursor's own check), whose messages stay; this describes them.
const receiptsQuery = z.object({
  limit: pageLimit(MAX_RECEIPT_PAGE, `Receipts per page, 1 to ${MAX_RECEIPT_PAGE} (default ${DEFAULT_RECEIPT_PAGE})`),
  cursor: z.string().optional().describe("The `page.next_cursor` of the previous page"),
});

const TAG = "consent";
const consentResponse = { 200: { description: "The consent", schema: consentAnswer } };

const SPECS = {
  ask: {
    summary: "Ask for a person's consent",
    description: "A sandbox client's consent is authorised at once and answers the tokens (200); any other client's awaits the person in the Kamina app (202). A valid `DPoP` proof binds the tokens to its key.",
    tag: TAG,
    caller: "client",
    body: consentRequest,
    responses: {
      200: { description: "Authorised at once (sandbox client): the brief's tokens", schema: consentTokens },
      202: { description: "Awaiting the person's answer in the app; no tokens yet", schema: awaitingConsent },
    },
    errors: ["FORBIDDEN", "NOT_FOUND", "INVALID_DPOP_PROOF"],
  },
  read: {
    summary: "Read a consent",
    description: "Only the consent's client (or the app) sees it; for anyone else it is not found.",
    tag: TAG,
    caller: "client-or-app",
    responses: consentResponse,
    errors: ["BAD_REQUEST", "FORBIDDEN", "NOT_FOUND"],
  },
  revoke: {
    summary: "Revoke a consent",
    description: "The reason may come in the body or as the `reason` query parameter (the body's wins); both are optional. Revoking a revoked consent changes nothing.",
    tag: TAG,
    caller: "client-or-app",
    query: reasonBody,
    // Optional: a DELETE without a body revokes (an empty body reads as `{}`).
    body: reasonBody.optional(),
    responses: { 200: { description: "The consent, now REVOKED", schema: consentAnswer } },
    errors: ["FORBIDDEN", "NOT_FOUND", "CONFLICT"],
  },
  authorise: {
    summary: "The person authorises a consent (Kamina app)",
    tag: TAG,
    caller: "app",
    responses: { 200: { description: "The consent, now AUTHORISED", schema: consentAnswer } },
    errors: ["BAD_REQUEST", "NOT_FOUND", "CONFLICT"],
  },
  reject: {
    summary: "The person rejects a consent (Kamina app)",
    tag: TAG,
    caller: "app",
    body: reasonBody.optional(),
    responses: { 200: { description: "The consent, now REJECTED", schema: consentAnswer } },
    errors: ["NOT_FOUND", "CONFLICT"],
  },
  receipts: {
    summary: "A consent's receipts, newest first",
    description: "One receipt for every call that read the person's data through this consent.",
    tag: TAG,
    caller: "client",
    query: receiptsQuery,
    responses: {
      200: { description: "A page of receipts", schema: z.object({ items: z.array(receiptAnswer).describe("Newest first"), page: pageOf }) },
    },
    errors: ["BAD_REQUEST", "FORBIDDEN", "NOT_FOUND"],
  },
} satisfies Record<string, RouteSpec>;

/** Asking for consent, the person's answer (through the app), reading and revoking it. */
export function addConsentRoutes(router: RestRoutes, api: AuthApi): void {
  router.add("POST", "/v1/auth/consent", async (request, response) => {
    const client = await requireClient(api, request, response);
    const body = parseInput(consentRequest, await readBody(request));
    if (body.client_id !== client.id) throw new RestError("BAD_USER_INPUT", `\`client_id\` must be the client that authenticates (${client.id})`);
    const userId = await personNamed(api, client, body);
    // Each request of a live client is a prompt in the person's app: a few per person and window.
    await api.rateLimits.countConsentPrompt(meterOf(request), client, userId);
    // RFC 9449 §5: a valid `DPoP` proof binds the tokens a sandbox consent brings at once.
    const jkt = await proofKey(api, request);
    const consent = await api.consents.request(client, {
      userId,
      scopes: body.scopes,
      country: body.country,
      consentTextVersion: body.consent_text_version,
    });
    response.setHeader("location", `/v1/consents/${consent.id}`);
    if (consent.status !== "AUTHORISED") {
      sendJson(response, 202, { consent_id: consent.id, status: consent.status });
      return;
    }
    const tokens = await api.grants.forConsent(client, consent.id, jkt);
    // The brief's keys exactly; `token_type` joins them only for bound tokens, which a client must send differently.
    sendTokens(response, {
      access_token: tokens.accessToken,
      refresh_token: tokens.refreshToken,
      expires_in: tokens.expiresIn,
      consent_id: tokens.consentId,
      ...(jkt ? { token_type: tokenType(jkt) } : {}),
    });
  }, SPECS.ask);

  router.add("GET", "/v1/consents/:id", async (request, response, params) => {
    const { actor, show } = await requireClientOrApp(api, request, response);
    sendJson(response, 200, consentView(await api.consents.get(actor, params.id!), show));
  }, SPECS.read);

  router.add("DELETE", "/v1/consents/:id", async (request, response, params, _info, query) => {
    const { actor, show } = await requireClientOrApp(api, request, response);
    const body = await readBody(request);
    const { reason } = body.reason === undefined ? query() : parseInput(reasonBody, body);
    sendJson(response, 200, consentView(await api.consents.revoke(actor, params.id!, reason ?? null), show));
  }, SPECS.revoke);

  router.add("POST", "/v1/consents/:id/authorise", async (request, response, params) => {
    requireApp(api, request);
    sendJson(response, 200, consentView(await api.consents.authorise(params.id!), APP_SEES_OUR_IDS));
  }, SPECS.authorise);

  router.add("POST", "/v1/consents/:id/reject", async (request, response, params) => {
    requireApp(api, request);
    const { reason } = parseInput(reasonBody, await readBody(request));
    sendJson(response, 200, consentView(await api.consents.reject(params.id!, reason), APP_SEES_OUR_IDS));
  }, SPECS.reject);

  router.add("GET", "/v1/consents/:id/receipts", async (request, response, params, _info, query) => {
    const client = await requireClient(api, request, response);
    const { limit, cursor } = query();
    const consent = await api.consents.get({ kind: "client", clientId: client.id }, params.id!);
    const page = await api.receipts.list(consent.id, { limit: limit ?? DEFAULT_RECEIPT_PAGE, cursor });
    sendJson(response, 200, { items: page.receipts.map((receipt) => receiptView(receipt, api.people.showTo(client))), page: { next_cursor: page.nextCursor } });
  }, SPECS.receipts);
}

/**
 * The person a consent request names, as this client knows them: its pairwise id for them
 * (sandbox: our id too), or its own customer id, which finds a person for this client only.
 * Neither id is echoed in the 404.
 */
async function personNamed(api: AuthApi, client: PartnerClient, body: { user_external_id?: string | undefined; customer_id?: string | undefined }): Promise<string> {
  if ((body.user_external_id === undefined) === (body.customer_id === undefined)) {
    throw new RestError("BAD_USER_INPUT", "Name the person with exactly one of `user_external_id` and `customer_id`");
  }
  if (body.customer_id !== undefined) {
    const found = await api.partnerIds.personFor(client.id, body.customer_id);
    if (found === undefined) throw new RestError("NOT_FOUND", `No person has linked this \`customer_id\` to client ${client.id}`);
    return found;
  }
  const found = api.people.ours(client, body.user_external_id!);
  if (found === undefined) throw new RestError("NOT_FOUND", `No person ${body.user_external_id} for client ${client.id}`);
  return found;
}

export function consentView(consent: ConsentRecord, show: ShowPerson) {
  return {
    consent_id: consent.id,
    client_id: consent.clientId,
    user_external_id: show(consent.userId),
    country: consent.country,
    status: consent.status,
    scopes: consent.scopes,
    consent_text_version: consent.consentTextVersion,
    consent_text_sha256: consent.textVersion.sha256,
    created_at: consent.createdAt.toISOString(),
    authorised_at: consent.authorisedAt?.toISOString() ?? null,
    expires_at: consent.expiresAt?.toISOString() ?? null,
    revoked_at: consent.revokedAt?.toISOString() ?? null,
    revocation_reason: consent.revocationReason,
    history: consent.history.map((event) => ({ status: event.status, reason: event.reason, at: event.at.toISOString() })),
  };
}

export function receiptView(receipt: AuditEvent, show: ShowPerson) {
  return {
    receipt_id: receipt.id.toString(),
    at: receipt.at.toISOString(),
    request_id: receipt.requestId,
    request_ids: requestsOf(receipt),
    client_id: receipt.clientId,
    user_external_id: receipt.userId === null ? null : show(receipt.userId),
    consent_id: receipt.consentId,
    country: receipt.country,
    scopes: receipt.scopes,
    fields: receipt.fields,
    detail: receipt.detail ?? null,
  };
}
