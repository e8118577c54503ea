import type { ApolloServer } from "@apollo/server";
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
import { Router } from "./path-router.ts";
import { addReportRoutes } from "./report-routes.ts";
import { addTokenRoutes } from "./token-routes.ts";

/** Routes every gateway serves beside /graphql. Consent and token routes join here. */
export function createRestRoutes(services: AuthServices, apollo: ApolloServer<GatewayContext>): RouteHandler {
  const router = new Router();
  router.add("GET", "/.well-known/jwks.json", async (_request, response) => {
    response.setHeader("cache-control", "public, max-age=60");
    sendJson(response, 200, await services.keys.jwks());
  });
  const api = createAuthApi(services);
  addConsentRoutes(router, api);
  addTokenRoutes(router, api);
  addWebhookRoutes(router, api, services);
  addReportRoutes(router, apollo, services);
  addGraphRoutes(router, apollo, services);
  addExportRoutes(router, services);
  addFinanceRoutes(router, apollo, services);
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
