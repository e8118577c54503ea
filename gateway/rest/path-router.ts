import type { IncomingMessage, ServerResponse } from "node:http";
import type { RequestInfo, RouteHandler } from "../../platform/http/graphql-http-server.ts";
import type { Logger } from "../../platform/logger.ts";
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from "../../platform/database/unavailable.ts";
import { AuthError } from "../auth/auth-error.ts";
import { RestError, sendError } from "./envelope.ts";
import type { RouteSpec } from "./route-spec.ts";

export type RestHandler = (request: IncomingMessage, response: ServerResponse, params: Record<string, string>, info: RequestInfo) => Promise<void>;

interface Route {
  method: string;
  /** As registered: `/v1/consents/:id`. */
  path: string;
  pattern: RegExp;
  keys: string[];
  handler: RestHandler;
  spec: RouteSpec | undefined;
}

/** A route as the OpenAPI document describes it. */
export interface DescribedRoute {
  method: string;
  path: string;
  spec: RouteSpec | undefined;
}

/** A small method + path router; `:name` segments become params. */
export class Router {
  private readonly routes: Route[] = [];

  /** `spec` describes the route in the OpenAPI document; its schemas are the ones the handler validates with. */
  add(method: string, path: string, handler: RestHandler, spec?: RouteSpec): this {
    const keys: string[] = [];
    const pattern = new RegExp(`^${path.replace(/:(\w+)/g, (_match, key: string) => (keys.push(key), "([^/]+)"))}$`);
    this.routes.push({ method, path, pattern, keys, handler, spec });
    return this;
  }

  described(): DescribedRoute[] {
    return this.routes.map(({ method, path, spec }) => ({ method, path, spec }));
  }

  handler(logger: Logger): RouteHandler {
    return async (request, response, info) => {
      const path = new URL(request.url ?? "/", "http://localhost").pathname;
      const matching = this.routes.filter((route) => route.pattern.test(path));
      if (matching.length === 0) return false;
      const route = matching.find((candidate) => candidate.method === request.method);
      if (!route) {
        response.setHeader("allow", matching.map((candidate) => candidate.method).join(", "));
        sendError(response, "METHOD_NOT_ALLOWED", `${request.method} is not allowed on ${path}; use ${matching.map((candidate) => candidate.method).join(" or ")}`);
        return true;
      }
      try {
        const values = route.pattern.exec(path)!.slice(1);
        const params = Object.fromEntries(route.keys.map((key, index) => [key, decodeParam(values[index] ?? "")]));
        await route.handler(request, response, params, info);
      } catch (error) {
        if (error instanceof RestError) sendError(response, error.code, error.message, error.retryAfterSeconds);
        else if (error instanceof AuthError) sendError(response, error.code, error.message);
        else if (isDatabaseUnavailable(error)) {
          logger.warn({ err: error, requestId: info.requestId, path }, "REST route: the database is unavailable");
          sendError(response, "SERVICE_UNAVAILABLE", "The database is unavailable for now; nothing was changed. Retry shortly", DATABASE_RETRY_AFTER_SECONDS);
        }
        else {
          logger.error({ err: error, requestId: info.requestId, path }, "REST route failed");
          sendError(response, "INTERNAL_SERVER_ERROR", "Internal server error");
        }
      }
      return true;
    };
  }
}

function decodeParam(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new RestError("BAD_REQUEST", `The path segment ${value} is not valid percent-encoding`);
  }
}
