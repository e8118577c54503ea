import { z } from "zod";
import type { AuditEvent } from "../../generated/prisma/client.ts";
import { Country } from "../../generated/prisma/enums.ts";
import { sendJson } from "../../platform/http/graphql-http-server.ts";
import type { AuthApi } from "../auth/auth-api.ts";
import { DEFAULT_RECEIPT_PAGE, MAX_RECEIPT_PAGE } from "../auth/consent-receipts.ts";
import type { ConsentRecord } from "../auth/consent-service.ts";
import { requireApp, requireClient, requireClientOrApp } from "./callers.ts";
import { RestError } from "./envelope.ts";
import { parseInput, readBody } from "./request-body.ts";
import type { Router } from "./path-router.ts";
import { proofKey, sendTokens, tokenType } from "./token-routes.ts";

const COUNTRIES = Object.values(Country);
const MAX_REASON = 500;

/** The brief's consent request, exactly: an unknown field is refused rather than ignored. */
const consentRequest = z.strictObject({
  client_id: z.string({ error: "must be a string" }).min(1, "must not be empty"),
  user_external_id: z.string({ error: "must be a string" }).min(1, "must not be empty").max(128, "is too long"),
  scopes: z.array(z.string({ error: "must hold strings" }), { error: "must be an array of scope names" }).min(1, "must name at least one scope").max(32, "names too many scopes"),
  country: z.enum(COUNTRIES, { error: `must be one of ${COUNTRIES.join(", ")}` }),
  consent_text_version: z.string({ error: "must be a string" }).min(1, "must not be empty").max(64, "is too long"),
});

const reasonBody = z.object({ reason: z.string({ error: "must be a string" }).trim().min(1, "must not be empty").max(MAX_REASON, "is too long").optional() });

/** Asking for consent, the person's answer (through the app), reading and revoking it. */
export function addConsentRoutes(router: Router, api: AuthApi): void {
  router.add("POST", "/v1/auth/consent", async (request, response) => {
    const client = await requireClient(api, request, response);
    const body = parseInput(consentRequest, await readBody(request));
    if (body.client_id !== client.id) throw new RestError("BAD_USER_INPUT", `\`client_id\` must be the client that authenticates (${client.id})`);
    // RFC 9449 §5: a valid `DPoP` proof binds the tokens a sandbox consent brings at once.
    const jkt = await proofKey(api, request);
    const consent = await api.consents.request(client, {
      userId: body.user_external_id,
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
  });

  router.add("GET", "/v1/consents/:id", async (request, response, params) => {
    const actor = await requireClientOrApp(api, request, response);
    sendJson(response, 200, consentView(await api.consents.get(actor, params.id!)));
  });

  router.add("DELETE", "/v1/consents/:id", async (request, response, params) => {
    const actor = await requireClientOrApp(api, request, response);
    const query = new URL(request.url ?? "/", "http://localhost").searchParams.get("reason");
    const body = await readBody(request);
    const { reason } = parseInput(reasonBody, { reason: body.reason ?? query ?? undefined });
    sendJson(response, 200, consentView(await api.consents.revoke(actor, params.id!, reason ?? null)));
  });

  router.add("POST", "/v1/consents/:id/authorise", async (request, response, params) => {
    requireApp(api, request);
    sendJson(response, 200, consentView(await api.consents.authorise(params.id!)));
  });

  router.add("POST", "/v1/consents/:id/reject", async (request, response, params) => {
    requireApp(api, request);
    const { reason } = parseInput(reasonBody, await readBody(request));
    sendJson(response, 200, consentView(await api.consents.reject(params.id!, reason)));
  });

  router.add("GET", "/v1/consents/:id/receipts", async (request, response, params) => {
    const client = await requireClient(api, request, response);
    const consent = await api.consents.get({ kind: "client", clientId: client.id }, params.id!);
    const query = new URL(request.url ?? "/", "http://localhost").searchParams;
    const page = await api.receipts.list(consent.id, { limit: pageLimit(query.get("limit")), cursor: query.get("cursor") ?? undefined });
    sendJson(response, 200, { items: page.receipts.map(receiptView), page: { next_cursor: page.nextCursor } });
  });
}

function pageLimit(raw: string | null): number {
  if (raw === null) return DEFAULT_RECEIPT_PAGE;
  const limit = /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
  if (!(limit >= 1 && limit <= MAX_RECEIPT_PAGE)) throw new RestError("BAD_USER_INPUT", `\`limit\` must be an integer from 1 to ${MAX_RECEIPT_PAGE}`);
  return limit;
}

function consentView(consent: ConsentRecord) {
  return {
    consent_id: consent.id,
    client_id: consent.clientId,
    user_external_id: consent.userId,
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

function receiptView(receipt: AuditEvent) {
  return {
    receipt_id: receipt.id.toString(),
    at: receipt.at.toISOString(),
    request_id: receipt.requestId,
    client_id: receipt.clientId,
    user_external_id: receipt.userId,
    consent_id: receipt.consentId,
    country: receipt.country,
    scopes: receipt.scopes,
    fields: receipt.fields,
    detail: receipt.detail ?? null,
  };
}
