import type { ApolloServer } from "@apollo/server";
import { z } from "zod";
import type { RouteHandler } from "../../platform/http/graphql-http-server.ts";
import { sendJson } from "../../platform/http/graphql-http-server.ts";
import { createAuthApi } from "../auth/auth-api.ts";
import type { AuthServices } from "../auth/services.ts";
import type { GatewayContext } from "../context.ts";
import { addWebhookRoutes } from "../webhooks/webhook-routes.ts";
import { addAppWriteRoutes } from "./app-write-routes.ts";
import { addPartnerIdRoutes } from "./partner-id-routes.ts";
import { addAuditRoutes } from "./audit-routes.ts";
import { addConsentRoutes } from "./consent-routes.ts";
import { addDataSubjectRoutes } from "./data-subject-routes.ts";
import { addExportRoutes } from "./export-routes.ts";
import { addCohortRoutes } from "./cohort-routes.ts";
import { addFinanceRoutes } from "./finance-routes.ts";
import { addAlertRoutes } from "./alert-routes.ts";
import { addGraphRoutes } from "./graph-routes.ts";
import { addImportRoutes, type ExpenseImporter } from "./import-routes.ts";
import { REFERENCE_PAGE_CSP, referencePage } from "./reference-page.ts";
import { addReportRoutes } from "./report-routes.ts";
import { RestRoutes } from "./rest-routes.ts";
import { addTokenRoutes } from "./token-routes.ts";
import { addUsageRoutes } from "./usage-routes.ts";

/** The REST API's version in the OpenAPI document: bump it with any change a partner's client would notice. */
const API_VERSION = "1.0.0";

const API_DESCRIPTION =
  "The brief's REST routes, each a stored GraphQL operation run through the same gateway: consent, field scopes and receipts apply exactly as on /graphql. Errors are the envelope `{code, message, retry_after, request_id}` (docs/errors.md).";

/** Routes every gateway serves beside /graphql. Consent and token routes join here. */
export function createRestRoutes(services: AuthServices, apollo: ApolloServer<GatewayContext>, importer?: ExpenseImporter): RouteHandler {
  const router = new RestRoutes(services.logger);
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
  addAlertRoutes(router, apollo, services);
  addExportRoutes(router, services);
  addFinanceRoutes(router, apollo, services);
  addCohortRoutes(router, apollo, services);
  addAuditRoutes(router, api, services);
  addDataSubjectRoutes(router, api, services);
  addImportRoutes(router, api, services, importer);
  addAppWriteRoutes(router, api, services);
  addPartnerIdRoutes(router, api, services);
  addUsageRoutes(router, api, services);
  // Built once the routes are in: the document describes exactly what this gateway serves.
  let document: Record<string, unknown> | undefined;
  const documentOf = () => (document ??= router.document({ title: "kamina-graph REST API", version: API_VERSION, description: API_DESCRIPTION }));
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
      // The JSON API's policy forbids the page's inline style; this one allows that style only.
      response.setHeader("content-security-policy", REFERENCE_PAGE_CSP);
      response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(referencePage(documentOf()));
    },
    { summary: "The browsable reference of this API, one self-contained page", tag: "contract", caller: "public", responses: { 200: { description: "The page", contentType: "text/html" } } },
  );
  return router.handler();
}
