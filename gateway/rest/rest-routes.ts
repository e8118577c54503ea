import type { IncomingMessage, ServerResponse } from "node:http";
import { getRequestListener, type HttpBindings } from "@hono/node-server";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from "../../platform/database/unavailable.ts";
import type { RequestInfo, RouteHandler } from "../../platform/http/graphql-http-server.ts";
import type { Logger } from "../../platform/logger.ts";
import { AuthError } from "../auth/auth-error.ts";
import { RateLimitExceeded } from "../rate-limit/rate-limits.ts";
import { headersOf, meterResponse } from "../rate-limit/request-meter.ts";
import { nameBilledRoute } from "./billed-calls.ts";
import { RestError, sendError } from "./envelope.ts";
import { parseQuery } from "./query-params.ts";
import { routeConfig, SECURITY_SCHEMES, type HttpMethod } from "./route-openapi.ts";
import { errorEnvelope, type RouteSpec } from "./route-spec.ts";

// The REST routes on Hono (@hono/zod-openapi): Hono routes and answers 404/405, the framework's
// registry builds the OpenAPI document from each route's spec. Handlers write to node's response
// (streams, CSV attachments) and tell Hono the answer is already sent.

type QueryOf<Spec extends RouteSpec> = Spec["query"] extends z.ZodObject ? z.infer<Spec["query"]> : Record<string, never>;

export type RestHandler<Query = Record<string, never>> = (
  request: IncomingMessage,
  response: ServerResponse,
  params: Record<string, string>,
  info: RequestInfo,
  /** The query string parsed with the spec's schema: a 400 naming the parameter when it does not fit. Call it after authenticating. */
  query: () => Query,
) => Promise<void>;

interface Bindings {
  incoming: IncomingMessage;
  outgoing: ServerResponse;
  info: RequestInfo;
}

const METHODS: readonly HttpMethod[] = ["GET", "POST", "PUT", "PATCH", "DELETE"];
/** Paths the REST routes own; anything else goes on to /graphql and /healthz. */
const OWNED_PREFIXES = ["/v1/", "/.well-known/"];

export interface DocumentInfo {
  title: string;
  version: string;
  description: string;
}

export class RestRoutes {
  private readonly app = new OpenAPIHono<{ Bindings: Bindings }>();

  constructor(private readonly logger: Logger) {
    // A plain JSON Schema component (z.toJSONSchema): registering the zod schema itself would need zod extended with .openapi().
    const { $schema: _dialect, ...envelope } = z.toJSONSchema(errorEnvelope, { target: "draft-2020-12" });
    this.app.openAPIRegistry.registerComponent("schemas", "ErrorEnvelope", envelope as never);
    for (const [name, scheme] of Object.entries(SECURITY_SCHEMES)) this.app.openAPIRegistry.registerComponent("securitySchemes", name, scheme);
    this.app.onError((error, context) => this.answerError(error, context.env));
    this.app.notFound((context) => this.answerNotFound(context.env));
  }

  /** `spec` describes the route in the OpenAPI document; its schemas are the ones the handler validates with. */
  add<Spec extends RouteSpec>(method: HttpMethod, path: string, handler: RestHandler<QueryOf<Spec>>, spec: Spec): this {
    // The body is read by readBody (size limit, forms per RFC 6749) and checked with spec.body, so
    // the framework's own validators are not installed: the route is registered for the document only.
    this.app.openAPIRegistry.registerPath(routeConfig(method, path, spec));
    this.app.on(method, path, async (context) => {
      const { incoming, outgoing, info } = context.env;
      // Counts made while the request is served (rate-limit/) set the RateLimit headers of its answer.
      meterResponse(incoming, outgoing);
      nameBilledRoute(incoming, method, path);
      // Answers carry one person's data, read under one token: no shared cache may keep them. The
      // public routes (keys, the contract) set their own caching.
      outgoing.setHeader("cache-control", "no-store");
      const params = context.req.param() as Record<string, string>;
      for (const [name, value] of Object.entries(params)) {
        if (/[\u0000-\u001f\u007f]/.test(value)) throw new RestError("BAD_USER_INPUT", `The path segment \`${name}\` holds a control character`);
        // Hono leaves a segment it cannot decode as sent.
        if (/%(?![0-9a-f]{2})/i.test(value)) throw new RestError("BAD_REQUEST", `The path segment ${value} is not valid percent-encoding`);
      }
      const query = () => (spec.query ? parseQuery(spec.query, incoming) : {}) as QueryOf<Spec>;
      await handler(incoming, outgoing, params, info, query);
      return RESPONSE_ALREADY_SENT;
    });
    return this;
  }

  /** The OpenAPI 3.1 document of every route added so far. */
  document(info: DocumentInfo): Record<string, unknown> {
    const document = this.app.getOpenAPI31Document({ openapi: "3.1.0", info: { ...info }, servers: [{ url: "/" }] });
    const tags = [...new Set(Object.values(document.paths ?? {}).flatMap((item) => Object.values(item).flatMap((operation) => (operation as { tags?: string[] }).tags ?? [])))];
    return { ...document, tags: tags.map((name) => ({ name })) };
  }

  /** A handler for the HTTP server: answers the paths it owns, passes the rest on. */
  handler(): RouteHandler {
    const listener = getRequestListener((request, env) => {
      const { incoming, outgoing } = env as HttpBindings;
      return this.app.fetch(request, { incoming, outgoing, info: infos.get(incoming)! });
    }, {
      // Keep the platform's Request and Response, and node's body stream for our own reader.
      overrideGlobalObjects: false,
      autoCleanupIncoming: false,
    });
    const infos = new WeakMap<IncomingMessage, RequestInfo>();
    return async (request, response, info) => {
      const path = new URL(request.url ?? "/", "http://localhost").pathname;
      if (!OWNED_PREFIXES.some((prefix) => path.startsWith(prefix)) && path !== "/v1") return false;
      infos.set(request, info);
      await listener(request, response);
      return true;
    };
  }

  private answerNotFound({ incoming, outgoing }: Bindings): Response {
    const path = new URL(incoming.url ?? "/", "http://localhost").pathname;
    const allowed = METHODS.filter((method) => this.app.router.match(method, path)[0].length > 0);
    if (allowed.length > 0) {
      outgoing.setHeader("allow", allowed.join(", "));
      sendError(outgoing, "METHOD_NOT_ALLOWED", `${incoming.method} is not allowed on ${path}; use ${allowed.join(" or ")}`);
    } else {
      sendError(outgoing, "NOT_FOUND", `No route for ${incoming.method} ${path}`);
    }
    return RESPONSE_ALREADY_SENT;
  }

  private answerError(error: unknown, { outgoing, info }: Bindings): Response {
    const path = new URL(info.request.url ?? "/", "http://localhost").pathname;
    if (outgoing.headersSent) {
      // A stream that failed after its first bytes: cut it, so the client sees a broken download rather than a short one.
      this.logger.error({ err: error, requestId: info.requestId, path }, "REST route failed mid-answer");
      outgoing.destroy();
    } else if (error instanceof RestError) sendError(outgoing, error.code, error.message, error.retryAfterSeconds);
    else if (error instanceof AuthError) sendError(outgoing, error.code, error.message);
    else if (error instanceof RateLimitExceeded) {
      // A count through the request's meter has set the headers already; a lock-out before any count has not.
      if (!outgoing.hasHeader("ratelimit")) for (const [field, value] of headersOf(error.states)) outgoing.setHeader(field, value);
      sendError(outgoing, "RATE_LIMITED", error.message, error.retryAfterSeconds);
    }
    else if (isDatabaseUnavailable(error)) {
      this.logger.warn({ err: error, requestId: info.requestId, path }, "REST route: the database is unavailable");
      sendError(outgoing, "SERVICE_UNAVAILABLE", "The database is unavailable for now; nothing was changed. Retry shortly", DATABASE_RETRY_AFTER_SECONDS);
    } else {
      this.logger.error({ err: error, requestId: info.requestId, path }, "REST route failed");
      sendError(outgoing, "INTERNAL_SERVER_ERROR", "Internal server error");
    }
    return RESPONSE_ALREADY_SENT;
  }
}
