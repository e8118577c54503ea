import type { IncomingMessage } from "node:http";
import type { ApolloServer } from "@apollo/server";
import { z } from "zod";
import { sendJson, type RequestInfo } from "../../platform/http/graphql-http-server.ts";
import { toDiagnosisJson } from "../../domain/diagnosis/diagnosis-json.ts";
import type { AuthServices } from "../auth/services.ts";
import type { GatewayContext } from "../context.ts";
import { RestError } from "./envelope.ts";
import { parseInput, readBody } from "./request-body.ts";
import type { Router } from "./path-router.ts";
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

export function addGraphRoutes(router: Router, apollo: ApolloServer<GatewayContext>, auth: AuthServices): void {
  const operations = new StoredOperations(apollo, auth);

  router.add("GET", "/v1/diagnosis/latest", async (request, response, _params, info) => {
    const found = person(await operations.run(request, info, OPERATIONS.latestDiagnosis, subject(request)));
    if (!found.wellness) throw new RestError("NOT_FOUND", "This user has no diagnosis yet; POST /v1/diagnosis/run computes one");
    sendJson(response, 200, toDiagnosisJson({ userId: found.id, ...found.wellness }));
  });

  router.add("POST", "/v1/diagnosis/run", async (request, response, _params, info) => {
    const body = await readOptionalJson(request);
    const { userId, self } = subject(request, body);
    const data = await operations.run(request, info, OPERATIONS.runDiagnosis, self ? {} : { userId });
    const wellness = data.runDiagnosis as Data;
    const owner = self ? await ownerOf(request, info) : userId;
    sendJson(response, 200, toDiagnosisJson({ userId: owner, ...(wellness as { score: number; band: string; trend30d: number; factors: unknown; nextReviewAt: string }), actionPlan: wellness.actionPlan }, { actionPlan: true }));
  });

  async function ownerOf(request: IncomingMessage, info: RequestInfo): Promise<string> {
    const data = await operations.run(request, info, "query { me { id } }", {});
    return (data.me?.id as string | undefined) ?? "";
  }

  router.add("GET", "/v1/alerts", async (request, response, _params, info) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    const since = url.searchParams.get("since");
    const firstParam = url.searchParams.get("limit");
    if (since !== null && Number.isNaN(Date.parse(since))) throw new RestError("BAD_USER_INPUT", "`since` must be an ISO 8601 date-time");
    const first = firstParam === null ? undefined : Number(firstParam);
    if (first !== undefined && !Number.isInteger(first)) throw new RestError("BAD_USER_INPUT", "`limit` must be an integer");
    const found = person(await operations.run(request, info, OPERATIONS.alerts, { ...subject(request), since: since ? new Date(since).toISOString() : null, first: first ?? null }));
    sendJson(response, 200, { items: ((found.alerts ?? []) as Data[]).map((alert) => alertJson(alert, found.id as string)) });
  });

  // Sandbox only (docs/realtime.md): a test alert through the same path as a real one. The token
  // is checked before the body, so a request without one is a 401 whatever it sends.
  router.add("POST", "/v1/sandbox/alerts", async (request, response, _params, info) => {
    const context = await operations.context(request, info);
    const input = parseInput(sandboxAlertRequest, await readBody(request));
    const data = await operations.run(request, info, OPERATIONS.raiseSandboxAlert, { type: input.type, userId: input.user_id ?? null }, { context });
    const alert = data.raiseSandboxAlert as Data;
    sendJson(response, 201, { ...alertJson(alert, alert.user.id as string), sandbox: true });
  });
}

const sandboxAlertRequest = z.strictObject({
  type: z.string({ error: "must be a string" }).min(1, "must not be empty").max(64, "is too long"),
  /** With a partner (client-credentials) token: the person, who must have consented to this client with alerts.read. */
  user_id: z.string({ error: "must be a string" }).regex(/^[\w-]{1,64}$/, "is not a valid id").optional(),
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
