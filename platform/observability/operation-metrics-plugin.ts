import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import { trace } from "@opentelemetry/api";
import { activeMetrics, operationLabel } from "./metrics.ts";
import { tracingEnabled } from "./tracing.ts";
import { AnswerHolds } from "../http/answer-holds.ts";

/**
 * Per operation: a request count by outcome, its errors by code, its latency (metrics.ts), and the
 * operation's name and type on the request's server span. With metrics and tracing both off it
 * hooks nothing into the request. An answer held for a write (a consent receipt) is counted once
 * the write settled, as what the caller got: withheld, it is a 500 INTERNAL_SERVER_ERROR.
 */
export function operationMetricsPlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      const metrics = activeMetrics();
      const tracing = tracingEnabled();
      if (!metrics && !tracing) return undefined;
      const started = performance.now();
      return {
        async didResolveOperation({ operationName, operation }) {
          if (!tracing) return;
          trace.getActiveSpan()?.setAttributes({ "graphql.operation.name": operationName ?? "", ...(operation ? { "graphql.operation.type": operation.operation } : {}) });
        },
        async willSendResponse({ operationName, response, request, contextValue }) {
          if (!metrics) return;
          const operation = operationLabel(operationName ?? request.operationName);
          const errors = response.body.kind === "single" ? (response.body.singleResult.errors ?? []) : [];
          const count = (codes: readonly string[]) => {
            metrics.graphqlRequests.inc({ operation, outcome: codes.length > 0 ? "error" : "ok" });
            for (const code of codes) metrics.graphqlErrors.inc({ operation, code });
            metrics.graphqlDuration.observe({ operation }, (performance.now() - started) / 1000);
          };
          const codes = errors.map((error) => (typeof error.extensions?.code === "string" ? error.extensions.code : "UNKNOWN"));
          const holds = (contextValue as { holds?: unknown }).holds;
          // Not awaited: the answer is encoded while the write runs; the HTTP server sends it once it settled.
          if (holds instanceof AnswerHolds) void holds.settled().then(() => count(codes), () => count(["INTERNAL_SERVER_ERROR"]));
          else count(codes);
        },
      };
    },
  };
}
