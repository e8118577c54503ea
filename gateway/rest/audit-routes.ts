import type { ShowPerson } from "../pairwise/client-person-ids.ts";
import { z } from "zod";
import type { AuditEvent } from "../../generated/prisma/client.ts";
import { Country } from "../../generated/prisma/enums.ts";
import { sendJson } from "../../platform/http/graphql-http-server.ts";
import type { AuthApi } from "../auth/auth-api.ts";
import { AuditLog, DEFAULT_AUDIT_PAGE, MAX_AUDIT_PAGE, requestsOf } from "../auth/audit-log.ts";
import type { AuthServices } from "../auth/services.ts";
import { requireClient } from "./callers.ts";
import { pageLimit, param } from "./query-params.ts";
import type { RestRoutes } from "./rest-routes.ts";
import { pageOf, type RouteSpec } from "./route-spec.ts";

const timestamp = (description: string) =>
  param(z.iso.datetime({ offset: true }).optional().describe(description), "an ISO 8601 date-time, such as 2026-05-08T00:00:00Z");

const auditQuery = z
  .object({
    consent_id: z.string().min(1).max(64).optional().describe("Only this consent's events (one of the client's consents)"),
    from: timestamp("Events at or after this instant"),
    to: timestamp("Events before this instant"),
    limit: pageLimit(MAX_AUDIT_PAGE, `Events per page, 1 to ${MAX_AUDIT_PAGE} (default ${DEFAULT_AUDIT_PAGE})`),
    cursor: z.string().optional().describe("The `page.next_cursor` of the previous page"),
  })
  .superRefine((query, context) => {
    if (query.from !== undefined && query.to !== undefined && Date.parse(query.from) >= Date.parse(query.to)) {
      context.addIssue({ code: "custom", message: `\`from\` (${query.from}) must be before \`to\` (${query.to})`, path: ["from"] });
    }
  });

const auditEventAnswer = z.object({
  event_id: z.string().describe("The event's id (a receipt's `receipt_id`)"),
  at: z.iso.datetime().describe("When it was recorded"),
  action: z.string().describe("`consent.receipt` for a read of personal data; other actions are documented in docs/compliance/retention.md"),
  request_id: z.string().nullable().describe("The request (or export job) it records; the first of `request_ids`"),
  request_ids: z.array(z.string()).describe("Every request it records (a receipt may record identical reads made at the same moment); empty when none"),
  client_id: z.string().nullable(),
  consent_id: z.string().nullable(),
  user_external_id: z.string().nullable().describe("The person's pseudonymous id; null once the person was erased at their request"),
  country: z.enum(Object.values(Country)).nullable(),
  scopes: z.array(z.string()).describe("The consent's scopes when it was recorded"),
  fields: z.array(z.string()).describe("The fields returned, as `Type.field`"),
  detail: z.record(z.string(), z.unknown()).nullable().describe("How it happened (token kind, operation name, export job)"),
  chain: z.string().describe("The hash chain the event is in: its country, or `global`"),
  seq: z.string().describe("Its position in that chain"),
  prev_hash: z.string().describe("SHA-256 (hex) of the event before it in the chain"),
  hash: z.string().describe("SHA-256 (hex) of this event's canonical encoding, `prev_hash` included: keep it to check the log later"),
});

const SPEC = {
  summary: "The client's audit log, newest first",
  description:
    "Every event recorded about the authenticated client's calls (one receipt per call that read personal data), by consent and time, a page at a time. Each event carries its place in the tamper-evident hash chain.",
  tag: "consent",
  caller: "client",
  query: auditQuery,
  responses: {
    200: { description: "A page of events", schema: z.object({ items: z.array(auditEventAnswer).describe("Newest first"), page: pageOf }) },
  },
  errors: ["BAD_REQUEST", "FORBIDDEN", "NOT_FOUND"],
} satisfies RouteSpec;

/** GET /v1/audit: a partner client queries its own audit events. */
export function addAuditRoutes(router: RestRoutes, api: AuthApi, services: AuthServices): void {
  const log = new AuditLog(services.prisma);
  router.add("GET", "/v1/audit", async (request, response, _params, _info, query) => {
    const client = await requireClient(api, request, response);
    const { consent_id: consentId, from, to, limit, cursor } = query();
    // A consent named must be the client's own: another client's is not found, as everywhere.
    if (consentId !== undefined) await api.consents.get({ kind: "client", clientId: client.id }, consentId);
    const page = await log.list({
      clientId: client.id,
      consentId,
      from: from === undefined ? undefined : new Date(from),
      to: to === undefined ? undefined : new Date(to),
      limit: limit ?? DEFAULT_AUDIT_PAGE,
      cursor,
    });
    sendJson(response, 200, { items: page.events.map((event) => auditEventView(event, api.people.showTo(client))), page: { next_cursor: page.nextCursor } });
  }, SPEC);
}

function auditEventView(event: AuditEvent, show: ShowPerson) {
  return {
    event_id: event.id.toString(),
    at: event.at.toISOString(),
    action: event.action,
    request_id: event.requestId,
    request_ids: requestsOf(event),
    client_id: event.clientId,
    consent_id: event.consentId,
    user_external_id: event.userId === null ? null : show(event.userId),
    country: event.country,
    scopes: event.scopes,
    fields: event.fields,
    detail: (event.detail as Record<string, unknown> | null) ?? null,
    chain: event.chain,
    seq: event.seq.toString(),
    prev_hash: event.prevHash,
    hash: event.hash,
  };
}
