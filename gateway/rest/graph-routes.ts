import type { IncomingMessage } from "node:http";
import type { ApolloServer } from "@apollo/server";
import { z } from "zod";
import { sendJson, type RequestInfo } from "../../platform/http/graphql-http-server.ts";
import { toDiagnosisJson } from "../../domain/diagnosis/diagnosis-json.ts";
import type { AuthServices } from "../auth/services.ts";
import type { GatewayContext } from "../context.ts";
import { RestError } from "./envelope.ts";
import { parseInput, readBody } from "./request-body.ts";
import { pageLimit, param } from "./query-params.ts";
import type { RestRoutes } from "./rest-routes.ts";
import { PERSON_ID, type RouteSpec } from "./route-spec.ts";
import { person, StoredOperations, subject, type Data } from "./stored-operations.ts";

// The brief's diagnosis and alert routes, each a stored GraphQL operation (stored-operations.ts);
// the debt, expense and coach routes are in finance-routes.ts.

const WELLNESS_FIELDS = "score band trend30d factors { name weight value } actionPlan { code title expectedScoreDelta } nextReviewAt";

const OPERATIONS = {
  latestDiagnosis: `query LatestDiagnosis($userId: ID!, $self: Boolean!) {
    me @include(if: $self) { id wellness { ${WELLNESS_FIELDS} } }
    user(id: $userId) @skip(if: $self) { id wellness { ${WELLNESS_FIELDS} } }
  }`,
  runDiagnosis: `mutation RunDiagnosis($userId: ID) { runDiagnosis(userId: $userId) { ${WELLNESS_FIELDS} } }`,
  alerts: `query Alerts($userId: ID!, $self: Boolean!, $since: DateTime, $first: Int) {
    me @include(if: $self) { id alerts(since: $since, first: $first) { ...AlertFields } }
    user(id: $userId) @skip(if: $self) { id alerts(since: $since, first: $first) { ...AlertFields } }
  }
  fragment AlertFields on Alert { id type riskBand severity contributingFactors suggestedAction status createdAt }`,
  raiseSandboxAlert: `mutation RaiseSandboxAlert($type: String!, $userId: ID) {
    raiseSandboxAlert(type: $type, userId: $userId) { ...AlertFields user { id } }
  }
  fragment AlertFields on Alert { id type riskBand severity contributingFactors suggestedAction status createdAt }`,
};

export function addGraphRoutes(router: RestRoutes, apollo: ApolloServer<GatewayContext>, auth: AuthServices): void {
  const operations = new StoredOperations(apollo, auth);

  router.add(
    "GET",
    "/v1/diagnosis/latest",
    async (request, response, _params, info) => {
      const found = person(await operations.run(request, info, OPERATIONS.latestDiagnosis, subject(request)));
      if (!found.wellness) throw new RestError("NOT_FOUND", "This user has no diagnosis yet; POST /v1/diagnosis/run computes one");
      sendJson(response, 200, toDiagnosisJson({ userId: found.id, ...found.wellness }));
    },
    {
      summary: "The person's latest financial wellness diagnosis",
      description: "The brief's diagnosis: the score, its band, its 30-day trend, the factors it is made of and the next review date. Needs wellness.read.",
      tag: "wellness",
      caller: "token",
      query: z.object({ user_id: userIdParam }),
      responses: { 200: { description: "The latest diagnosis", schema: diagnosisResponse } },
      errors: GRAPH_ERRORS,
    },
  );

  router.add(
    "POST",
    "/v1/diagnosis/run",
    async (request, response, _params, info) => {
      const body = await readOptionalJson(request);
      const { userId, self } = subject(request, body);
      const data = await operations.run(request, info, OPERATIONS.runDiagnosis, self ? {} : { userId });
      const wellness = data.runDiagnosis as Data;
      const owner = self ? await ownerOf(request, info) : userId;
      sendJson(response, 200, toDiagnosisJson({ userId: owner, ...(wellness as { score: number; band: string; trend30d: number; factors: unknown; nextReviewAt: string }), actionPlan: wellness.actionPlan }, { actionPlan: true }));
    },
    {
      summary: "Compute a new diagnosis now, with its action plan",
      description: "Scenario 1: the wellness score, its contributing factors and a ranked action plan, computed from the person's current data. Needs wellness.read.",
      tag: "wellness",
      caller: "token",
      query: z.object({ user_id: userIdParam }),
      body: runDiagnosisRequest,
      responses: { 200: { description: "The diagnosis just computed", schema: runDiagnosisResponse } },
      errors: GRAPH_ERRORS,
    },
  );

  async function ownerOf(request: IncomingMessage, info: RequestInfo): Promise<string> {
    const data = await operations.run(request, info, "query { me { id } }", {});
    return (data.me?.id as string | undefined) ?? "";
  }

  router.add(
    "GET",
    "/v1/alerts",
    async (request, response, _params, info, query) => {
      await operations.context(request, info);
      const { since, limit } = query();
      const found = person(await operations.run(request, info, OPERATIONS.alerts, { ...subject(request), since: since ? new Date(since).toISOString() : null, first: limit ?? null }));
      sendJson(response, 200, { items: ((found.alerts ?? []) as Data[]).map((alert) => alertJson(alert, found.id as string)) });
    },
    {
      summary: "The person's prevention alerts, newest first",
      description: "Scenario 1: `since` reads the alerts raised at or after an instant. Needs alerts.read.",
      tag: "alerts",
      caller: "token",
      query: alertsQuery,
      responses: { 200: { description: "The alerts", schema: z.object({ items: z.array(alertResponse) }) } },
      errors: GRAPH_ERRORS,
    },
  );

  // Sandbox only (docs/realtime.md): a test alert through the same path as a real one. The token
  // is checked before the body, so a request without one is a 401 whatever it sends.
  router.add(
    "POST",
    "/v1/sandbox/alerts",
    async (request, response, _params, info) => {
      const context = await operations.context(request, info);
      const input = parseInput(sandboxAlertRequest, await readBody(request));
      const data = await operations.run(request, info, OPERATIONS.raiseSandboxAlert, { type: input.type, userId: input.user_id ?? null }, { context });
      const alert = data.raiseSandboxAlert as Data;
      sendJson(response, 201, { ...alertJson(alert, alert.user.id as string), sandbox: true });
    },
    {
      summary: "Raise a test alert (sandbox clients only)",
      description: "A test alert through the same path as a real one: subscribers and webhooks get it, marked as a test (docs/realtime.md). Needs alerts.read; a live client is refused.",
      tag: "sandbox",
      caller: "token",
      body: sandboxAlertRequest,
      responses: { 201: { description: "The alert raised", schema: alertResponse.extend({ sandbox: z.literal(true).describe("Always true: a test alert") }) } },
      errors: [...GRAPH_ERRORS, "FORBIDDEN"],
    },
  );
}

const sandboxAlertRequest = z.strictObject({
  type: z
    .string({ error: "must be a string" })
    .min(1, "must not be empty")
    .max(64, "is too long")
    .describe("An alert type of the prevention rules, e.g. missed_due_date, income_drop, expense_spike_food"),
  /** With a partner (client-credentials) token: the person, who must have consented to this client with alerts.read. */
  user_id: z
    .string({ error: "must be a string" })
    .regex(PERSON_ID, "is not a valid id")
    .optional()
    .describe("With a partner token (required then): the person, who must have consented to this client with alerts.read"),
});

/** What the stored operations answer with beyond a token route's common failures. */
export const GRAPH_ERRORS = ["BAD_USER_INPUT", "UNAUTHORIZED_FIELD_OR_TYPE", "NOT_FOUND", "SUBGRAPH_UNAVAILABLE"] as const satisfies RouteSpec["errors"];

/** The `user_id` query parameter every person route reads (subject() in stored-operations.ts checks it). */
export const userIdParam = param(
  z
    .string()
    .regex(PERSON_ID)
    .optional()
    .describe("With a partner token: the person to read, who must have consented to this client; a consent token reads its own person and needs none"),
  "an id of 1 to 64 letters, digits, _ or -",
);

/** POST /v1/diagnosis/run's optional body; readOptionalJson and subject() check it (their own messages). */
const runDiagnosisRequest = z
  .object({ user_id: userIdParam })
  .optional()
  .describe("Optional: with a partner token, the person (or `user_id` in the query)");

/** GET /v1/alerts' parameters; the handler's own checks decide. */
const alertsQuery = z.object({
  since: param(z.iso.datetime({ offset: true }).optional().describe("Alerts created at or after this instant (ISO 8601)"), "an ISO 8601 date-time, such as 2026-05-01T00:00:00Z"),
  limit: pageLimit(100, "How many alerts at most (default 20, at most 100)"),
  user_id: userIdParam,
});

const diagnosisResponse = z.object({
  user_id: z.string().describe("The person"),
  score: z.number().int().min(0).max(100).describe("0 (crisis) to 100 (thriving)"),
  band: z.enum(["green", "amber", "red"]).describe("green 70-100, amber 40-69, red 0-39"),
  trend_30d: z.number().int().describe("Change of the score against the diagnosis 30 days earlier"),
  factors: z
    .array(
      z.object({
        name: z.string().describe("Machine name, e.g. debt_to_income"),
        weight: z.number().describe("Share of the score this factor carries (0-1); the weights sum to 1"),
        value: z.number().describe("The measured value in the factor's own unit"),
      }),
    )
    .describe("What the score is made of"),
  next_review_at: z.iso.date().describe("The next review's date, YYYY-MM-DD"),
});

const runDiagnosisResponse = diagnosisResponse.extend({
  action_plan: z
    .array(
      z.object({
        code: z.string(),
        title: z.string(),
        expected_score_delta: z.number().int().describe("Expected change of the score if the step is taken"),
      }),
    )
    .describe("Ranked steps that would raise the score most"),
});

/** An alert as alertJson() writes it. */
const alertResponse = z.object({
  id: z.string(),
  user_id: z.string().describe("The person the alert is about"),
  type: z.string().describe("missed_due_date, expense_spike_food, dti_above_limit, income_drop, savings_depleted, ..."),
  risk_band: z.enum(["green", "amber", "red"]).describe("The risk band the alert puts the person in"),
  severity: z.enum(["low", "medium", "high", "critical"]),
  contributing_factors: z.array(z.string()).describe("The alert's own type and factors first, then the other alert types that hold at the same time"),
  suggested_action: z.string().describe("The playbook a partner should run, e.g. soft_outreach_v2"),
  status: z.enum(["open", "acknowledged", "resolved"]),
  created_at: z.iso.datetime({ offset: true }).describe("When the alert was raised (ISO 8601)"),
});

/** An alert in the brief's snake_case, as GET /v1/alerts lists it. */
function alertJson(alert: Data, userId: string): Record<string, unknown> {
  return {
    id: alert.id,
    user_id: userId,
    type: alert.type,
    risk_band: String(alert.riskBand).toLowerCase(),
    severity: String(alert.severity).toLowerCase(),
    contributing_factors: alert.contributingFactors,
    suggested_action: alert.suggestedAction,
    status: String(alert.status).toLowerCase(),
    created_at: alert.createdAt,
  };
}

async function readOptionalJson(request: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 64 * 1024) throw new RestError("PAYLOAD_TOO_LARGE", "Request body exceeds 64 KiB");
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error();
    return parsed as Record<string, unknown>;
  } catch {
    throw new RestError("BAD_USER_INPUT", "The body must be a JSON object");
  }
}
