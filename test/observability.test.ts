// Issue 20, item 3: one federated request's trace shows every hop (gateway, each subgraph, its
// SQL), the hops joined by W3C traceparent headers; /metrics answers Prometheus with the
// gateway's request, subgraph and subscription figures; log lines carry the trace id.
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { SpanKind } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { startSeededKamina, stopSeededKamina, type SeededKamina } from "./support/seeded-kamina.ts";
import { bearer, consentToken } from "../testkit/tokens.ts";
import { postGraphQL } from "./support/kamina.ts";
import { inServerSpan, startTracing, stopTracing } from "../platform/observability/tracing.ts";
import { tracingSettings, TracingSettingsError } from "../platform/observability/tracing-settings.ts";
import { disableMetrics, enableMetrics, operationLabel } from "../platform/observability/metrics.ts";
import { startMetricsServer, type RunningMetricsServer } from "../platform/observability/metrics-server.ts";
import { createLogger } from "../platform/logger.ts";
import { SUBGRAPH_NAMES } from "../platform/config/config.ts";

const ONE_USER = /* GraphQL */ `
  query OnePerson($id: ID!) {
    user(id: $id) {
      id
      wellness { score band }
      debts { id balance }
      incomeStreams { id monthlyAmount }
      coachSessions { id intent }
      alerts { id severity }
    }
  }
`;
const TOKEN = "metrics-token-for-this-test-0123456789abcdef";

describe("traces, metrics and correlated logs", () => {
  const exporter = new InMemorySpanExporter();
  let stack: SeededKamina;
  let metricsServer: RunningMetricsServer;
  let asPerson: Record<string, string>;

  before(async () => {
    assert.equal(await startTracing({ serviceName: "kamina-graph-test", exporter }), true);
    const metrics = enableMetrics();
    stack = await startSeededKamina({ users: 30, seed: 7, poolSize: 2 });
    metricsServer = await startMetricsServer({ metrics, host: "127.0.0.1", port: 0, token: TOKEN, live: () => true, ready: () => stack.kamina.ready(), logger: createLogger("silent") });
    asPerson = bearer(await consentToken(stack.kamina, "USR_42891"));
  });

  after(async () => {
    await metricsServer?.close();
    await stopSeededKamina(stack ?? {});
    await stopTracing();
    disableMetrics();
  });

  test("a trace of one federated request shows the gateway, every subgraph and their SQL, joined by traceparent", async () => {
    exporter.reset();
    const { status, body } = await postGraphQL(stack.kamina.graphqlUrl, ONE_USER, { id: "USR_42891" }, asPerson);
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    const spans = await settledSpans(exporter);
    const root = spans.find((span) => span.kind === SpanKind.SERVER && span.parentSpanContext === undefined && span.name === "POST /graphql");
    assert.ok(root, `a root server span for the gateway's request; got ${spans.map((span) => span.name).join(", ")}`);
    assert.equal(root.attributes["graphql.operation.name"], "OnePerson");
    const trace = spans.filter((span) => span.spanContext().traceId === root.spanContext().traceId);
    const children = (parent: ReadableSpan) => trace.filter((span) => span.parentSpanContext?.spanId === parent.spanContext().spanId);
    const descendants = (parent: ReadableSpan): ReadableSpan[] => children(parent).flatMap((child) => [child, ...descendants(child)]);
    assert.ok(descendants(root).length === trace.length - 1, "every span of the trace hangs under the gateway's request");

    for (const subgraph of SUBGRAPH_NAMES) {
      const fetches = trace.filter((span) => span.kind === SpanKind.CLIENT && span.name === `subgraph ${subgraph}`);
      assert.ok(fetches.length >= 1, `the gateway fetched from ${subgraph}`);
      for (const fetch of fetches) {
        const [served, ...more] = children(fetch).filter((span) => span.kind === SpanKind.SERVER);
        assert.ok(served && more.length === 0, `${subgraph} served the fetch in a server span of its own`);
        // Continued from the traceparent header the gateway sent, not from this process's context.
        assert.equal(served.parentSpanContext?.isRemote, true, `${subgraph}'s span continues the traceparent it received`);
        const sql = descendants(served).filter((span) => span.name === "prisma:client:db_query");
        assert.ok(sql.length >= 1, `${subgraph}'s SQL statements are spans under its request`);
        assert.ok(sql.every((span) => span.kind === SpanKind.CLIENT && span.attributes["db.system.name"] === "postgresql"));
      }
    }
  });

  test("/metrics counts requests per operation, fetches per subgraph, and needs the token", async () => {
    const refused = await fetch(`${metricsServer.origin}/metrics`);
    assert.equal(refused.status, 401);
    const wrong = await fetch(`${metricsServer.origin}/metrics`, { headers: { authorization: "Bearer not-the-token" } });
    assert.equal(wrong.status, 401);

    const before = await scrape(metricsServer);
    await postGraphQL(stack.kamina.graphqlUrl, ONE_USER, { id: "USR_42891" }, asPerson);
    const bad = await postGraphQL(stack.kamina.graphqlUrl, "query Broken { user(id: 1) { nope } }", undefined, asPerson);
    assert.equal(bad.body.errors?.[0]?.extensions?.code, "GRAPHQL_VALIDATION_FAILED");
    const text = await scrape(metricsServer);

    assert.equal(sample(text, 'kamina_graphql_requests_total{operation="OnePerson",outcome="ok"}') - sample(before, 'kamina_graphql_requests_total{operation="OnePerson",outcome="ok"}'), 1);
    // Refused before its operation was resolved: counted under "anonymous" (the name in the document is not trusted yet).
    assert.ok(sample(text, 'kamina_graphql_errors_total{operation="anonymous",code="GRAPHQL_VALIDATION_FAILED"}') >= 1, text);
    assert.ok(sample(text, 'kamina_graphql_request_duration_seconds_count{operation="OnePerson"}') >= 1);
    for (const subgraph of SUBGRAPH_NAMES) assert.ok(sample(text, `kamina_subgraph_fetch_duration_seconds_count{subgraph="${subgraph}",outcome="ok"}`) >= 1, subgraph);
    assert.equal(sample(text, "kamina_subscriptions_active"), 0);
    assert.ok(Number.isFinite(sample(text, "kamina_outbox_lag_seconds")), "the realtime workers report the outbox's lag");
    for (const name of ["kamina_webhook_attempts_total", "kamina_webhook_dead_letters_total", "kamina_rate_limit_refusals_total", "kamina_process_cpu_seconds_total"]) assert.match(text, new RegExp(`^# TYPE ${name} counter`, "m"));

    const ready = await fetch(`${metricsServer.origin}/readyz`);
    assert.equal(ready.status, 200);
    const gatewayReady = await fetch(stack.kamina.graphqlUrl.replace(/\/graphql$/, "/readyz"));
    assert.equal(gatewayReady.status, 200);
  });

  test("an answer withheld because its consent receipt could not be written is counted as the 500 its caller got", async () => {
    const series = (outcome: string) => `kamina_graphql_requests_total{operation="OnePerson",outcome="${outcome}"}`;
    const internal = 'kamina_graphql_errors_total{operation="OnePerson",code="INTERNAL_SERVER_ERROR"}';
    const before = await scrape(metricsServer);
    await stack.sql.query("ALTER TABLE audit_event ADD CONSTRAINT no_receipts_now CHECK (action <> 'consent.receipt') NOT VALID");
    try {
      const withheld = await postGraphQL(stack.kamina.graphqlUrl, ONE_USER, { id: "USR_42891" }, asPerson);
      assert.equal(withheld.status, 500, JSON.stringify(withheld.body));
      assert.equal(withheld.body.data, undefined);
    } finally {
      await stack.sql.query("ALTER TABLE audit_event DROP CONSTRAINT no_receipts_now");
    }
    const text = await scrape(metricsServer);
    assert.equal(sample(text, series("ok")) - sample(before, series("ok")), 0, "not counted as answered");
    assert.equal(sample(text, series("error")) - sample(before, series("error")), 1);
    assert.equal(sample(text, internal) - sample(before, internal), 1);
  });

  test("operation names past the 200th are labelled other: clients choose names, the registry stays bounded", () => {
    const labels = new Set(Array.from({ length: 300 }, (_, index) => operationLabel(`Flood${index}`)));
    assert.ok(labels.size <= 201, `at most 200 names and "other": ${labels.size}`);
    assert.ok(labels.has("other"));
    assert.equal(operationLabel("Flood0") === "Flood0" || operationLabel("Flood0") === "other", true);
    assert.equal(operationLabel("not a name; DROP"), "other");
    assert.equal(operationLabel(undefined), "anonymous");
  });

  test("a log line written inside a traced request carries its trace id", async () => {
    const lines: string[] = [];
    const logger = createLogger("info", "test", new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) }));
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    await inServerSpan("test", { traceparent }, {}, async () => logger.info("inside"));
    logger.info({ requestId: "first" }, "outside");
    logger.info("outside again");
    const [inside, outside, again] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(again?.requestId, undefined, "one line's fields never reach the next");
    assert.equal(inside?.trace_id, "0af7651916cd43dd8448eb211c80319c");
    assert.match(String(inside?.span_id), /^[0-9a-f]{16}$/);
    assert.equal(outside?.trace_id, undefined);
  });
});

test("tracing is off unless the OTEL_* variables ask for it", () => {
  assert.equal(tracingSettings({}), undefined);
  assert.equal(tracingSettings({ OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }), undefined);
  assert.equal(tracingSettings({ OTEL_SDK_DISABLED: "true", OTEL_TRACES_EXPORTER: "otlp" }), undefined);
  assert.deepEqual(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }), { exporter: "otlp", sampler: { kind: "parentbased_always_on" } });
  assert.deepEqual(tracingSettings({ OTEL_TRACES_EXPORTER: "console", OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.1" }), {
    exporter: "console",
    sampler: { kind: "parentbased_traceidratio", ratio: 0.1 },
  });
  assert.throws(() => tracingSettings({ OTEL_TRACES_EXPORTER: "jaeger" }), TracingSettingsError);
  assert.throws(() => tracingSettings({ OTEL_TRACES_EXPORTER: "otlp", OTEL_TRACES_SAMPLER: "sometimes" }), TracingSettingsError);
  assert.throws(() => tracingSettings({ OTEL_TRACES_EXPORTER: "otlp", OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "2" }), TracingSettingsError);
});

/** The spans once the request's last ones (ended after the answer was written) are in. */
async function settledSpans(exporter: InMemorySpanExporter): Promise<ReadableSpan[]> {
  let count = -1;
  for (let round = 0; round < 20; round++) {
    const spans = exporter.getFinishedSpans();
    if (spans.length === count && count > 0) return [...spans];
    count = spans.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return [...exporter.getFinishedSpans()];
}

async function scrape(server: RunningMetricsServer): Promise<string> {
  const response = await fetch(`${server.origin}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return response.text();
}

/** A sample's value (0 when the series has none yet). */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}
