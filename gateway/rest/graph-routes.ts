import type { IncomingMessage } from "node:http";
import type { ApolloServer } from "@apollo/server";
import { z } from "zod";
import { sendJson } from "../../platform/http/graphql-http-server.ts";
import { toDiagnosisJson } from "../../domain/diagnosis/diagnosis-json.ts";
import type { AuthServices } from "../auth/services.ts";
import type { GatewayContext } from "../context.ts";
import { RestError } from "./envelope.ts";
import { param } from "./query-params.ts";
import type { RestRoutes } from "./rest-routes.ts";
import { PERSON_ID, type RouteSpec } from "./route-spec.ts";
import { person, StoredOperations, subject, type Data } from "./stored-operations.ts";

// The brief's diagnosis routes, each a stored GraphQL operation (stored-operations.ts); the alert
// routes are in alert-routes.ts, the debt, expense and coach routes in finance-routes.ts.

const WELLNESS_FIELDS = "score band trend30d factors { name weight value } actionPlan { code title expectedScoreDelta } nextReviewAt";

/** The calling client's own ids for the person (issue 21, item 1), beside our (pairwise) id. */
const PARTNER_REF_FIELDS = "partnerRef { customerId bureauId }";

const OPERATIONS = {
  latestDiagnosis: `query LatestDiagnosis($userId: ID!, $self: Boolean!) {
    me @include(if: $self) { id ${PARTNER_REF_FIELDS} wellness { ${WELLNESS_FIELDS} } }
    user(id: $userId) @skip(if: $self) { id ${PARTNER_REF_FIELDS} wellness { ${WELLNESS_FIELDS} } }
  }`,
  owner: `query DiagnosisOwner($userId: ID!, $self: Boolean!) {
    me @include(if: $self) { id ${PARTNER_REF_FIELDS} }
    user(id: $userId) @skip(if: $self) { id ${PARTNER_REF_FIELDS} }
  }`,
  runDiagnosis: `mutation RunDiagnosis($userId: ID) { runDiagnosis(userId: $userId) { ${WELLNESS_FIELDS} } }`,
};

export function addGraphRoutes(router: RestRoutes, apollo: ApolloServer<GatewayContext>, auth: AuthServices): void {
  const operations = new StoredOperations(apollo, auth);

  router.add(
    "GET",
    "/v1/diagnosis/latest",
    async (request, response, _params, info) => {
      const found = person(await operations.run(request, info, OPERATIONS.latestDiagnosis, subject(request)));
      if (!found.wellness) throw new RestError("NOT_FOUND", "This user has no diagnosis yet; POST /v1/diagnosis/run computes one");
      sendJson(response, 200, withPartnerRef(toDiagnosisJson({ userId: found.id, ...found.wellness }), found.partnerRef));
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
      const owner = person(await operations.run(request, info, OPERATIONS.owner, { userId, self }));
      const json = toDiagnosisJson({ userId: owner.id as string, ...(wellness as { score: number; band: string; trend30d: number; factors: unknown; nextReviewAt: string }), actionPlan: wellness.actionPlan }, { actionPlan: true });
      sendJson(response, 200, withPartnerRef(json, owner.partnerRef));
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
}

/**
 * The diagnosis with the calling client's own ids for the person beside `user_id`, once the person
 * linked them; without them the answer is the brief's, key for key.
 */
function withPartnerRef<Json extends { user_id: string }>(json: Json, ref: unknown): Json & { partner_ref?: { customer_id: string; bureau_id: string | null } } {
  const linked = ref as { customerId: string; bureauId: string | null } | null | undefined;
  if (!linked) return json;
  const { user_id, ...rest } = json;
  return { user_id, partner_ref: { customer_id: linked.customerId, bureau_id: linked.bureauId }, ...rest } as Json & { partner_ref: { customer_id: string; bureau_id: string | null } };
}

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

const diagnosisResponse = z.object({
  user_id: z.string().describe("The person"),
  partner_ref: z
    .object({ customer_id: z.string(), bureau_id: z.string().nullable() })
    .optional()
    .describe("The calling client's own customer id (and bureau id) for the person, only once the person linked them in the Kamina app (absent otherwise: the brief's keys exactly). Only this client sees them"),
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
