import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from "@apollo/gateway";
import { STATUS_CODES } from "node:http";
import type { Fetcher, FetcherRequestInit, FetcherResponse } from "@apollo/utils.fetcher";
import { graphQLError } from "../platform/errors.ts";
import { callInProcess } from "../platform/http/in-process-http.ts";
import { RECEIPTS_EXTENSION } from "../platform/auth/field-access.ts";
import { GATEWAY_SIGNATURE_HEADER, type GatewaySignature } from "../platform/auth/gateway-signature.ts";
import { TOKEN_CHECK_HEADER } from "../platform/auth/token-check-seal.ts";
import type { GatewayContext } from "./context.ts";
import { InflightFetches } from "./inflight-fetches.ts";

/**
 * Sends subgraph fetches over Node's fetch (undici, pooled keep-alive connections) with a
 * deadline, or in-process to a subgraph running in this process (platform/http/in-process-http.ts);
 * a subgraph that is down or too slow becomes a coded GraphQL error for the fields it owns,
 * and the rest of the operation still answers. Every fetch is signed (gateway-signature.ts): the
 * subgraphs serve nobody else.
 *
 * Identical queries in flight at once for the same caller share one fetch (inflight-fetches.ts,
 * sharingKey below); a mutation never does.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  private readonly inflight = new InflightFetches<SubgraphAnswer>();

  constructor(
    readonly serviceName: string,
    url: string,
    timeoutMs: number,
    signature: GatewaySignature,
    /** Identical queries in flight for the same caller share one fetch (SHARE_INFLIGHT_FETCHES). */
    shareInflightFetches = true,
  ) {
    super({ url });
    const send = async (target: string, init: FetcherRequestInit, method: string, body: string): Promise<SubgraphAnswer> => {
      const headers = { ...init.headers, [GATEWAY_SIGNATURE_HEADER]: signature.sign({ method, target, body }) };
      // A subgraph running in this process (`npm start`) is called without a socket.
      const inProcess = callInProcess({ url: target, method, headers, body });
      if (inProcess) {
        const answer = await withDeadline(inProcess, timeoutMs);
        if (refusedSignature(answer.status, answer.body)) throw new Error(`${serviceName} refused the gateway's signature`);
        return { inProcess: true, status: errorsAreTheAnswer(answer.status, answer.headers.get("content-type")) ? 200 : answer.status, headers: [...answer.headers], body: answer.body };
      }
      const response = await fetch(target, { ...(init as RequestInit), method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
      const text = await response.text();
      // A 401 here is a subgraph with another KEY_ENCRYPTION_KEY (the subgraph logs why): the fields it owns are unavailable, not the caller's token.
      if (refusedSignature(response.status, text)) throw new Error(`${serviceName} refused the gateway's signature`);
      const status = errorsAreTheAnswer(response.status, response.headers.get("content-type")) ? 200 : response.status;
      return { inProcess: false, status, headers: [...response.headers], body: text };
    };
    this.fetcher = (async (target: string, init: FetcherRequestInit = {}) => {
      try {
        const method = init.method ?? "GET";
        const body = init.body?.toString() ?? "";
        const key = shareInflightFetches ? sharingKey(target, method, body, init.headers ?? {}) : undefined;
        const answer = await (key === undefined ? send(target, init, method, body) : this.inflight.run(key, () => send(target, init, method, body)));
        // Each request gets a response of its own: Apollo parses it and didReceiveResponse takes
        // its receipt report for this request's consent receipt, whoever made the fetch.
        return answer.inProcess
          ? new InProcessResponse(target, answer.status, new Headers(answer.headers), answer.body)
          : new Response(answer.body, { status: answer.status, headers: answer.headers });
      } catch (error) {
        const timedOut = error instanceof DOMException && error.name === "TimeoutError";
        throw graphQLError("SUBGRAPH_UNAVAILABLE", `The ${serviceName} service ${timedOut ? "did not answer in time" : "is unavailable"}`, {
          serviceName,
        });
      }
    }) as Fetcher;
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    if (!request.http) return;
    if (!("requestId" in context)) return;
    request.http.headers.set("x-request-id", context.requestId);
    request.http.headers.set("authorization", context.authorization);
    if (context.dpop) request.http.headers.set("dpop", context.dpop);
    if (context.tokenCheck) request.http.headers.set(TOKEN_CHECK_HEADER, context.tokenCheck);
  }

  /** Takes the subgraph's receipt report for the gateway's consent receipt; the client never sees it. */
  override didReceiveResponse({ response, context }: Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>["didReceiveResponse"]>>[0]) {
    const extensions = response.extensions;
    if (extensions && RECEIPTS_EXTENSION in extensions) {
      if ("requestId" in context) context.receipts?.add(extensions[RECEIPTS_EXTENSION]);
      delete extensions[RECEIPTS_EXTENSION];
    }
    return response;
  }
}

/** What a subgraph answered, read once and handed to every request that shared the fetch. */
interface SubgraphAnswer {
  inProcess: boolean;
  status: number;
  headers: [string, string][];
  body: string;
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

/** The public key a DPoP proof is signed with (its protected header's `jwk`), as JSON. */
function dpopKey(proof: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(proof.slice(0, proof.indexOf(".")), "base64url").toString("utf8")) as { jwk?: unknown };
    return header.jwk === undefined ? undefined : JSON.stringify(header.jwk);
  } catch {
    return undefined;
  }
}

/** The seal's body without its expiry: what the gateway's token check found for this request. */
function sealedState(seal: string): string | undefined {
  try {
    const dot = seal.indexOf(".");
    if (dot <= 0) return undefined;
    const { e: _expiry, ...state } = JSON.parse(Buffer.from(seal.slice(0, dot), "base64url").toString("utf8")) as Record<string, unknown>;
    return JSON.stringify(state);
  } catch {
    return undefined;
  }
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

/** An in-process answer as Apollo's fetcher contract (@apollo/utils.fetcher) reads a response. */
class InProcessResponse implements FetcherResponse {
  readonly redirected = false;
  bodyUsed = false;

  constructor(
    readonly url: string,
    readonly status: number,
    readonly headers: Headers,
    private readonly body: string,
  ) {}

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  get statusText(): string {
    return STATUS_CODES[this.status] ?? "";
  }

  text(): Promise<string> {
    this.bodyUsed = true;
    return Promise.resolve(this.body);
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = new TextEncoder().encode(await this.text());
    return bytes.buffer as ArrayBuffer;
  }

  clone(): InProcessResponse {
    return new InProcessResponse(this.url, this.status, new Headers(this.headers), this.body);
  }
}

/** The same deadline as a fetch's AbortSignal.timeout, for an in-process call. */
function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DOMException("The operation timed out", "TimeoutError")), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
