import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import { trace } from "@opentelemetry/api";
import { activeMetrics, operationLabel } from "./metrics.ts";
import { tracingEnabled } from "./tracing.ts";

/**
 * Per operation: a request count by outcome, its errors by code, its latency (metrics.ts), and the
 * operation's name and type on the request's server span. With metrics and tracing both off it
 * hooks nothing into the request.
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
        async willSendResponse({ operationName, response, request }) {
          if (!metrics) return;
          const operation = operationLabel(operationName ?? request.operationName);
          const errors = response.body.kind === "single" ? (response.body.singleResult.errors ?? []) : [];
          metrics.graphqlRequests.inc({ operation, outcome: errors.length > 0 ? "error" : "ok" });
          for (const error of errors) {
            const code = typeof error.extensions?.code === "string" ? error.extensions.code : "UNKNOWN";
            metrics.graphqlErrors.inc({ operation, code });
          }
          metrics.graphqlDuration.observe({ operation }, (performance.now() - started) / 1000);
        },
      };
    },
  };
}
