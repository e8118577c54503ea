import type { ApolloServer } from "@apollo/server";
import { z } from "zod";
import { sendJson } from "../../platform/http/graphql-http-server.ts";
import type { AuthServices } from "../auth/services.ts";
import type { GatewayContext } from "../context.ts";
import { RestError } from "./envelope.ts";
import { GRAPH_ERRORS, userIdParam } from "./graph-routes.ts";
import { parseInput, readBody } from "./request-body.ts";
import { pageLimit, param } from "./query-params.ts";
import type { RestRoutes } from "./rest-routes.ts";
import { PERSON_ID } from "./route-spec.ts";
import { person, StoredOperations, subject, type Data } from "./stored-operations.ts";

// The brief's alert routes, each a stored GraphQL operation (stored-operations.ts): the poller's
// feed (GET /v1/alerts, User.alertFeed), acting on an alert (acknowledge, resolve; alerts.write)
// and the sandbox trigger.

const ALERT_FIELDS = "fragment AlertFields on Alert { id type riskBand severity contributingFactors suggestedAction status createdAt acknowledgedAt resolvedAt }";

const OPERATIONS = {
  alertFeed: `query AlertFeed($userId: ID!, $self: Boolean!, $since: DateTime, $first: Int, $after: String) {
    me @include(if: $self) { id alertFeed(since: $since, first: $first, after: $after) { ...Feed } }
    user(id: $userId) @skip(if: $self) { id alertFeed(since: $since, first: $first, after: $after) { ...Feed } }
  }
  fragment Feed on AlertFeed { edges { node { ...AlertFields } } pageInfo { hasNextPage endCursor } }
  ${ALERT_FIELDS}`,
  acknowledge: `mutation AcknowledgeAlert($id: ID!) { acknowledgeAlert(id: $id) { ...AlertFields user { id } } } ${ALERT_FIELDS}`,
  resolve: `mutation ResolveAlert($id: ID!) { resolveAlert(id: $id) { ...AlertFields user { id } } } ${ALERT_FIELDS}`,
  raiseSandboxAlert: `mutation RaiseSandboxAlert($type: String!, $userId: ID) {
    raiseSandboxAlert(type: $type, userId: $userId) { ...AlertFields user { id } }
  }
  ${ALERT_FIELDS}`,
};

/** A cursor as the feed writes it (base64url); anything else is refused before the graph is asked. */
const CURSOR = /^[\w-]{1,512}$/;
const ALERT_ID = /^[\w-]{1,64}$/;

export function addAlertRoutes(router: RestRoutes, apollo: ApolloServer<GatewayContext>, auth: AuthServices): void {
  const operations = new StoredOperations(apollo, auth);

  router.add(
    "GET",
    "/v1/alerts",
    async (request, response, _params, info, query) => {
      await operations.context(request, info);
      const { since, limit, cursor } = query();
      const variables = { ...subject(request), since: since ? new Date(since).toISOString() : null, first: limit ?? null, after: cursor ?? null };
      const found = person(await operations.run(request, info, OPERATIONS.alertFeed, variables, { inputErrors: { after: "`cursor` must be a page.next_cursor this route returned" } }));
      const feed = found.alertFeed as Data | null;
      const items = ((feed?.edges ?? []) as Data[]).map((edge) => alertJson(edge.node as Data, found.id as string));
      sendJson(response, 200, { items, page: { next_cursor: feed?.pageInfo.endCursor ?? cursor ?? null, has_more: feed?.pageInfo.hasNextPage ?? false } });
    },
    {
      summary: "The person's prevention alerts, in the order they were published",
      description:
        "Scenario 1: the alerts raised at or after `since`, oldest first, in the order they were published (the outbox position subscriptions resume from). A poller passes `page.next_cursor` back as `cursor`, now while `page.has_more` is true and again on its next poll, and never misses an alert, even one committed while it was paging; an alert published a moment ago may come twice (dedupe by `id`). Needs alerts.read.",
      tag: "alerts",
      caller: "token",
      query: alertsQuery,
      responses: { 200: { description: "A page of alerts", schema: z.object({ items: z.array(alertResponse), page: feedPage }) } },
      errors: GRAPH_ERRORS,
    },
  );

  for (const [action, operation, summary, description] of [
    ["acknowledge", OPERATIONS.acknowledge, "Acknowledge an alert", "The partner has seen the alert and is acting on it (open -> acknowledged); sets `acknowledged_at`."],
    ["resolve", OPERATIONS.resolve, "Resolve an alert", "The situation behind the alert is handled (open or acknowledged -> resolved); sets `resolved_at` (and `acknowledged_at` when it was open)."],
  ] as const) {
    router.add(
      "POST",
      `/v1/alerts/:alert_id/${action}`,
      async (request, response, params, info) => {
        const context = await operations.context(request, info);
        const id = params.alert_id ?? "";
        if (!ALERT_ID.test(id)) throw new RestError("NOT_FOUND", "No such alert");
        const data = await operations.run(request, info, operation, { id }, { context });
        const alert = data[action === "acknowledge" ? "acknowledgeAlert" : "resolveAlert"] as Data;
        sendJson(response, 200, alertJson(alert, alert.user.id as string));
      },
      {
        summary,
        description: `${description} Needs alerts.write (and alerts.read) in the person's consent: a consent to read alerts changes nothing. Any other move is 409 CONFLICT naming the current status; an alert the token cannot see is 404.`,
        tag: "alerts",
        caller: "token",
        responses: { 200: { description: "The alert as it is now", schema: alertResponse } },
        errors: [...GRAPH_ERRORS, "CONFLICT"],
      },
    );
  }

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

/** GET /v1/alerts' parameters; the handler's own checks decide. */
const alertsQuery = z.object({
  since: param(z.iso.datetime({ offset: true }).optional().describe("Alerts created at or after this instant (ISO 8601)"), "an ISO 8601 date-time, such as 2026-05-01T00:00:00Z"),
  limit: pageLimit(100, "How many alerts at most (default 20, at most 100)"),
  cursor: param(z.string().regex(CURSOR).optional().describe("A page.next_cursor this route returned: the alerts published after it"), "a page.next_cursor this route returned"),
  user_id: userIdParam,
});

const feedPage = z.object({
  next_cursor: z
    .string()
    .nullable()
    .describe("Where to continue: pass it as `cursor` for the next page now, or on the next poll for what was published since. Null only when nothing has been listed yet"),
  has_more: z.boolean().describe("Whether more alerts are waiting now, after next_cursor"),
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
  acknowledged_at: z.iso.datetime({ offset: true }).nullable().describe("When it was acknowledged (resolving an open alert acknowledges it at the same instant); null while open"),
  resolved_at: z.iso.datetime({ offset: true }).nullable().describe("When it was resolved; null until then"),
});

/** An alert in the brief's snake_case. */
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
    acknowledged_at: alert.acknowledgedAt ?? null,
    resolved_at: alert.resolvedAt ?? null,
  };
}
