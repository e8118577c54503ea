import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from "@apollo/gateway";
import { STATUS_CODES } from "node:http";
import type { Fetcher, FetcherRequestInit, FetcherResponse } from "@apollo/utils.fetcher";
import { graphQLError } from "../platform/errors.ts";
import { RECEIPT_LISTS_EXTENSION, RECEIPT_LISTS_HEADER, RECEIPTS_EXTENSION } from "../platform/auth/field-access.ts";
import { GATEWAY_SIGNATURE_HEADER, type GatewaySignature } from "../platform/auth/gateway-signature.ts";
import { TOKEN_CHECK_HEADER } from "../platform/auth/token-check-seal.ts";
import type { GatewayContext } from "./context.ts";
import { InflightFetches } from "./inflight-fetches.ts";
import { dpopKey, sealedState } from "./caller-state.ts";
import { SubgraphTimeout, SubgraphTransport, type SubgraphAnswer } from "./subgraph-transport.ts";
import { inClientSpan } from "../platform/observability/tracing.ts";
import { activeMetrics } from "../platform/observability/metrics.ts";

/**
 * Sends subgraph fetches through SubgraphTransport (node:http on keep-alive connections, or
 * in-process to a subgraph running in this process) with a deadline; a subgraph that is down or
 * too slow becomes a coded GraphQL error for the fields it owns, and the rest of the operation
 * still answers. Every fetch is signed (gateway-signature.ts): the subgraphs serve nobody else.
 * The answer is handed to Apollo as a small response object over its text (AnswerResponse), not
 * a Fetch API Response.
 *
 * Identical queries in flight at once for the same caller share one fetch (inflight-fetches.ts,
 * sharingKey below); a mutation never does.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  private readonly inflight = new InflightFetches<SubgraphAnswer>();
  private readonly transport: SubgraphTransport;

  constructor(
    readonly serviceName: string,
    url: string,
    timeoutMs: number,
    private readonly signature: GatewaySignature,
    /** Identical queries in flight for the same caller share one fetch (SHARE_INFLIGHT_FETCHES). */
    private readonly shareInflightFetches = true,
  ) {
    // The gateway computes no cache hints (answers are no-store): a subgraph's Cache-Control is not read.
    super({ url, honorSubgraphCacheControlHeader: false });
    this.transport = new SubgraphTransport(url, timeoutMs);
    this.fetcher = (async (target: string, init: FetcherRequestInit = {}) =>
      new AnswerResponse(target, await this.fetchAnswer(target, init.method ?? "GET", (init.headers ?? {}) as Record<string, string>, init.body?.toString() ?? ""))) as Fetcher;
  }

  /**
   * What RemoteGraphQLDataSource.process does for a query (APQ off), without the Fetch API's
   * Headers and Request it builds per fetch, only to read two headers and the body (about a
   * thirtieth of the gateway's CPU under bench:gateway's distinct-pages load): the same body
   * (`query` first), the same headers, a non-2xx answer the same error, a body that is not JSON
   * the same refusal, then didReceiveResponse.
   */
  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    const { request, context } = options;
    const headers: Record<string, string> = {};
    for (const [name, value] of request.http?.headers ?? []) headers[name.toLowerCase()] = value;
    headers["content-type"] = "application/json";
    if ("requestId" in context) Object.assign(headers, forwardedHeaders(context as GatewayContext));
    if (!request.query) throw new Error("Missing query");
    const { http: _http, query, ...rest } = request;
    const answer = await this.fetchAnswer(this.url, "POST", headers, JSON.stringify({ query, ...rest }));
    const http = new AnswerResponse(this.url, answer);
    if (!http.ok) throw await this.errorFromResponse(http);
    const contentType = answer.headers.find(([name]) => name.toLowerCase() === "content-type")?.[1];
    const body = contentType?.startsWith("application/json") || contentType?.startsWith("application/graphql-response+json") ? (JSON.parse(answer.body) as unknown) : answer.body;
    if (body === null || typeof body !== "object" || Array.isArray(body)) throw new Error(`Expected JSON response body, but received: ${String(body)}`);
    return this.didReceiveResponse({ response: { ...(body as GatewayGraphQLResponse), http }, request, context: context as GatewayContext });
  }

  /** One fetch's answer, shared with identical ones in flight; a subgraph down or too slow is SUBGRAPH_UNAVAILABLE. */
  private async fetchAnswer(target: string, method: string, headers: Record<string, string>, body: string): Promise<SubgraphAnswer> {
    try {
      const key = this.shareInflightFetches ? sharingKey(target, method, body, headers) : undefined;
      // Each request gets an answer object of its own (AnswerResponse over it): didReceiveResponse takes its receipt report for this request's consent receipt, whoever made the fetch.
      return await (key === undefined ? this.send(target, method, headers, body) : this.inflight.run(key, () => this.send(target, method, headers, body)));
    } catch (error) {
      throw graphQLError("SUBGRAPH_UNAVAILABLE", `The ${this.serviceName} service ${error instanceof SubgraphTimeout ? "did not answer in time" : "is unavailable"}`, {
        serviceName: this.serviceName,
      });
    }
  }

  /**
   * One client span per fetch sent (a shared fetch is one span, under the request that sent it),
   * whose traceparent the subgraph continues; and its latency per subgraph when metrics are kept.
   */
  private send(target: string, method: string, init: Record<string, string>, body: string): Promise<SubgraphAnswer> {
    return inClientSpan(`subgraph ${this.serviceName}`, { "kamina.subgraph": this.serviceName, "http.request.method": method }, async (traceHeaders) => {
      const metrics = activeMetrics();
      if (!metrics) return this.sendSigned(target, method, init, body, traceHeaders);
      const started = performance.now();
      let outcome = "unavailable";
      try {
        const answer = await this.sendSigned(target, method, init, body, traceHeaders);
        outcome = answer.status < 400 ? "ok" : "error";
        return answer;
      } finally {
        metrics.subgraphFetchDuration.observe({ subgraph: this.serviceName, outcome }, (performance.now() - started) / 1000);
      }
    });
  }

  private async sendSigned(target: string, method: string, init: Record<string, string>, body: string, traceHeaders: Record<string, string>): Promise<SubgraphAnswer> {
    const headers = { ...init, ...traceHeaders, [GATEWAY_SIGNATURE_HEADER]: this.signature.sign({ method, target, body }) };
    const answer = await this.transport.send(target, method, headers, body);
    const contentType = answer.headers.find(([name]) => name.toLowerCase() === "content-type")?.[1];
    // A 401 here is a subgraph with another KEY_ENCRYPTION_KEY (the subgraph logs why): the fields it owns are unavailable, not the caller's token.
    if (refusedSignature(answer.status, answer.body)) throw new Error(`${this.serviceName} refused the gateway's signature`);
    return errorsAreTheAnswer(answer.status, contentType) ? { ...answer, status: 200 } : answer;
  }

  /** Takes the subgraph's receipt report for the gateway's consent receipt; the client never sees it. */
  override didReceiveResponse({ response, context }: Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>["didReceiveResponse"]>>[0]): GatewayGraphQLResponse {
    const extensions = response.extensions;
    if (extensions && RECEIPT_LISTS_EXTENSION in extensions) {
      if ("requestId" in context) context.receipts?.addLists(extensions[RECEIPT_LISTS_EXTENSION]);
      delete extensions[RECEIPT_LISTS_EXTENSION];
    }
    // A subgraph of an earlier release answers with the report it always sent.
    if (extensions && RECEIPTS_EXTENSION in extensions) {
      if ("requestId" in context) context.receipts?.add(extensions[RECEIPTS_EXTENSION]);
      delete extensions[RECEIPTS_EXTENSION];
    }
    return response;
  }
}

type GatewayGraphQLResponse = Awaited<ReturnType<RemoteGraphQLDataSource["process"]>>;

/** What every fetch of a request carries for the subgraph to check the caller itself. */
function forwardedHeaders(context: GatewayContext): Record<string, string> {
  return {
    "x-request-id": context.requestId,
    authorization: context.authorization,
    [RECEIPT_LISTS_HEADER]: "lists",
    ...(context.dpop ? { dpop: context.dpop } : {}),
    ...(context.tokenCheck ? { [TOKEN_CHECK_HEADER]: context.tokenCheck } : {}),
  };
}

/** Headers made afresh per request that do not change the answer: never part of the sharing key. */
const PER_REQUEST_HEADERS = new Set(["x-request-id", "dpop", TOKEN_CHECK_HEADER, GATEWAY_SIGNATURE_HEADER]);

/**
 * The key under which a fetch may be shared, or undefined when it must not be. Only queries are
 * shared, never mutations. The key holds the subgraph, the body (query and variables) and every
 * header sent, the exact authorization token among them, so two people or two clients never
 * share; of the headers made afresh per request it holds what decides the answer: the DPoP
 * proof's public key, and the consent state the gateway checked for this request as its seal
 * states it (token id, countries, consent version; not the seal's expiry). A request whose check
 * found another consent state (a revocation in between) gets another key, and a revoked
 * consent token is refused by that check before any fetch. The request id and the signature
 * (which carries a timestamp) are left out: a waiter sends nothing.
 */
export function sharingKey(target: string, method: string, body: string, headers: Record<string, string> | Headers | [string, string][]): string | undefined {
  if (method !== "POST" || !isQuery(body)) return undefined;
  const entries = headers instanceof Headers ? [...headers] : Array.isArray(headers) ? headers : Object.entries(headers);
  const lines: string[] = [];
  let dpop: string | undefined;
  let seal: string | undefined;
  for (const [rawName, value] of entries) {
    const name = rawName.toLowerCase();
    if (name === "dpop") dpop = value;
    else if (name === TOKEN_CHECK_HEADER) seal = value;
    if (!PER_REQUEST_HEADERS.has(name)) lines.push(`${name}: ${value}`);
  }
  if (dpop !== undefined) {
    const key = dpopKey(dpop);
    if (key === undefined) return undefined;
    lines.push(`dpop key: ${key}`);
  }
  if (seal !== undefined) {
    const state = sealedState(seal);
    if (state === undefined) return undefined;
    lines.push(`checked: ${state}`);
  }
  lines.sort();
  return `${target}\n${lines.join("\n")}\n\n${body}`;
}

/** Apollo sends `{"query":"...` first; the operations it plans start with their type, or `{` for a query. */
function isQuery(body: string): boolean {
  return /^\{"query":"(?:\s|\\n)*(?:query\b|\{)/.test(body);
}

function refusedSignature(status: number, body: string): boolean {
  return status === 401 && body.includes('"GATEWAY_SIGNATURE_REQUIRED"');
}

/**
 * A subgraph answers a request it rejects (a variable it cannot coerce, such as a malformed Date)
 * with 400 and GraphQL errors; those errors are read as the answer, so the client gets their code
 * and message instead of a bare "400: Bad Request".
 */
function errorsAreTheAnswer(status: number, contentType: string | null | undefined): boolean {
  return status === 400 && contentType?.includes("json") === true;
}

/** A subgraph's answer as Apollo's fetcher contract (@apollo/utils.fetcher) reads a response. */
class AnswerResponse implements FetcherResponse {
  readonly redirected = false;
  bodyUsed = false;
  private headerMap: Headers | undefined;

  constructor(
    readonly url: string,
    private readonly answer: SubgraphAnswer,
  ) {}

  get status(): number {
    return this.answer.status;
  }

  get headers(): Headers {
    return (this.headerMap ??= new Headers(this.answer.headers));
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  get statusText(): string {
    return STATUS_CODES[this.status] ?? "";
  }

  text(): Promise<string> {
    this.bodyUsed = true;
    return Promise.resolve(this.answer.body);
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = new TextEncoder().encode(await this.text());
    return bytes.buffer as ArrayBuffer;
  }

  clone(): AnswerResponse {
    return new AnswerResponse(this.url, this.answer);
  }
}
