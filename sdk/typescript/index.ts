// kamina-graph's TypeScript SDK: a partner reads a consented person's graph with typed GraphQL
// documents (generated/graphql.ts, from operations/*.graphql against our API schema) and typed
// REST calls (generated/openapi.ts, from docs/openapi.json). It asks for consent, refreshes
// with rotation (only the newest refresh token is kept; concurrent refreshes share one request,
// since reusing a spent refresh token revokes the whole family), signs DPoP proofs when given a
// key, streams alerts with the resuming helper of sdk/js/alert-stream.ts, and verifies webhooks.
import { subscribeToAlerts, type Alert, type AlertStream, type SubscribeToAlertsOptions } from "../js/alert-stream.ts";
import { createDpopProof, type DpopKeyPair } from "./dpop.ts";
import type { Method, Operation, PathsFor, RequestOptions, SuccessBody } from "./rest.ts";
import type { TypedDocumentString } from "./generated/graphql.ts";

export * from "./generated/graphql.ts";
export type { Method, Operation, PathsFor, RequestOptions, SuccessBody, paths } from "./rest.ts";
export { createDpopProof, htuOf, type DpopKeyPair } from "./dpop.ts";
export { type AlertCreatedWebhook, DEFAULT_TOLERANCE_SECONDS, verifyWebhook, type VerifyResult, type WebhookHeaders } from "./webhooks.ts";
export * from "../js/alert-stream.ts";

export interface Tokens {
  accessToken: string;
  /** The newest refresh token; the previous one is spent (using it again revokes the family). */
  refreshToken?: string;
  /** `Bearer`, or `DPoP` when the tokens are bound to the client's key. */
  tokenType: "Bearer" | "DPoP";
  /** When the access token expires (ms since the epoch). */
  expiresAt: number;
  consentId?: string;
}

export interface KaminaOptions {
  /** The gateway's origin, e.g. `https://graph.example.com`. */
  baseUrl: string;
  /** The client's credentials, for the consent and token endpoints (keep them on your server). */
  clientId?: string;
  clientSecret?: string;
  /** Tokens stored from an earlier run. */
  tokens?: Tokens;
  /** Called whenever new tokens arrive (consent, refresh): store them, the old refresh token is spent. */
  onTokens?: (tokens: Tokens) => void | Promise<void>;
  /** Bind the tokens to this key: every request then carries a DPoP proof (docs/auth.md §7). */
  dpopKey?: DpopKeyPair;
  /** Refresh this long before the access token expires (default 30 s). */
  refreshMarginMs?: number;
  fetch?: typeof fetch;
}

export interface ConsentRequest {
  userExternalId: string;
  scopes: readonly string[];
  country: string;
  consentTextVersion: string;
}

/** What POST /v1/auth/consent answered: tokens at once (a sandbox client, or an authorised consent), or a consent awaiting the person. */
export type ConsentResult = { status: "authorised"; consentId: string; tokens: Tokens } | { status: "awaiting_authorisation"; consentId: string; body: Record<string, unknown> };

/** An HTTP answer that was not a success; `code` is the envelope's error code (docs/errors.md). */
export class KaminaError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    readonly body: unknown,
  ) {
    super(`kamina-graph answered ${status}${code ? ` ${code}` : ""}: ${messageOf(body)}`);
    this.name = "KaminaError";
  }
}

export interface GraphQLErrorShape {
  message: string;
  path?: readonly (string | number)[];
  extensions?: Record<string, unknown>;
}

/** A GraphQL answer without data: the operation was refused as a whole. */
export class KaminaGraphQLError extends Error {
  constructor(readonly errors: readonly GraphQLErrorShape[]) {
    super(errors.map((error) => error.message).join("; ") || "no data");
    this.name = "KaminaGraphQLError";
  }
}

function messageOf(body: unknown): string {
  if (body && typeof body === "object") {
    const record = body as Record<string, unknown>;
    const error = record.error as Record<string, unknown> | undefined;
    if (error && typeof error === "object" && typeof error.message === "string") return error.message;
    if (typeof record.message === "string") return record.message;
    if (typeof record.error_description === "string") return record.error_description;
  }
  return typeof body === "string" ? body.slice(0, 200) : JSON.stringify(body)?.slice(0, 200) ?? "";
}

function codeOf(body: unknown): string | undefined {
  if (!body || typeof body !== "object") return undefined;
  const record = body as Record<string, unknown>;
  const error = record.error;
  if (error && typeof error === "object" && typeof (error as Record<string, unknown>).code === "string") return (error as Record<string, string>).code;
  if (typeof record.code === "string") return record.code;
  return typeof error === "string" ? error : undefined;
}

/** `[]` when the operation has no required variables, else `[variables]`. */
type VariablesArgument<V> = Record<string, never> extends V ? [variables?: V] : [variables: V];

export class Kamina {
  private current: Tokens | undefined;
  private refreshing: Promise<Tokens> | undefined;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: KaminaOptions) {
    this.current = options.tokens;
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** The tokens in use (store them to resume in another process). */
  get tokens(): Tokens | undefined {
    return this.current;
  }

  /** POST /v1/auth/consent: asks the person's consent; a sandbox client's is authorised at once and its tokens are kept. */
  async consent(request: ConsentRequest): Promise<ConsentResult> {
    const url = this.url("/v1/auth/consent");
    const response = await this.fetchImpl(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...this.clientAuthorization(), ...(await this.proofHeader("POST", url)) },
      body: JSON.stringify({
        client_id: this.requireClientId(),
        user_external_id: request.userExternalId,
        scopes: request.scopes,
        country: request.country,
        consent_text_version: request.consentTextVersion,
      }),
    });
    const body = (await readBody(response)) as Record<string, unknown>;
    if (response.status === 202) return { status: "awaiting_authorisation", consentId: String(body.consent_id), body };
    if (!response.ok) throw new KaminaError(response.status, codeOf(body), body);
    const tokens = await this.keep(body);
    return { status: "authorised", consentId: tokens.consentId ?? String(body.consent_id), tokens };
  }

  /**
   * POST /v1/auth/token with the refresh token: the answer's refresh token replaces the old one,
   * which is spent. Calls made at the same time share one refresh.
   */
  refresh(): Promise<Tokens> {
    this.refreshing ??= this.rotate().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async rotate(): Promise<Tokens> {
    const refreshToken = this.current?.refreshToken;
    if (!refreshToken) throw new Error("No refresh token: ask for consent first");
    const url = this.url("/v1/auth/token");
    const response = await this.fetchImpl(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...this.clientAuthorization(), ...(await this.proofHeader("POST", url)) },
      body: JSON.stringify({ grant_type: "refresh_token", refresh_token: refreshToken }),
    });
    const body = await readBody(response);
    if (!response.ok) throw new KaminaError(response.status, codeOf(body), body);
    return this.keep(body as Record<string, unknown>);
  }

  /** A typed GraphQL operation (a document from generated/graphql.ts): the data and any per-field errors. */
  async graphql<R, V>(document: TypedDocumentString<R, V>, ...[variables]: VariablesArgument<V>): Promise<{ data: R | null; errors: readonly GraphQLErrorShape[] }> {
    const url = this.url("/graphql");
    const response = await this.authorizedFetch("POST", url, { query: document.toString(), ...(variables ? { variables } : {}) });
    const body = (await readBody(response)) as { data?: R | null; errors?: GraphQLErrorShape[] };
    if (!response.ok && body?.data == null) throw new KaminaError(response.status, body?.errors?.[0]?.extensions?.code as string | undefined, body);
    return { data: body.data ?? null, errors: body.errors ?? [] };
  }

  /** Like `graphql`, but the data alone; throws KaminaGraphQLError when there is none. */
  async query<R, V>(document: TypedDocumentString<R, V>, ...variables: VariablesArgument<V>): Promise<R> {
    const { data, errors } = await this.graphql(document, ...variables);
    if (data == null) throw new KaminaGraphQLError(errors);
    return data;
  }

  /** A typed REST call: `kamina.rest("get", "/v1/debts", { query: { status: "late" } })`. */
  async rest<M extends Method, P extends PathsFor<M>>(method: M, path: P, ...[options]: RestArguments<Operation<P, M>>): Promise<SuccessBody<Operation<P, M>>> {
    const given = (options ?? {}) as { path?: Record<string, string>; query?: Record<string, unknown>; body?: unknown };
    let resolved: string = path;
    for (const [name, value] of Object.entries(given.path ?? {})) resolved = resolved.replace(`{${name}}`, encodeURIComponent(String(value)));
    const url = new URL(this.url(resolved));
    for (const [name, value] of Object.entries(given.query ?? {})) if (value !== undefined && value !== null) url.searchParams.set(name, String(value));
    const response = await this.authorizedFetch(method.toUpperCase(), url.toString(), given.body);
    const body = await readBody(response);
    if (!response.ok) throw new KaminaError(response.status, codeOf(body), body);
    return body as SuccessBody<Operation<P, M>>;
  }

  /**
   * The person's prevention alerts over graphql-ws, resumed by cursor after any drop (the helper
   * of sdk/js/alert-stream.ts), with this client's tokens: refreshed after a 4401, a new DPoP
   * proof for every connection when the tokens are bound.
   */
  alerts<A = Alert>(options: Omit<SubscribeToAlertsOptions<A>, "url" | "token" | "getToken" | "connectionParams">): AlertStream {
    const url = this.url("/graphql");
    return subscribeToAlerts<A>({
      ...options,
      url,
      connectionParams: async ({ refresh }) => {
        const tokens = refresh ? await this.refresh() : await this.fresh();
        const params: Record<string, unknown> = { authorization: `${tokens.tokenType} ${tokens.accessToken}` };
        if (tokens.tokenType === "DPoP" && this.options.dpopKey) params.dpop = await createDpopProof(this.options.dpopKey, "GET", url, tokens.accessToken);
        return params;
      },
    });
  }

  /** The current tokens, refreshed first when the access token is about to expire. */
  private async fresh(): Promise<Tokens> {
    const tokens = this.current;
    if (!tokens) throw new Error("No tokens: ask for consent first (or pass `tokens`)");
    if (tokens.refreshToken && tokens.expiresAt - (this.options.refreshMarginMs ?? 30_000) <= Date.now()) return this.refresh();
    return tokens;
  }

  private async authorizedFetch(method: string, url: string, json: unknown): Promise<Response> {
    const tokens = await this.fresh();
    const headers: Record<string, string> = { authorization: `${tokens.tokenType} ${tokens.accessToken}`, accept: "application/json" };
    if (this.options.dpopKey && tokens.tokenType === "DPoP") headers.dpop = await createDpopProof(this.options.dpopKey, method, url, tokens.accessToken);
    if (json !== undefined) headers["content-type"] = "application/json";
    return this.fetchImpl(url, { method, headers, ...(json !== undefined ? { body: JSON.stringify(json) } : {}) });
  }

  private async keep(body: Record<string, unknown>): Promise<Tokens> {
    if (typeof body.access_token !== "string") throw new KaminaError(200, undefined, body);
    const tokens: Tokens = {
      accessToken: body.access_token,
      tokenType: body.token_type === "DPoP" ? "DPoP" : "Bearer",
      expiresAt: Date.now() + Number(body.expires_in ?? 0) * 1000,
    };
    // Rotation: the answer's refresh token is the only live one; an answer without one keeps the family's.
    const refreshToken = typeof body.refresh_token === "string" ? body.refresh_token : this.current?.refreshToken;
    if (refreshToken) tokens.refreshToken = refreshToken;
    const consentId = typeof body.consent_id === "string" ? body.consent_id : this.current?.consentId;
    if (consentId) tokens.consentId = consentId;
    this.current = tokens;
    await this.options.onTokens?.(tokens);
    return tokens;
  }

  private async proofHeader(method: string, url: string): Promise<Record<string, string>> {
    return this.options.dpopKey ? { dpop: await createDpopProof(this.options.dpopKey, method, url) } : {};
  }

  private clientAuthorization(): Record<string, string> {
    const secret = this.options.clientSecret;
    if (!secret) throw new Error("The consent and token endpoints need `clientId` and `clientSecret`");
    return { authorization: `Basic ${btoa(`${this.requireClientId()}:${secret}`)}` };
  }

  private requireClientId(): string {
    if (!this.options.clientId) throw new Error("`clientId` is needed");
    return this.options.clientId;
  }

  private url(path: string): string {
    return `${this.options.baseUrl.replace(/\/+$/, "")}${path}`;
  }
}

/** No argument needed when the operation has no path parameters. */
type RestArguments<O> = [RequestOptions<O>] extends [{ path: unknown }] ? [options: RequestOptions<O>] : [options?: RequestOptions<O>];

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
