import { z } from "zod";
import { sendJson } from "../../platform/http/graphql-http-server.ts";
import type { AuthApi } from "../auth/auth-api.ts";
import type { AuthServices } from "../auth/services.ts";
import { DataSubjectRequests } from "../privacy/data-subject.ts";
import { requireApp } from "./callers.ts";
import { parseInput, readBody } from "./request-body.ts";
import type { RestRoutes } from "./rest-routes.ts";
import type { RouteSpec } from "./route-spec.ts";

const subjectRequest = z.strictObject({
  user_external_id: z.string({ error: "must be a string" }).min(1, "must not be empty").max(128, "is too long").describe("The person's pseudonymous id"),
});

const rows = z.array(z.record(z.string(), z.unknown()));

const exportAnswer = z
  .object({
    receipt_id: z.string().describe("The export's receipt in the audit log (`data_subject.export`)"),
    exported_at: z.iso.datetime(),
    person: z.record(z.string(), z.unknown()).describe("The person's own row"),
    consents: rows.describe("Every consent, with its history"),
    wellness_snapshots: rows,
    wellness_daily_scores: rows.describe("A row per calendar year: `scores[d]` is the wellness score of day-of-year d"),
    savings_goals: rows,
    debts: rows,
    debt_payments: rows,
    expenses: rows,
    income_streams: rows,
    coach_sessions: rows.describe("With the raw transcript, if one is kept"),
    alerts: rows,
    partner_ids: rows.describe("The partner clients' own ids for the person (`client_id`, `kind` CUSTOMER or BUREAU, `value`, `linked_at`), decrypted"),
    cohort_tags: rows.describe("The behavioural cohort tags the rules give the person now (`tag`, `since`): docs/cohorts.md"),
    audit_events: rows.describe("Who read the person's data and when (consent receipts), and every other audit event about them"),
  })
  .describe("Everything stored about the person, as stored (money and ids as strings)");

const erasureAnswer = z.object({
  receipt_id: z.string().describe("The erasure's receipt in the audit log (`data_subject.erase`), kept without the person's id"),
  erased_at: z.iso.datetime(),
  deleted: z.record(z.string(), z.number().int()).describe("Rows deleted, per table"),
  revoked_consents: z.array(z.string()).describe("Consents that were open and were revoked first (their clients' tokens stop at once)"),
  pseudonymised_audit_events: z.number().int().describe("Audit events about the person kept with the id removed"),
  emptied_events: z.number().int().describe("Outbox events about the person emptied (undelivered webhooks dropped)"),
  subject_digest: z.string().describe("SHA-256 (hex) of `subject_salt` followed by the person's id: the receipt's link to the person"),
  subject_salt: z.string().describe("Kept by the person (nowhere else once this answer is sent): it shows later that the receipt is about them"),
});

const TAG = "data-subject";
const SPECS = {
  export: {
    summary: "Export everything about a person (Kamina app, for the person)",
    description: "One JSON document of every row stored about the person, across every table, including who read their data. Writes a receipt.",
    tag: TAG,
    caller: "app",
    body: subjectRequest,
    responses: { 200: { description: "The person's data", schema: exportAnswer } },
    errors: ["NOT_FOUND"],
  },
  erase: {
    summary: "Erase everything about a person (Kamina app, for the person)",
    description:
      "Revokes the person's consents, deletes their rows and what derives from them, and keeps the audit log's rows about them pseudonymised. Writes a receipt. Cannot be undone; a second call is NOT_FOUND.",
    tag: TAG,
    caller: "app",
    body: subjectRequest,
    responses: { 200: { description: "What was erased", schema: erasureAnswer } },
    errors: ["NOT_FOUND"],
  },
} satisfies Record<string, RouteSpec>;

/** The person's own data-subject requests, made through the Kamina app. */
export function addDataSubjectRoutes(router: RestRoutes, api: AuthApi, services: AuthServices): void {
  const requests = new DataSubjectRequests(services.prisma, services.logger.child({ component: "data-subject" }), api.partnerIds);
  router.add("POST", "/v1/data-subject/export", async (request, response) => {
    requireApp(api, request);
    const { user_external_id: userId } = parseInput(subjectRequest, await readBody(request));
    response.setHeader("cache-control", "no-store");
    sendJson(response, 200, await requests.export(userId, { kind: "app" }));
  }, SPECS.export);

  router.add("POST", "/v1/data-subject/erase", async (request, response) => {
    requireApp(api, request);
    const { user_external_id: userId } = parseInput(subjectRequest, await readBody(request));
    response.setHeader("cache-control", "no-store");
    sendJson(response, 200, await requests.erase(userId, { kind: "app" }));
  }, SPECS.erase);
}
