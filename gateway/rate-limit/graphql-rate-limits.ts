// The rate limits on /graphql: the request is counted where its context is built (the token is
// verified there), the operation's cost once the operation limits have estimated and admitted it.
// Over a quota: 429, `extensions.code` RATE_LIMITED with `retryAfter`, and the `Retry-After` and
// RateLimit headers; under it, the RateLimit headers on the answer.
import { HeaderMap, type ApolloServerPlugin } from "@apollo/server";
import type { GraphQLError } from "graphql";
import { graphQLError } from "../../platform/errors.ts";
import { PRODUCTS } from "../../platform/metering/usage-counter.ts";
import type { GatewayContext } from "../context.ts";
import { RateLimitExceeded, type RateLimits } from "./rate-limits.ts";
import { headersOf, RequestMeter } from "./request-meter.ts";

/** The error a refused count answers with on /graphql. */
export function graphQLRateLimited(error: RateLimitExceeded, meter?: RequestMeter): GraphQLError {
  const headers = new HeaderMap([["retry-after", String(error.retryAfterSeconds)], ...(meter?.headers() ?? headersOf(error.states))]);
  return graphQLError("RATE_LIMITED", error.message, { retryAfter: error.retryAfterSeconds, http: { status: 429, headers } });
}

/** A count's refusal as /graphql answers it (graphQLRateLimited); any other failure as it is. */
function asGraphQLRefusal(error: unknown, meter: RequestMeter): unknown {
  return error instanceof RateLimitExceeded ? graphQLRateLimited(error, meter) : error;
}

/** A /graphql request's count: the meter for its context, and the count itself, under way. */
export interface GraphQLRequestCount {
  meter: RequestMeter;
  /** Rejects with the 429 once the client is over its requests or its plan's operations. */
  counted: Promise<void>;
}

/**
 * Counts one /graphql request of the token's client, and refuses it once its plan's operations
 * are spent, without waiting: the count goes out now, and the request waits for it beside its
 * operation's cost (costCharger), so both are known before anything runs. Waited for here, the
 * count was a round trip of its own before Apollo even parsed the request, and the cost a second
 * one after; now they share a statement (BatchedCounts). A request that never gets to its cost (a
 * document that does not parse) is counted all the same, and answered with its own error.
 */
export function startGraphQLRequestCount(rateLimits: RateLimits, clientId: string): GraphQLRequestCount {
  const meter = new RequestMeter();
  const counted = (async () => {
    try {
      await rateLimits.countRequest(meter, clientId);
      await rateLimits.spendQuota(meter, clientId, PRODUCTS.graphql);
    } catch (error) {
      throw asGraphQLRefusal(error, meter);
    }
  })();
  // Heard by costCharger; unheard when the request fails before it (see above).
  counted.catch(() => undefined);
  return { meter, counted };
}

/**
 * For operationLimitsPlugin's `onCost`: charges the admitted operation's cost to the token's
 * client while the request's own count (startGraphQLRequestCount) finishes; either refusal stops
 * the operation, the request's first. A cost charged for a request refused is given back.
 */
export function costCharger(rateLimits: RateLimits): (cost: number, context: GatewayContext) => Promise<void> {
  return async (cost, context) => {
    const meter = context.rateLimit ?? new RequestMeter();
    const clientId = context.viewer.clientId;
    const [request, operation] = await Promise.allSettled([context.requestCounted, rateLimits.chargeCost(meter, clientId, cost)]);
    if (request.status === "rejected") {
      // A refund that fails leaves the window counting one operation too many, never too few.
      if (operation.status === "fulfilled") await rateLimits.refundCost(meter, clientId, cost).catch(() => undefined);
      throw request.reason;
    }
    if (operation.status === "rejected") throw asGraphQLRefusal(operation.reason, meter);
  };
}

/** Puts the RateLimit headers of what the request was counted against on its answer. */
export function rateLimitHeadersPlugin(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue, response }) {
          for (const [field, value] of contextValue.rateLimit?.headers() ?? []) response.http.headers.set(field, value);
        },
      };
    },
  };
}
