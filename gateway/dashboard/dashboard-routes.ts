// GET /dashboard: the reference dashboard (web/dashboard) and its back end for the front end
// under /dashboard/api: sandbox sign-in, the consent behind the page's token, revoke.
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { AuthenticationError } from "../../platform/auth/token-verifier.ts";
import { browserOpensGraphQL, sendJson, type RequestInfo, type RouteHandler } from "../../platform/http/graphql-http-server.ts";
import { createAuthApi } from "../auth/auth-api.ts";
import { AuthError } from "../auth/auth-error.ts";
import type { AuthServices } from "../auth/services.ts";
import type { Logger } from "../../platform/logger.ts";
import { RestError, sendError } from "../rest/envelope.ts";
import { parseInput, readBody } from "../rest/request-body.ts";
import { DASHBOARD_CSP, DASHBOARD_DIST, dashboardFile, GRAPHIQL_CSP } from "./dashboard-files.ts";
import { DEFAULT_PERSON, SandboxSession } from "./sandbox-session.ts";

const signInBody = z.strictObject({
  person: z.string().min(1).max(128).default(DEFAULT_PERSON).describe("The person to sign in to, as the sandbox client knows them"),
  scopes: z.array(z.string()).min(1).max(32).describe("The per-user scopes the consent grants"),
});

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>kamina-graph dashboard</title></head>
<body><h1>The dashboard is not built</h1><p>Run <code>npm run dashboard:build</code> (npm start builds it when its
development dependencies are installed).</p></body></html>`;

/** Serves /dashboard, /dashboard/api/* and GraphiQL at GET /graphql for browsers; everything else goes on to `next`. */
export function withDashboard(next: RouteHandler, services: AuthServices, dist: string = DASHBOARD_DIST): RouteHandler {
  const session = new SandboxSession(services, createAuthApi(services));
  // Signing in as the sandbox client with the server's own secret is for a laptop, never an exposed gateway.
  const signInOpen = services.config.secrets.localUse;
  return async (request, response, info) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    const path = url.pathname;
    const graphiql = browserOpensGraphQL(request, url);
    if (!graphiql && path !== "/dashboard" && !path.startsWith("/dashboard/")) return next(request, response, info);
    if (path.startsWith("/dashboard/api/")) {
      await answerApi(request, response, info, path, session, signInOpen, services.logger);
      return true;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.setHeader("allow", "GET, HEAD");
      sendError(response, "METHOD_NOT_ALLOWED", `${request.method} is not allowed on ${path}; use GET`);
      return true;
    }
    const file = await dashboardFile(graphiql ? "/dashboard/graphiql.html" : path, dist);
    // Not built: a browser at /graphql gets Apollo's page (landing-page.ts) as before.
    if (graphiql && !file) return next(request, response, info);
    if (!file && path.startsWith("/dashboard/assets/")) {
      sendError(response, "NOT_FOUND", `No dashboard file ${path}`);
      return true;
    }
    const body = file?.body ?? Buffer.from(NOT_BUILT);
    response.setHeader("content-security-policy", graphiql ? GRAPHIQL_CSP : DASHBOARD_CSP);
    response.setHeader("cache-control", file?.immutable ? "public, max-age=31536000, immutable" : "no-cache");
    response.writeHead(file ? 200 : 503, { "content-type": file?.contentType ?? "text/html; charset=utf-8", "content-length": body.length });
    response.end(request.method === "HEAD" ? undefined : body);
    return true;
  };
}

async function answerApi(request: IncomingMessage, response: ServerResponse, info: RequestInfo, path: string, session: SandboxSession, signInOpen: boolean, logger: Logger): Promise<void> {
  response.setHeader("cache-control", "no-store");
  try {
    refuseCrossSite(request);
    const route = `${request.method} ${path}`;
    if (route === "POST /dashboard/api/session") {
      if (!signInOpen) throw new RestError("FORBIDDEN", "The dashboard's sandbox sign-in is for local use only (loopback HOST, no public PUBLIC_URL)");
      sendJson(response, 200, await session.signIn(parseInput(signInBody, await readBody(request))));
    } else if (route === "GET /dashboard/api/consent") {
      sendJson(response, 200, await session.consent(request.headers.authorization));
    } else if (route === "DELETE /dashboard/api/consent") {
      sendJson(response, 200, await session.revoke(request.headers.authorization));
    } else {
      throw new RestError("NOT_FOUND", `No route for ${route}`);
    }
  } catch (error) {
    if (error instanceof RestError || error instanceof AuthError) sendError(response, error.code, error.message);
    else if (error instanceof AuthenticationError) sendError(response, error.code, error.reason);
    else {
      logger.error({ err: error, requestId: info.requestId }, "dashboard API failed");
      sendError(response, "INTERNAL_SERVER_ERROR", "The dashboard's request failed");
    }
  }
}

/** The API answers this origin's page only: a browser names another site in Sec-Fetch-Site or Origin. */
function refuseCrossSite(request: IncomingMessage): void {
  const site = request.headers["sec-fetch-site"];
  const origin = request.headers.origin;
  const sameOrigin = origin === undefined || origin === `http://${request.headers.host}` || origin === `https://${request.headers.host}`;
  if ((site !== undefined && site !== "same-origin" && site !== "none") || !sameOrigin) {
    throw new RestError("FORBIDDEN", "The dashboard's API answers the dashboard's own page only");
  }
}
