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

/** Counts one /graphql request of the token's client, and refuses it once its plan's operations are spent; its meter goes in the request's context. */
export async function countGraphQLRequest(rateLimits: RateLimits, clientId: string): Promise<RequestMeter> {
  const meter = new RequestMeter();
  try {
    await rateLimits.countRequest(meter, clientId);
    await rateLimits.spendQuota(meter, clientId, PRODUCTS.graphql);
  } catch (error) {
    throw error instanceof RateLimitExceeded ? graphQLRateLimited(error, meter) : error;
  }
  return meter;
}

/** For operationLimitsPlugin's `onCost`: charges the admitted operation's cost to the token's client. */
export function costCharger(rateLimits: RateLimits): (cost: number, context: GatewayContext) => Promise<void> {
  return async (cost, context) => {
    const meter = context.rateLimit ?? new RequestMeter();
    try {
      await rateLimits.chargeCost(meter, context.viewer.clientId, cost);
    } catch (error) {
      throw error instanceof RateLimitExceeded ? graphQLRateLimited(error, meter) : error;
    }
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
