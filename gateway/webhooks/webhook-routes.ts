import { z } from "zod";
import { sendJson } from "../../platform/http/graphql-http-server.ts";
import type { AuthApi } from "../auth/auth-api.ts";
import type { AuthServices } from "../auth/services.ts";
import { requireClient } from "../rest/callers.ts";
import { RestError } from "../rest/envelope.ts";
import { pageLimit, param } from "../rest/query-params.ts";
import { parseInput, readBody } from "../rest/request-body.ts";
import type { RestRoutes } from "../rest/rest-routes.ts";
import { pageOf, type RouteSpec } from "../rest/route-spec.ts";
import { DEFAULT_DELIVERY_PAGE, DELIVERY_STATUSES, MAX_DELIVERY_PAGE, WEBHOOK_EVENTS, WebhookEndpoints } from "./webhook-endpoints.ts";

const createBody = z.strictObject({
  url: z
    .string({ error: "must be a string" })
    .min(1, "must not be empty")
    .max(2048, "is too long")
    .describe("Where deliveries are POSTed: https on a public address (a sandbox client may also use loopback http or https)"),
  events: z
    .array(z.enum(WEBHOOK_EVENTS, { error: `must hold event names: ${WEBHOOK_EVENTS.join(", ")}` }), { error: "must be an array of event names" })
    .min(1, "must name at least one event")
    .describe("The events to receive"),
});

const dateTime = () => z.iso.datetime({ offset: true, error: "must be an ISO 8601 date-time" });

// Optional as a whole: an empty body (read as `{}`) replays every dead or failed delivery.
const replayBody = z
  .strictObject({
    since: dateTime().optional().describe("Only deliveries created at or after this time (required with `include_delivered`)"),
    until: dateTime().optional().describe("Only deliveries created before this time"),
    include_delivered: z
      .boolean({ error: "must be true or false" })
      .optional()
      .describe("Also re-send the deliveries already delivered in the window (`since` required), for a receiver being debugged; they keep their `webhook-id`"),
  })
  .optional();

const deliveriesQuery = z.object({
  status: param(z.enum(DELIVERY_STATUSES).optional().describe("Only deliveries in this state"), `one of ${DELIVERY_STATUSES.join(", ")}`),
  limit: pageLimit(MAX_DELIVERY_PAGE, `Deliveries per page, 1 to ${MAX_DELIVERY_PAGE} (default ${DEFAULT_DELIVERY_PAGE})`),
  cursor: z.string().optional().describe("The `page.next_cursor` of the previous page"),
});

const delivery = z.object({
  id: z.string().describe("The delivery's id"),
  message_id: z.string().describe("The `webhook-id` header every attempt of it carried (`msg_...`): what your receiver logged"),
  event: z.enum(WEBHOOK_EVENTS).describe("The event delivered"),
  status: z.enum(DELIVERY_STATUSES).describe("pending: not tried yet (or replayed); failed: tried and waiting for its next attempt; delivered: a 2xx came back; dead: out of attempts (replay it)"),
  attempts: z.number().int().describe("Attempts made so far"),
  last_status_code: z.number().int().nullable().describe("The HTTP status the last attempt got; null when none came back (timeout, unreachable) or none was made"),
  last_error: z.string().nullable().describe("Why the last attempt failed, in words; null after a success"),
  next_attempt_at: z.string().nullable().describe("ISO 8601 date-time of the next attempt; null when delivered or dead"),
  created_at: z.string().describe("ISO 8601 date-time the delivery was created (when the event was published)"),
  delivered_at: z.string().nullable().describe("ISO 8601 date-time of the successful attempt, or null"),
});

const endpoint = z.object({
  id: z.string().describe("The endpoint's id, `whe_...`"),
  url: z.string().describe("Where deliveries are POSTed"),
  events: z.array(z.enum(WEBHOOK_EVENTS)).describe("The events it receives"),
  status: z.enum(["active", "disabled"]).describe("Only an active endpoint receives deliveries"),
  created_at: z.string().describe("ISO 8601 date-time"),
});

const secret = z.string().describe("The signing secret (`whsec_...`, Standard Webhooks): shown this once, never again");

const endpointId = "The endpoint's id: another client's endpoint is a 404";

const SPECS = {
  create: {
    summary: "Register a webhook endpoint",
    description: "Needs the client scope `webhooks.manage`. Answers the endpoint with its signing secret, once, and a `Location` header.",
    tag: "webhooks",
    caller: "client",
    body: createBody,
    responses: { 201: { description: "The endpoint, with its secret", schema: endpoint.extend({ secret }) } },
    errors: ["FORBIDDEN"],
  },
  list: {
    summary: "The client's webhook endpoints",
    description: "Needs the client scope `webhooks.manage`. Oldest first; secrets are never listed.",
    tag: "webhooks",
    caller: "client",
    responses: { 200: { description: "Every endpoint of the client", schema: z.object({ items: z.array(endpoint).describe("Oldest first") }) } },
    errors: ["FORBIDDEN"],
  },
  remove: {
    summary: "Delete a webhook endpoint",
    description: `Needs the client scope \`webhooks.manage\`. ${endpointId}.`,
    tag: "webhooks",
    caller: "client",
    responses: { 204: { description: "Deleted: no more deliveries" } },
    errors: ["BAD_REQUEST", "FORBIDDEN", "NOT_FOUND"],
  },
  rotate: {
    summary: "Rotate an endpoint's signing secret",
    description: `Needs the client scope \`webhooks.manage\`. The old secret keeps signing beside the new one until \`previous_secret_valid_until\`. ${endpointId}.`,
    tag: "webhooks",
    caller: "client",
    responses: {
      200: {
        description: "The new secret",
        schema: z.object({
          id: z.string().describe("The endpoint's id"),
          secret,
          previous_secret_valid_until: z.string().describe("ISO 8601 date-time until which deliveries carry the old secret's signature too"),
        }),
      },
    },
    errors: ["BAD_REQUEST", "FORBIDDEN", "NOT_FOUND"],
  },
  deliveries: {
    summary: "An endpoint's deliveries, newest first",
    description: `Needs the client scope \`webhooks.manage\`. Each delivery's state, attempts, last HTTP status and error, and next attempt: what to look at when a receiver gets nothing or fails verification. ${endpointId}.`,
    tag: "webhooks",
    caller: "client",
    query: deliveriesQuery,
    responses: { 200: { description: "A page of deliveries", schema: z.object({ items: z.array(delivery).describe("Newest event first"), page: pageOf }) } },
    errors: ["BAD_REQUEST", "FORBIDDEN", "NOT_FOUND"],
  },
  replay: {
    summary: "Replay an endpoint's dead and failed deliveries",
    description: `Needs the client scope \`webhooks.manage\`. The deliveries go back to the queue with their attempts reset; with \`include_delivered\`, the delivered ones created in the window too. ${endpointId}.`,
    tag: "webhooks",
    caller: "client",
    body: replayBody,
    responses: {
      202: {
        description: "Queued again",
        schema: z.object({ id: z.string().describe("The endpoint's id"), replayed: z.number().int().describe("How many deliveries went back to the queue") }),
      },
    },
    errors: ["FORBIDDEN", "NOT_FOUND"],
  },
} satisfies Record<string, RouteSpec>;

/**
 * Partners manage their webhook endpoints with HTTP Basic client authentication and the client
 * scope webhooks.manage. The secret is returned once, on creation and on rotation.
 */
export function addWebhookRoutes(router: RestRoutes, api: AuthApi, services: AuthServices): void {
  const endpoints = new WebhookEndpoints(services.prisma, services.config.tokens, services.config.realtime.webhooks.rotationOverlapMs);

  router.add("POST", "/v1/webhooks", async (request, response) => {
    const client = await requireClient(api, request, response);
    const body = parseInput(createBody, await readBody(request));
    const created = await endpoints.create(client, body.url, body.events);
    response.setHeader("location", `/v1/webhooks/${created.id}`);
    response.setHeader("cache-control", "no-store");
    sendJson(response, 201, created);
  }, SPECS.create);

  router.add("GET", "/v1/webhooks", async (request, response) => {
    const client = await requireClient(api, request, response);
    sendJson(response, 200, { items: await endpoints.list(client) });
  }, SPECS.list);

  router.add("DELETE", "/v1/webhooks/:id", async (request, response, params) => {
    const client = await requireClient(api, request, response);
    await endpoints.remove(client, params.id!);
    response.writeHead(204).end();
  }, SPECS.remove);

  router.add("POST", "/v1/webhooks/:id/rotate-secret", async (request, response, params) => {
    const client = await requireClient(api, request, response);
    response.setHeader("cache-control", "no-store");
    sendJson(response, 200, await endpoints.rotateSecret(client, params.id!));
  }, SPECS.rotate);

  router.add("POST", "/v1/webhooks/:id/replay", async (request, response, params) => {
    const client = await requireClient(api, request, response);
    const body = parseInput(replayBody, await readBody(request));
    if (body?.include_delivered && !body.since) throw new RestError("BAD_USER_INPUT", "`since` is required with `include_delivered`: delivered events are replayed from a window");
    if (body?.since && body.until && Date.parse(body.until) <= Date.parse(body.since)) throw new RestError("BAD_USER_INPUT", "`until` must be after `since`");
    sendJson(
      response,
      202,
      await endpoints.replay(client, params.id!, {
        ...(body?.since ? { since: new Date(body.since) } : {}),
        ...(body?.until ? { until: new Date(body.until) } : {}),
        includeDelivered: body?.include_delivered === true,
      }),
    );
  }, SPECS.replay);

  router.add("GET", "/v1/webhooks/:id/deliveries", async (request, response, params, _info, query) => {
    const client = await requireClient(api, request, response);
    const { status, limit, cursor } = query();
    const page = await endpoints.deliveries(client, params.id!, { status, limit: limit ?? DEFAULT_DELIVERY_PAGE, cursor });
    sendJson(response, 200, { items: page.items, page: { next_cursor: page.nextCursor } });
  }, SPECS.deliveries);
}
