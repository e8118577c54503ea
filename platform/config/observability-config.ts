import { z } from "zod";

/**
 * The metrics listener; part of Config (`config.observability`). Traces are configured by the
 * standard OTEL_* variables instead (platform/observability/tracing-settings.ts).
 */
export interface ObservabilityConfig {
  /**
   * METRICS_PORT: a listener of its own serving /metrics (and /healthz, /readyz for probes); unset,
   * no metrics are kept at all. Never the API's port: what a scrape shows (operation names,
   * error rates, backlog) is not for partners.
   */
  metricsPort: number | undefined;
  /** METRICS_HOST: where that listener binds; default HOST. */
  metricsHost: string | undefined;
  /** METRICS_TOKEN: when set, /metrics answers only `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
}

const environment = z.object({
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  METRICS_HOST: z.string().min(1).optional(),
  METRICS_TOKEN: z.string().min(32, "must be at least 32 characters (make one with: node -e \"console.log(require('node:crypto').randomBytes(32).toString('base64url'))\")").optional(),
});

export function observabilityConfigSchema() {
  return environment;
}

export function toObservabilityConfig(values: z.infer<typeof environment>): ObservabilityConfig {
  return { metricsPort: values.METRICS_PORT, metricsHost: values.METRICS_HOST, metricsToken: values.METRICS_TOKEN };
}
