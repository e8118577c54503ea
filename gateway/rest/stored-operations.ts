import type { IncomingMessage } from "node:http";
import type { ApolloServer } from "@apollo/server";
import { GraphQLError } from "graphql";
import { isErrorCode } from "../../platform/errors.ts";
import type { RequestInfo } from "../../platform/http/graphql-http-server.ts";
import { authenticate } from "../../platform/auth/authenticate.ts";
import type { AuthServices } from "../auth/services.ts";
import { gatewayContext, type GatewayContext } from "../context.ts";
import { meterOf } from "../rate-limit/request-meter.ts";
import { billedRouteOf } from "./billed-calls.ts";
import { RestError } from "./envelope.ts";
import { PERSON_ID } from "./route-spec.ts";

// The brief's REST routes are stored GraphQL operations run through the same gateway: the token,
// scopes, consent and receipts apply exactly as on /graphql.

export type Data = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * GraphQL argument names as the REST routes call them, so an input error a subgraph raises names
 * what the caller sent (`user_id`, not `userId`). A route's own `inputErrors` message wins.
 */
const REST_NAMES: Record<string, string> = { userId: "user_id", first: "limit", after: "cursor" };

/** A subgraph's message with its argument's GraphQL name replaced by the REST one. */
export function restMessage(message: string, argument: unknown): string {
  const restName = typeof argument === "string" ? REST_NAMES[argument] : undefined;
  return restName ? message.replaceAll(`\`${argument as string}\``, `\`${restName}\``) : message;
}

export interface RunOptions {
  /** The request's context when the route has already authenticated it. */
  context?: GatewayContext;
  /** A message per GraphQL argument, for an input error on it, so the error names the REST parameter the caller sent. */
  inputErrors?: Record<string, string>;
}

/** Runs stored operations as the request's token; a GraphQL error becomes the route's envelope. */
export class StoredOperations {
  // Once per HTTP request, however many operations a route runs: a DPoP proof is good for one use.
  private readonly contexts = new WeakMap<IncomingMessage, Promise<GatewayContext>>();

  constructor(
    private readonly apollo: ApolloServer<GatewayContext>,
    private readonly auth: AuthServices,
  ) {}

  /** The request's verified token as a gateway context: a 401 in the envelope when there is none. */
  context(request: IncomingMessage, info: RequestInfo): Promise<GatewayContext> {
    let context = this.contexts.get(request);
    if (!context) {
      context = this.authenticate(request, info);
      this.contexts.set(request, context);
    }
    return context;
  }

  async run(request: IncomingMessage, info: RequestInfo, query: string, variables: Record<string, unknown>, options: RunOptions = {}): Promise<Data> {
    const contextValue = options.context ?? (await this.context(request, info));
    // `self` asks for the token's own person (`me`): a partner token has none, it names one.
    if (variables.self === true && contextValue.viewer.kind === "client") {
      throw new RestError("BAD_USER_INPUT", "`user_id` is required with a partner (client-credentials) token: name the person to read");
    }
    const response = await this.apollo.executeOperation({ query, variables }, { contextValue });
    if (response.body.kind !== "single") throw new RestError("INTERNAL_SERVER_ERROR", "Unexpected incremental response");
    const { data, errors } = response.body.singleResult;
    const first = errors?.[0];
    if (first) {
      const code = first.extensions?.code;
      const argument = first.extensions?.argumentName;
      const renamed = code === "BAD_USER_INPUT" && typeof argument === "string" ? options.inputErrors?.[argument] : undefined;
      const retryAfter = typeof first.extensions?.retryAfter === "number" ? first.extensions.retryAfter : null;
      throw new RestError(isErrorCode(code) ? code : "INTERNAL_SERVER_ERROR", renamed ?? (code === "BAD_USER_INPUT" ? restMessage(first.message, argument) : first.message), retryAfter);
    }
    return (data ?? {}) as Data;
  }

  private async authenticate(request: IncomingMessage, info: RequestInfo): Promise<GatewayContext> {
    const { viewer, authorization, dpop } = await authenticateRest(this.auth, request);
    const context = gatewayContext(this.auth.verifier, info.requestId, viewer, authorization, dpop, meterOf(request));
    // A data route is a billable call: refused once the plan's quota is spent, counted by its first operation.
    const product = billedRouteOf(request);
    if (product !== undefined) {
      await this.auth.rateLimits.spendQuota(meterOf(request), viewer.clientId, product);
      context.billing = { product, counted: false };
    }
    return context;
  }
}

/**
 * The request's token, verified as on /graphql; a token that fails is a 401 in the REST envelope.
 * The request then counts against the token's client (429 RATE_LIMITED past its quota).
 */
export async function authenticateRest(auth: Pick<AuthServices, "verifier" | "proofs" | "rateLimits">, request: IncomingMessage): ReturnType<typeof authenticate> {
  try {
    const authenticated = await authenticate(auth.verifier, request, auth.proofs);
    await auth.rateLimits.countRequest(meterOf(request), authenticated.viewer.clientId);
    return authenticated;
  } catch (error) {
    if (error instanceof GraphQLError) {
      const { code } = error.extensions;
      throw new RestError(code === "INVALID_DPOP_PROOF" || code === "CONSENT_REVOKED" ? code : "UNAUTHENTICATED", error.message);
    }
    throw error;
  }
}

/**
 * Consent tokens read their own person; partner tokens name one with `user_id` (a partner token
 * without it is refused by StoredOperations.run, which knows the token's kind).
 */
export function subject(request: IncomingMessage, body?: Record<string, unknown>): { userId: string; self: boolean } {
  const url = new URL(request.url ?? "/", "http://localhost");
  const given = (body?.user_id as string | undefined) ?? url.searchParams.get("user_id") ?? undefined;
  if (given !== undefined && (typeof given !== "string" || !PERSON_ID.test(given))) throw new RestError("BAD_USER_INPUT", "`user_id` is not a valid id");
  return given ? { userId: given, self: false } : { userId: "", self: true };
}

/** The person a `me` / `user(id)` operation found, or the envelope's 404. */
export function person(data: Data): Data {
  const found = data.me ?? data.user;
  if (!found) throw new RestError("NOT_FOUND", "No such user is visible to this token");
  return found as Data;
}
