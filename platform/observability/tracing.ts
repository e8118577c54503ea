import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from "@opentelemetry/api";
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import { tracingSettings, type TracingSettings } from "./tracing-settings.ts";

/**
 * OpenTelemetry traces, off unless the standard OTEL_* variables ask for them
 * (tracing-settings.ts). Off, nothing here loads the SDK, and every helper below is one boolean
 * test and a direct call: no span objects, no context switches, no header parsing.
 */
let enabled = false;
let shutdownProvider: (() => Promise<void>) | undefined;

const TRACER = "kamina-graph";

export function tracingEnabled(): boolean {
  return enabled;
}

export interface StartTracingOptions {
  /** service.name when OTEL_SERVICE_NAME is unset, e.g. `kamina-graph-gateway`. */
  serviceName: string;
  /** Export here instead of what the environment names (tests: an InMemorySpanExporter). */
  exporter?: SpanExporter;
  env?: NodeJS.ProcessEnv;
}

/**
 * Registers the tracer provider (W3C trace context, async-hooks context), Prisma's spans and the
 * exporter; a no-op returning false when the environment leaves tracing off. Call once, before
 * servers start.
 */
export async function startTracing(options: StartTracingOptions): Promise<boolean> {
  const settings: TracingSettings | undefined = options.exporter ? { exporter: "memory", sampler: { kind: "always_on" } } : tracingSettings(options.env ?? process.env);
  if (!settings || enabled) return enabled;
  const [{ NodeTracerProvider, BatchSpanProcessor, SimpleSpanProcessor, ConsoleSpanExporter }, { resourceFromAttributes, defaultResource, envDetector, detectResources }, { W3CTraceContextPropagator }, { PrismaInstrumentation }, { createSampler }] =
    await Promise.all([import("@opentelemetry/sdk-trace-node"), import("@opentelemetry/resources"), import("@opentelemetry/core"), import("@prisma/instrumentation"), import("./sampler.ts")]);
  let processor;
  if (options.exporter) processor = new SimpleSpanProcessor(options.exporter);
  else if (settings.exporter === "console") processor = new SimpleSpanProcessor(new ConsoleSpanExporter());
  else {
    // Reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, _TIMEOUT itself; the batch OTEL_BSP_*.
    const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
    processor = new BatchSpanProcessor(new OTLPTraceExporter());
  }
  const resource = defaultResource()
    .merge(resourceFromAttributes({ "service.name": options.serviceName }))
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({ resource, sampler: createSampler(settings.sampler), spanProcessors: [processor] });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  // Prisma 7 reports each operation and each SQL statement (`prisma:client:db_query`) under the active span.
  const prisma = new PrismaInstrumentation();
  prisma.setTracerProvider(provider);
  prisma.enable();
  enabled = true;
  shutdownProvider = async () => {
    prisma.disable();
    await provider.shutdown();
  };
  return true;
}

/** Flushes and stops the exporter (graceful shutdown, tests). */
export async function stopTracing(): Promise<void> {
  const stop = shutdownProvider;
  shutdownProvider = undefined;
  enabled = false;
  await stop?.();
  trace.disable();
  propagation.disable();
  context.disable();
}

type HeaderBag = Record<string, string | string[] | undefined>;

const headerGetter = {
  keys: (carrier: HeaderBag) => Object.keys(carrier),
  get: (carrier: HeaderBag, key: string) => carrier[key] ?? carrier[key.toLowerCase()],
};

/**
 * Runs `work` inside a server span continuing the caller's W3C `traceparent` (incoming HTTP
 * request, in-process call): the gateway's request, a subgraph's request.
 */
export function inServerSpan<T>(name: string, headers: HeaderBag, attributes: Attributes, work: (span: Span | undefined) => Promise<T>): Promise<T> {
  if (!enabled) return work(undefined);
  const parent = propagation.extract(context.active(), headers, headerGetter);
  return trace.getTracer(TRACER).startActiveSpan(name, { kind: SpanKind.SERVER, attributes }, parent, (span) => endWhenDone(span, work(span)));
}

/**
 * Runs `work` inside a client span and hands it the headers (`traceparent`, `tracestate`) that
 * carry this span to the next hop; an empty object when tracing is off.
 */
export function inClientSpan<T>(name: string, attributes: Attributes, work: (traceHeaders: Record<string, string>, span: Span | undefined) => Promise<T>): Promise<T> {
  if (!enabled) return work({}, undefined);
  return trace.getTracer(TRACER).startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, (span) => {
    const carrier: Record<string, string> = {};
    propagation.inject(context.active(), carrier);
    return endWhenDone(span, work(carrier, span));
  });
}

/** The active span's ids for a log line (logger.ts), or undefined when tracing is off. */
export function activeTraceIds(active: Context | undefined = undefined): { trace_id: string; span_id: string } | undefined {
  if (!enabled) return undefined;
  const spanContext = trace.getSpanContext(active ?? context.active());
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return undefined;
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}

async function endWhenDone<T>(span: Span, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    span.end();
  }
}
