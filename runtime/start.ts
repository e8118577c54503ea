import { startKamina, type Component } from "./app.ts";
import { ConfigError, loadConfig, SUBGRAPH_NAMES } from "../platform/config/config.ts";
import { createLogger } from "../platform/logger.ts";
import { ensureDashboardBuilt } from "./dashboard-build.ts";
import { pino, type DestinationStream } from "pino";
import pretty from "pino-pretty";
import { startTracing, stopTracing } from "../platform/observability/tracing.ts";
import { TracingSettingsError } from "../platform/observability/tracing-settings.ts";
import { enableMetrics } from "../platform/observability/metrics.ts";
import { startMetricsServer, type RunningMetricsServer } from "../platform/observability/metrics-server.ts";

// `npm start`: everything in one process. `--only gateway`, `--only <subgraph>` or
// `--only realtime` (the realtime workers: outbox relay, webhook dispatcher, prevention's outbox consumer, export worker): one piece.
const COMPONENTS: readonly string[] = ["gateway", "realtime", ...SUBGRAPH_NAMES];

function parseOnly(argv: readonly string[]): Component | undefined {
  const index = argv.indexOf("--only");
  if (index === -1) return undefined;
  const value = argv[index + 1];
  if (!value || !COMPONENTS.includes(value)) {
    console.error(`--only takes one of: ${COMPONENTS.join(", ")}`);
    process.exit(2);
  }
  return value as Component;
}

/**
 * Readable lines when a person watches the terminal; one JSON object a line otherwise (a file, a
 * pipe, a log collector). Written synchronously: pino's default buffers, and the ready banner
 * (console.log) overtook the lines logged before it.
 */
function logDestination(): DestinationStream {
  if (process.stdout.isTTY) return pretty({ sync: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname,name", singleLine: true });
  return pino.destination({ dest: 1, sync: true });
}

async function main(): Promise<void> {
  const only = parseOnly(process.argv.slice(2));
  const config = loadConfig();
  const logger = createLogger(config.logLevel, undefined, logDestination());
  const defaults = config.secrets.publicDefaults;
  if (defaults.length > 0) {
    // Local use only (loadConfig refuses them anywhere else), but never silently.
    logger.warn(
      { variables: defaults },
      `PUBLIC DEFAULT SECRETS IN FORCE: ${defaults.join(", ")}. Anyone who has read this repository can forge the gateway's token checks, ` +
        "authorise consents as the person and act as the sandbox client. Acceptable on this machine only: set them before exposing it (docs/operations.md, Secrets)",
    );
  }
  const started = Date.now();
  // Before any server exists, so that every request is traced (OTEL_*; off by default).
  if (await startTracing({ serviceName: `kamina-graph-${only ?? "all"}` })) logger.info("OpenTelemetry tracing on");
  const { metricsPort, metricsHost, metricsToken } = config.observability;
  const metrics = metricsPort === undefined ? undefined : enableMetrics();
  if (only === undefined || only === "gateway") {
    const dashboard = await ensureDashboardBuilt();
    if (dashboard.built) logger.info("built the dashboard (web/dashboard/dist)");
    if (dashboard.problem) logger.warn(`/dashboard: ${dashboard.problem}`);
  }
  const kamina = await startKamina({ config, logger, ...(only ? { only } : {}) });
  let metricsServer: RunningMetricsServer | undefined;
  if (metrics && metricsPort !== undefined) {
    metricsServer = await startMetricsServer({ metrics, host: metricsHost ?? config.host, port: metricsPort, token: metricsToken, live: () => true, ready: () => kamina.ready(), logger });
    logger.info({ url: `${metricsServer.origin}/metrics` }, "metrics listening");
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    setTimeout(() => {
      logger.error("shutdown took longer than 15 s; exiting anyway");
      process.exit(1);
    }, 15_000).unref();
    kamina
      .stop()
      .then(() => metricsServer?.close())
      .then(() => stopTracing())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, "shutdown failed");
          process.exit(1);
        },
      );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));

  const ms = Date.now() - started;
  for (const subgraph of Object.values(kamina.subgraphs)) logger.info({ url: subgraph.url }, `subgraph ${subgraph.name} ready`);
  if (only === "realtime") console.log(`\nkamina-graph realtime workers are running (ready in ${ms} ms)`);
  if (kamina.gateway) {
    const shown = kamina.gateway.url.replace("//127.0.0.1:", "//localhost:");
    console.log(`\nkamina-graph is ready in ${ms} ms: GraphQL at ${shown}`);
    if (config.secrets.localUse) console.log(`Dashboard: open ${shown.replace(/\/graphql$/, "/dashboard")} (signs in as the sandbox client)`);
    if (!config.databaseUrl) {
      console.log(`Sandbox client: of_lab_demo / ${config.sandboxClientSecret} (consents authorised at once; local use only; set SANDBOX_CLIENT_SECRET)`);
      console.log(`Live-flow client: of_lab_live / ${config.liveClientSecret} (consents wait for the person: docs/auth.md; set LIVE_CLIENT_SECRET)`);
    }
  }
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof TracingSettingsError) console.error(error.message);
  else console.error(`kamina-graph failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
