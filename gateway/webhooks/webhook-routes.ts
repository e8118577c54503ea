import { z } from "zod";
import { sendJson } from "../../platform/http/graphql-http-server.ts";
import type { AuthApi } from "../auth/auth-api.ts";
import type { AuthServices } from "../auth/services.ts";
import { requireClient } from "../rest/callers.ts";
import { parseInput, readBody } from "../rest/request-body.ts";
import type { Router } from "../rest/path-router.ts";
import { WEBHOOK_EVENTS, WebhookEndpoints } from "./webhook-endpoints.ts";

const createBody = z.strictObject({
  url: z.string({ error: "must be a string" }).min(1, "must not be empty").max(2048, "is too long"),
  events: z.array(z.enum(WEBHOOK_EVENTS, { error: `must hold event names: ${WEBHOOK_EVENTS.join(", ")}` }), { error: "must be an array of event names" }).min(1, "must name at least one event"),
});

const replayBody = z.strictObject({ since: z.iso.datetime({ offset: true, error: "must be an ISO 8601 date-time" }).optional() });

/**
 * Partners manage their webhook endpoints with HTTP Basic client authentication and the client
 * scope webhooks.manage. The secret is returned once, on creation and on rotation.
 */
export function addWebhookRoutes(router: Router, api: AuthApi, services: AuthServices): void {
  const endpoints = new WebhookEndpoints(services.prisma, services.config.tokens.keyEncryptionKey, services.config.realtime.webhooks.rotationOverlapMs);

  router.add("POST", "/v1/webhooks", async (request, response) => {
    const client = await requireClient(api, request, response);
    const body = parseInput(createBody, await readBody(request));
    const created = await endpoints.create(client, body.url, body.events);
    response.setHeader("location", `/v1/webhooks/${created.id}`);
    response.setHeader("cache-control", "no-store");
    sendJson(response, 201, created);
  });

  router.add("GET", "/v1/webhooks", async (request, response) => {
    const client = await requireClient(api, request, response);
    sendJson(response, 200, { items: await endpoints.list(client) });
  });

  router.add("DELETE", "/v1/webhooks/:id", async (request, response, params) => {
    const client = await requireClient(api, request, response);
    await endpoints.remove(client, params.id!);
    response.writeHead(204).end();
  });

  router.add("POST", "/v1/webhooks/:id/rotate-secret", async (request, response, params) => {
    const client = await requireClient(api, request, response);
    response.setHeader("cache-control", "no-store");
    sendJson(response, 200, await endpoints.rotateSecret(client, params.id!));
  });

  router.add("POST", "/v1/webhooks/:id/replay", async (request, response, params) => {
    const client = await requireClient(api, request, response);
    const body = parseInput(replayBody, await readBody(request));
    sendJson(response, 202, await endpoints.replay(client, params.id!, body.since ? new Date(body.since) : undefined));
  });
}
