import type { ApolloServer } from "@apollo/server";
import { z } from "zod";
import type { RouteHandler } from "../../platform/http/graphql-http-server.ts";
import { sendJson } from "../../platform/http/graphql-http-server.ts";
import { createAuthApi } from "../auth/auth-api.ts";
import type { AuthServices } from "../auth/services.ts";
import type { GatewayContext } from "../context.ts";
import { addWebhookRoutes } from "../webhooks/webhook-routes.ts";
import { addConsentRoutes } from "./consent-routes.ts";
import { sendError } from "./envelope.ts";
import { addExportRoutes } from "./export-routes.ts";
import { addFinanceRoutes } from "./finance-routes.ts";
import { addGraphRoutes } from "./graph-routes.ts";
import { openApiDocument } from "./openapi.ts";
import { Router } from "./path-router.ts";
import { referencePage } from "./reference-page.ts";
import { addReportRoutes } from "./report-routes.ts";
import { addTokenRoutes } from "./token-routes.ts";

/** The REST API's version in the OpenAPI document: bump it with any change a partner's client would notice. */
const API_VERSION = "1.0.0";

/** Routes every gateway serves beside /graphql. Consent and token routes join here. */
export function createRestRoutes(services: AuthServices, apollo: ApolloServer<GatewayContext>): RouteHandler {
  const router = new Router();
  router.add(
    "GET",
    "/.well-known/jwks.json",
    async (_request, response) => {
      response.setHeader("cache-control", "public, max-age=60");
      sendJson(response, 200, await services.keys.jwks());
    },
    {
      summary: "The public keys that verify this gateway's tokens (a JWK set)",
      description: "The signing keys in force and those retired recently, so a token signed just before a rotation still verifies. Cache it for a minute.",
      tag: "tokens",
      caller: "public",
      responses: {
        200: {
          description: "The JWK set (RFC 7517)",
          schema: z.object({
            keys: z
              .array(
                z.object({
                  kty: z.string().describe("Key type: OKP (Ed25519)"),
                  crv: z.string().describe("Curve: Ed25519"),
                  x: z.string().describe("The public key, base64url"),
                  kid: z.string().describe("The key's id, as tokens name it in their `kid` header"),
                  alg: z.string().describe("EdDSA"),
                  use: z.literal("sig"),
                }),
              )
              .describe("Active keys first, newest first"),
          }),
        },
      },
    },
  );
  const api = createAuthApi(services);
  addConsentRoutes(router, api);
  addTokenRoutes(router, api);
  addWebhookRoutes(router, api, services);
  addReportRoutes(router, apollo, services);
  addGraphRoutes(router, apollo, services);
  addExportRoutes(router, services);
  addFinanceRoutes(router, apollo, services);
  // Built once the routes are in: the document describes exactly what this gateway serves.
  let document: Record<string, unknown> | undefined;
  const documentOf = () => (document ??= openApiDocument(router.described(), { version: API_VERSION }));
  router.add(
    "GET",
    "/v1/openapi.json",
    async (_request, response) => {
      response.setHeader("cache-control", "public, max-age=300");
      response.writeHead(200, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(documentOf()));
    },
    { summary: "This API's OpenAPI 3.1 document", tag: "contract", caller: "public", responses: { 200: { description: "The document", contentType: "application/json" } } },
  );
  router.add(
    "GET",
    "/v1/docs",
    async (_request, response) => {
      response.setHeader("cache-control", "public, max-age=300");
      response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(referencePage(documentOf()));
    },
    { summary: "The browsable reference of this API, one self-contained page", tag: "contract", caller: "public", responses: { 200: { description: "The page", contentType: "text/html" } } },
  );
  const routes = router.handler(services.logger);
  return async (request, response, info) => {
    if (await routes(request, response, info)) return true;
    // Unknown paths under /v1 answer in the REST envelope, like every other /v1 failure.
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    if (path !== "/v1" && !path.startsWith("/v1/")) return false;
    sendError(response, "NOT_FOUND", `No route for ${request.method} ${path}`);
    return true;
  };
}
