// The server child of `npm run bench:realtime`: kamina-graph started exactly as runtime/start.ts
// starts it (everything in one process), plus a loopback probe the bench asks, between phases,
// what only the server knows: how many subscribers its subscription hub holds, its memory, how
// late its event loop ran, and when each alert event reached the gateway's event feed (one more
// follower beside the subscription streams, so latency splits into "before the gateway" and
// "inside it"). The probe is on its own port (BENCH_PROBE_PORT) so it never touches the
// gateway's routes.
import { createServer } from "node:http";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { startKamina } from "../../runtime/app.ts";
import { ConfigError, loadConfig } from "../../runtime/config.ts";
import { createLogger } from "../../runtime/logger.ts";

/** What GET /probe answers. */
export interface ServerProbe {
  streams: number;
  subscribers: number;
  rssMiB: number;
  heapUsedMiB: number;
  /** Event-loop delay since the last `?reset=1`, in ms (perf_hooks histogram, 10 ms resolution). */
  loopDelayMs: { mean: number; p50: number; p99: number; max: number };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const probePort = Number(process.env.BENCH_PROBE_PORT);
  if (!Number.isInteger(probePort) || probePort <= 0) throw new ConfigError("BENCH_PROBE_PORT must name the probe's port");
  const started = Date.now();
  const kamina = await startKamina({ config, logger });
  const hub = kamina.gateway?.subscriptions.hub;
  if (!hub) throw new Error("the gateway did not start");

  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  // Wall-clock ms at which each event (by its aggregate, the alert id) reached the feed's followers.
  let feedTimes = new Map<string, number>();
  const { feed } = hub.options;
  feed.follow({
    after: feed.position,
    maxQueued: 100_000,
    handle: async (event) => {
      if (feedTimes.size < 1_000_000) feedTimes.set(event.aggregateId, performance.timeOrigin + performance.now());
    },
    onFailure: (error) => logger.error({ err: error }, "the bench probe's feed follower failed"),
  });
  const probe = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://probe");
    if (url.pathname === "/feed-times") {
      const body = JSON.stringify(Object.fromEntries(feedTimes));
      feedTimes = new Map();
      response.writeHead(200, { "content-type": "application/json" }).end(body);
      return;
    }
    if (url.pathname !== "/probe") {
      response.writeHead(404).end();
      return;
    }
    const memory = process.memoryUsage();
    const ms = (nanoseconds: number) => (Number.isFinite(nanoseconds) ? nanoseconds / 1e6 : 0);
    const body: ServerProbe = {
      ...hub.size,
      rssMiB: memory.rss / 2 ** 20,
      heapUsedMiB: memory.heapUsed / 2 ** 20,
      loopDelayMs: { mean: ms(delay.mean), p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
    };
    if (url.searchParams.get("reset") === "1") delay.reset();
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => probe.listen(probePort, "127.0.0.1", resolve));

  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    probe.close();
    setTimeout(() => process.exit(1), 15_000).unref();
    kamina.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
  // server-child.ts waits for this line, as it does for runtime/start.ts's.
  console.log(`kamina-graph (bench:realtime child) is ready in ${Date.now() - started} ms: GraphQL at ${kamina.gateway!.url}`);
}

main().catch((error: unknown) => {
  console.error(`kamina-graph failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
