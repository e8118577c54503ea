import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from "@apollo/gateway";
import { STATUS_CODES } from "node:http";
import type { Fetcher, FetcherRequestInit, FetcherResponse } from "@apollo/utils.fetcher";
import { graphQLError } from "../platform/errors.ts";
import { callInProcess } from "../platform/http/in-process-http.ts";
import { RECEIPTS_EXTENSION } from "../platform/auth/field-access.ts";
import { GATEWAY_SIGNATURE_HEADER, type GatewaySignature } from "../platform/auth/gateway-signature.ts";
import { TOKEN_CHECK_HEADER } from "../platform/auth/token-check-seal.ts";
import type { GatewayContext } from "./context.ts";

/**
 * Sends subgraph fetches over Node's fetch (undici, pooled keep-alive connections) with a
 * deadline, or in-process to a subgraph running in this process (platform/http/in-process-http.ts);
 * a subgraph that is down or too slow becomes a coded GraphQL error for the fields it owns,
 * and the rest of the operation still answers. Every fetch is signed (gateway-signature.ts): the
 * subgraphs serve nobody else.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    readonly serviceName: string,
    url: string,
    timeoutMs: number,
    signature: GatewaySignature,
  ) {
    super({ url });
    this.fetcher = (async (target: string, init: FetcherRequestInit = {}) => {
      try {
        const method = init.method ?? "GET";
        const body = init.body?.toString() ?? "";
        const headers = { ...init.headers, [GATEWAY_SIGNATURE_HEADER]: signature.sign({ method, target, body }) };
        // A subgraph running in this process (`npm start`) is called without a socket.
        const inProcess = callInProcess({ url: target, method, headers, body });
        if (inProcess) {
          const answer = await withDeadline(inProcess, timeoutMs);
          if (refusedSignature(answer.status, answer.body)) throw new Error(`${serviceName} refused the gateway's signature`);
          return new InProcessResponse(target, errorsAreTheAnswer(answer.status, answer.headers.get("content-type")) ? 200 : answer.status, new Headers([...answer.headers]), answer.body);
        }
        const response = await fetch(target, { ...(init as RequestInit), method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
        if (response.status === 401) {
          // A subgraph with another KEY_ENCRYPTION_KEY (the subgraph logs why): the fields it owns are unavailable, not the caller's token.
          const text = await response.text();
          if (refusedSignature(response.status, text)) throw new Error(`${serviceName} refused the gateway's signature`);
          return new Response(text, { status: response.status, headers: response.headers });
        }
        if (errorsAreTheAnswer(response.status, response.headers.get("content-type"))) {
          return new Response(await response.text(), { status: 200, headers: response.headers });
        }
        return response;
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
