/**
 * Whether and how to trace, from the standard OpenTelemetry variables. Off by default: tracing
 * starts only when OTEL_TRACES_EXPORTER names an exporter (`otlp`, `console`) or an OTLP endpoint
 * is given (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), and
 * OTEL_SDK_DISABLED is not `true`. (The specification's default exporter is `otlp`; ours is none,
 * so that a process without a collector pays nothing.)
 */
export interface TracingSettings {
  exporter: "otlp" | "console" | "memory";
  sampler: SamplerSettings;
}

export type SamplerSettings =
  | { kind: "always_on" | "always_off" | "parentbased_always_on" | "parentbased_always_off" }
  | { kind: "traceidratio" | "parentbased_traceidratio"; ratio: number };

const SAMPLERS = new Set(["always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"]);

export class TracingSettingsError extends Error {}

export function tracingSettings(env: NodeJS.ProcessEnv): TracingSettings | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return undefined;
  const named = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  const endpoint = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
  let exporter: TracingSettings["exporter"];
  if (named === undefined || named === "") {
    if (!endpoint) return undefined;
    exporter = "otlp";
  } else if (named === "none") return undefined;
  else if (named === "otlp" || named === "console") exporter = named;
  else throw new TracingSettingsError(`OTEL_TRACES_EXPORTER: "${named}" is not supported here; use otlp, console or none`);
  return { exporter, sampler: samplerSettings(env) };
}

function samplerSettings(env: NodeJS.ProcessEnv): SamplerSettings {
  const kind = (env.OTEL_TRACES_SAMPLER?.trim().toLowerCase() || "parentbased_always_on") as SamplerSettings["kind"];
  if (!SAMPLERS.has(kind)) throw new TracingSettingsError(`OTEL_TRACES_SAMPLER: "${kind}" is not one of ${[...SAMPLERS].join(", ")}`);
  if (kind !== "traceidratio" && kind !== "parentbased_traceidratio") return { kind };
  const raw = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  const ratio = raw ? Number(raw) : 1;
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) throw new TracingSettingsError(`OTEL_TRACES_SAMPLER_ARG: "${raw}" must be a number from 0 to 1`);
  return { kind, ratio };
}
