import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { HeaderMap, type ApolloServer, type BaseContext } from "@apollo/server";
import { GraphQLError } from "graphql";
import { listen } from "./listen.ts";
import { AnswerHolds } from "./answer-holds.ts";
import { serveInProcess, type InProcessAnswer, type InProcessRequest } from "./in-process-http.ts";
import { DEFAULT_LIMITS, type LimitsConfig } from "../config/limits-config.ts";
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from "../database/unavailable.ts";
import type { Logger } from "../logger.ts";
import { inServerSpan } from "../observability/tracing.ts";
import { applySecurityHeaders, type HttpSecurityPolicy } from "./security-headers.ts";

export interface RequestInfo {
  requestId: string;
  request: IncomingMessage;
  /** A GraphQL request's method, query string and parsed body, as Apollo receives them (context only). */
  graphql?: GraphQLHttpRequest;
  /** What the GraphQL answer must wait for before it is sent (context only). */
  holds?: AnswerHolds;
}

export interface GraphQLHttpRequest {
  method: string;
  search: string;
  body: unknown;
}

/** Extra routes served beside /graphql and /healthz; answer true when handled. */
export type RouteHandler = (request: IncomingMessage, response: ServerResponse, info: RequestInfo) => Promise<boolean>;

export interface GraphQLHttpServerOptions<TContext extends BaseContext> {
  apollo: ApolloServer<TContext>;
  /** Runs each GraphQL request in Apollo's stead (a subgraph's LeanQueries, which hands Apollo what it does not answer itself); absent, Apollo runs them. */
  execute?: ApolloServer<TContext>["executeHTTPGraphQLRequest"];
  context: (info: RequestInfo) => Promise<TContext>;
  host: string;
  port: number;
  logger: Logger;
  /** Whether the service can take traffic; /healthz answers 503 until it can. */
  ready?: () => boolean;
  /** /readyz: whether it can serve now, its database answering (platform/database/readiness.ts); absent, /readyz follows `ready`. */
  readiness?: () => Promise<boolean>;
  routes?: RouteHandler;
  maxBodyBytes?: number;
  /** Header, request and body timeouts (config.limits.http); the defaults when absent. */
  limits?: LimitsConfig["http"];
  /** CORS origins and HSTS (security-headers.ts); absent: the security headers, no CORS, no HSTS. */
  security?: HttpSecurityPolicy;
  /**
   * Asked of every GraphQL request, over HTTP and in-process, with its raw body before it is parsed:
   * a refusal is the answer and nothing else runs (the subgraphs' gateway signature).
   */
  admit?: (request: AdmissionRequest) => AdmissionRefusal | undefined;
}

export interface AdmissionRequest {
  method: string;
  /** Path and query string. */
  target: string;
  headers: Record<string, string | string[] | undefined>;
  body: string | Uint8Array;
}

export interface AdmissionRefusal {
  status: number;
  code: string;
  message: string;
}

export interface RunningHttpServer {
  server: Server;
  /** Base URL, e.g. http://127.0.0.1:4000 */
  origin: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Answers carry personal data read under one token: no shared cache may keep them. */
const NO_STORE = "no-store";
const LANDING_PAGE_HEADER_CSP = "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** A browser navigating to /graphql: GET or HEAD, asking for HTML, no operation in the query string. */
export function browserOpensGraphQL(request: IncomingMessage, url: URL): boolean {
  return url.pathname === "/graphql" && (request.method === "GET" || request.method === "HEAD") && !url.searchParams.has("query") && (request.headers.accept ?? "").includes("text/html");
}

/** Serves an Apollo Server on plain node:http: POST/GET /graphql, /healthz and extra routes. */
export async function startGraphQLHttpServer<TContext extends BaseContext>(
  options: GraphQLHttpServerOptions<TContext>,
): Promise<RunningHttpServer> {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const limits = options.limits ?? DEFAULT_LIMITS.http;
  const execute = options.execute ?? options.apollo.executeHTTPGraphQLRequest.bind(options.apollo);

  // Node's defaults held a slow, unauthenticated request for 300 s and checked only every 30 s:
  // headers and the whole request now have their own limits (Node answers 408 past them), checked
  // every second, and a GraphQL body has its own (readBody below).
  const timeouts = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
  };
  const server = createServer(timeouts, (request, response) => {
    const requestId = requestIdOf(request);
    response.setHeader("x-request-id", requestId);
    // One line per answer at debug: never headers nor the query string, and the path with its ids masked (routePattern).
    const started = performance.now();
    response.once("finish", () => {
      options.logger.debug({ requestId, method: request.method, path: routePattern(request.url), status: response.statusCode, ms: Math.round(performance.now() - started) }, "answered");
    });
    if (applySecurityHeaders(request, response, options.security ?? { corsOrigins: [], hsts: false })) return;
    handle(request, response, { requestId, request }).catch((error: unknown) => {
      if (!(error instanceof HttpError) && isDatabaseUnavailable(error)) {
        error = new HttpError(503, "SERVICE_UNAVAILABLE", "The database is unavailable for now; retry shortly");
        response.setHeader("retry-after", String(DATABASE_RETRY_AFTER_SECONDS));
      }
      const status = error instanceof HttpError ? error.status : 500;
      const code = error instanceof HttpError ? error.code : "INTERNAL_SERVER_ERROR";
      const message = error instanceof HttpError ? error.message : "Internal server error";
      if (status >= 500) options.logger.error({ err: error, requestId }, "request failed");
      // The rest of a body too large or too slow is not read: the connection closes after the answer.
      if (status === 408 || status === 413) response.setHeader("connection", "close");
      if (!response.headersSent) sendJson(response, status, { errors: [{ message, extensions: { code } }] });
      else response.destroy();
    });
  });
  // Longer than common proxy idle timeouts so pooled connections are not cut mid-request. (Since
  // Node 18 the headers timeout counts from a request's first byte, not from the connection's
  // idle time, so it can be shorter than this.)
  server.keepAliveTimeout = 65_000;

  async function handle(request: IncomingMessage, response: ServerResponse, info: RequestInfo): Promise<void> {
    const url = new URL(request.url ?? "/", "http://localhost");
    if (url.pathname === "/healthz") {
      const ready = options.ready ? options.ready() : true;
      sendJson(response, ready ? 200 : 503, { status: ready ? "ok" : "starting" });
      return;
    }
    if (url.pathname === "/readyz") {
      const ready = (options.ready ? options.ready() : true) && (options.readiness ? await options.readiness() : true);
      sendJson(response, ready ? 200 : 503, { status: ready ? "ready" : "unavailable" });
      return;
    }
    // A browser opening /graphql may be given a page by the routes (GraphiQL); an operation never is.
    if (browserOpensGraphQL(request, url) && options.routes && (await options.routes(request, response, info))) return;
    if (url.pathname === "/graphql") {
      await inServerSpan(`${request.method ?? "GET"} /graphql`, request.headers, { "http.request.method": request.method ?? "GET", "url.path": "/graphql" }, () => handleGraphQL(request, response, url, info));
      return;
    }
    const routes = options.routes;
    if (routes && (await inServerSpan(`${request.method ?? "GET"} ${routePattern(request.url)}`, request.headers, { "http.request.method": request.method ?? "GET" }, () => routes(request, response, info)))) return;
    sendJson(response, 404, { errors: [{ message: `No route for ${request.method} ${url.pathname}`, extensions: { code: "NOT_FOUND" } }] });
  }

  /**
   * One GraphQL request through Apollo, whether it came over HTTP or from this process. Its answer
   * is handed on only once what it holds for has settled (answer-holds.ts); a failed hold is a 500
   * (whoever held the answer logs why).
   */
  async function executeGraphQL(method: string, headers: HeaderMap, search: string, body: unknown, info: RequestInfo) {
    const holds = new AnswerHolds();
    const result = await execute({ httpGraphQLRequest: { method, headers, search, body }, context: () => contextOrUnavailable(options.context, { ...info, graphql: { method, search, body }, holds }) });
    try {
      await holds.settled();
    } catch {
      throw new HttpError(500, "INTERNAL_SERVER_ERROR", "Internal server error");
    }
    return result;
  }

  async function handleGraphQL(request: IncomingMessage, response: ServerResponse, url: URL, info: RequestInfo): Promise<void> {
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(", ") : value);
    }
    const raw = request.method === "POST" ? await readBody(request, maxBodyBytes, limits.bodyTimeoutMs) : Buffer.alloc(0);
    const refusal = options.admit?.({ method: request.method ?? "GET", target: request.url ?? "/", headers: request.headers, body: raw });
    if (refusal) throw new HttpError(refusal.status, refusal.code, refusal.message);
    const body = request.method === "POST" ? parseJsonBody(request, raw) : undefined;
    const result = await executeGraphQL(request.method ?? "GET", headers, url.search, body, info);
    response.setHeader("cache-control", NO_STORE);
    for (const [key, value] of result.headers) response.setHeader(key, value);
    // Apollo's landing page (a browser's GET) carries its own script and style policy in a meta
    // tag; the JSON answers' header policy would forbid all of it. The header keeps what a meta
    // tag cannot say.
    if (result.headers.get("content-type")?.startsWith("text/html")) response.setHeader("content-security-policy", LANDING_PAGE_HEADER_CSP);
    response.statusCode = result.status ?? 200;
    if (result.body.kind === "complete") {
      response.end(result.body.string);
      return;
    }
    for await (const chunk of result.body.asyncIterator) response.write(chunk);
    response.end();
  }

  const origin = await listen(server, options.port, options.host);

  /** POST /graphql for callers in this process (in-process-http.ts): the same pipeline, no socket. */
  function handleInProcess(request: InProcessRequest): Promise<InProcessAnswer> {
    return inServerSpan("POST /graphql", request.headers, { "http.request.method": "POST", "url.path": "/graphql" }, () => answerInProcess(request));
  }

  async function answerInProcess(request: InProcessRequest): Promise<InProcessAnswer> {
    const url = new URL(request.url);
    if (url.pathname !== "/graphql" || request.method !== "POST") return jsonAnswer(404, { errors: [{ message: "In-process calls serve POST /graphql only", extensions: { code: "NOT_FOUND" } }] });
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(request.headers)) headers.set(key, value);
    // What the context reads of a request (its headers) without a socket behind it.
    const pseudoRequest = { headers: Object.fromEntries(headers), method: request.method, url: url.pathname + url.search } as unknown as IncomingMessage;
    const info: RequestInfo = { requestId: requestIdOf(pseudoRequest), request: pseudoRequest };
    const refusal = options.admit?.({ method: request.method, target: url.pathname + url.search, headers: pseudoRequest.headers, body: request.body });
    if (refusal) return jsonAnswer(refusal.status, { errors: [{ message: refusal.message, extensions: { code: refusal.code } }] });
    let body: unknown;
    try {
      body = JSON.parse(request.body) as unknown;
    } catch {
      return jsonAnswer(400, { errors: [{ message: "Request body is not valid JSON", extensions: { code: "BAD_REQUEST" } }] });
    }
    let result: Awaited<ReturnType<typeof executeGraphQL>>;
    try {
      result = await executeGraphQL("POST", headers, url.search, body, info);
    } catch (error) {
      if (error instanceof HttpError) return jsonAnswer(error.status, { errors: [{ message: error.message, extensions: { code: error.code } }] });
      throw error;
    }
    const answerHeaders = new HeaderMap([
      ["cache-control", NO_STORE],
      ["x-request-id", info.requestId],
    ]);
    for (const [key, value] of result.headers) answerHeaders.set(key, value);
    let text = "";
    if (result.body.kind === "complete") text = result.body.string;
    else for await (const chunk of result.body.asyncIterator) text += chunk;
    return { status: result.status ?? 200, headers: answerHeaders, body: text };
  }
  const stopServingInProcess = serveInProcess(origin, handleInProcess);

  return {
    server,
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        stopServingInProcess();
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      }),
  };
}

/**
 * The path as a log may show it: the route's words (lowercase, no run of three digits: `v1`,
 * `consents`, `.well-known`, `jwks.json`) kept, any other segment (an id, or whatever a caller
 * put there) as `:id`.
 */
function routePattern(url: string | undefined): string {
  const path = new URL(url ?? "/", "http://localhost").pathname;
  const word = (segment: string) => segment === "" || (/^[a-z.][a-z0-9.-]{0,31}$/.test(segment) && !/\d{3}/.test(segment));
  return path.split("/").map((segment) => (word(segment) ? segment : ":id")).join("/");
}

function requestIdOf(request: IncomingMessage): string {
  const given = request.headers["x-request-id"];
  return typeof given === "string" && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
}

/** The whole body, or 413 past `maxBytes`, or 408 when it has not all arrived within `timeoutMs`. */
function readBody(request: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  const declared = Number(request.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.reject(new HttpError(413, "PAYLOAD_TOO_LARGE", `Request body exceeds ${maxBytes} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      clearTimeout(timer);
      request.off("data", onData).off("end", onEnd).off("error", onError);
    };
    const fail = (error: unknown) => {
      stop();
      request.pause();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) fail(new HttpError(413, "PAYLOAD_TOO_LARGE", `Request body exceeds ${maxBytes} bytes`));
      else chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      resolve(Buffer.concat(chunks));
    };
    const onError = (error: Error) => fail(error);
    const timer = setTimeout(() => fail(new HttpError(408, "REQUEST_TIMEOUT", `The request body did not arrive within ${timeoutMs} ms`)), timeoutMs);
    request.on("data", onData).on("end", onEnd).on("error", onError);
  });
}

function parseJsonBody(request: IncomingMessage, raw: Buffer): unknown {
  const contentType = request.headers["content-type"] ?? "";
  const text = raw.toString("utf8");
  if (!contentType.includes("json")) {
    throw new HttpError(415, "UNSUPPORTED_MEDIA_TYPE", "POST /graphql needs Content-Type: application/json");
  }
  if (text.trim() === "") throw new HttpError(400, "BAD_REQUEST", "Request body is empty");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, "BAD_REQUEST", "Request body is not valid JSON");
  }
}

function jsonAnswer(status: number, payload: unknown): InProcessAnswer {
  return {
    status,
    headers: new HeaderMap([
      ["content-type", "application/json; charset=utf-8"],
      ["cache-control", NO_STORE],
    ]),
    body: JSON.stringify(payload),
  };
}

export function sendJson(response: ServerResponse, status: number, payload: unknown): void {
  const body = JSON.stringify(payload);
  response.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) });
  response.end(body);
}

/**
 * The request's context; a database that cannot be reached while building it (the token check
 * reads consents) is a 503 with a retry, not Apollo's 500 "Context creation failed".
 */
async function contextOrUnavailable<TContext>(build: (info: RequestInfo) => Promise<TContext>, info: RequestInfo): Promise<TContext> {
  try {
    return await build(info);
  } catch (error) {
    if (!isDatabaseUnavailable(error)) throw error;
    throw new GraphQLError("The database is unavailable for now; retry shortly", {
      extensions: {
        code: "SERVICE_UNAVAILABLE",
        retryAfter: DATABASE_RETRY_AFTER_SECONDS,
        http: { status: 503, headers: new HeaderMap([["retry-after", String(DATABASE_RETRY_AFTER_SECONDS)]]) },
      },
    });
  }
}
