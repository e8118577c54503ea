// The server child of `npm run bench:realtime`: kamina-graph started exactly as runtime/start.ts
// starts it (everything in one process), plus a loopback probe the bench asks, between phases,
// what only the server knows: how many subscribers its subscription hub holds, its memory, how
// late its event loop ran, and when each alert event reached the gateway's event feed (one more
// follower beside the subscription streams, so latency splits into "before the gateway" and
// "inside it"). The probe listens on a Unix socket (BENCH_PROBE_SOCKET), so it never touches
// the gateway's routes and cannot collide with the ports the child was given.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:http";
import { performance } from "node:perf_hooks";
import { startKamina } from "../../runtime/app.ts";
import { ConfigError, loadConfig } from "../../platform/config/config.ts";
import { createLogger } from "../../platform/logger.ts";
import { AllocationSampler, collectGarbage, CpuSampler } from "./inspector-tools.ts";
import { LoopWatch, type LoopReport } from "./loop-watch.ts";

/** What GET /probe answers; the loop figures (LoopReport) cover the time since the last `?reset=1`. */
export interface ServerProbe extends LoopReport {
  streams: number;
  subscribers: number;
  rssMiB: number;
  heapUsedMiB: number;
  /** Memory of C++ objects tied to JS ones (Buffers among them), and of ArrayBuffers alone. */
  externalMiB: number;
  arrayBuffersMiB: number;
  /** The subscription hub's fetches to each subgraph since the last `?reset=1`. */
  subgraphFetches: Record<string, FetchStats>;
  /** Steps of the hub's per-event work that took over SLOW_STEP_MS, when they ended (wall-clock ms). */
  slowSteps: SlowStep[];
}

export interface SlowStep {
  at: number;
  step: string;
  ms: number;
}

const SLOW_STEP_MS = 30;
const MAX_SLOW_STEPS = 2_000;

export interface FetchStats {
  calls: number;
  /** Answers carrying errors, or fetches that threw. */
  failed: number;
  /** Error codes seen, with counts. */
  codes: Record<string, number>;
  /** `_entities` answers whose entity came back null: the hub drops such an event for that stream. */
  nullEntities: number;
  maxMs: number;
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const probeSocket = process.env.BENCH_PROBE_SOCKET;
  if (!probeSocket) throw new ConfigError("BENCH_PROBE_SOCKET must name the probe's Unix socket");
  const started = Date.now();
  const kamina = await startKamina({ config, logger });
  // `--env REALTIME_WORKERS=false --env BENCH_SPLIT_WORKERS=true`: the relay and the dispatcher
  // run in a process of their own (runtime/start.ts --only realtime), as a deployment would split them.
  const workers = process.env.BENCH_SPLIT_WORKERS === "true" ? spawnWorkers() : undefined;
  const hub = kamina.gateway?.subscriptions.hub;
  if (!hub) throw new Error("the gateway did not start");

  const loop = new LoopWatch();
  // `/allocations/start`, then `/allocations/stop?file=F`: what the server allocated in between;
  // `/cpu/start` and `/cpu/stop?file=F`: where its CPU went.
  const recordings = { allocations: new AllocationSampler(), cpu: new CpuSampler() };
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
  // Counts what the hub's per-event fetches to the subgraphs answer: an event whose primary
  // fetch fails or comes back null is not delivered to that stream, so this is where a missing
  // delivery can be traced.
  let subgraphFetches: Record<string, FetchStats> = {};
  const statsOf = (name: string) => (subgraphFetches[name] ??= { calls: 0, failed: 0, codes: {}, nullEntities: 0, maxMs: 0 });
  for (const [name, source] of Object.entries(hub.options.services)) {
    const original = source.process.bind(source);
    source.process = async (options) => {
      const started = performance.now();
      const count = (code: string) => {
        const stats = statsOf(name);
        stats.failed++;
        stats.codes[code] = (stats.codes[code] ?? 0) + 1;
      };
      statsOf(name).calls++;
      try {
        const response = await original(options);
        for (const error of response.errors ?? []) count(String(error.extensions?.code ?? "NO_CODE"));
        const entities = (response.data as { _entities?: unknown[] } | null | undefined)?._entities;
        if (entities?.some((entity) => entity === null)) statsOf(name).nullEntities++;
        return response;
      } catch (error) {
        count(String((error as { extensions?: { code?: unknown } }).extensions?.code ?? (error instanceof Error ? error.name : "THROWN")));
        throw error;
      } finally {
        const stats = statsOf(name);
        const ms = performance.now() - started;
        stats.maxMs = Math.max(stats.maxMs, ms);
        noteStep(`${name} fetch`, ms);
      }
    };
  }
  // The hub's other per-event steps that wait on the database: the token check and the receipts.
  let slowSteps: SlowStep[] = [];
  function noteStep(step: string, ms: number): void {
    if (ms >= SLOW_STEP_MS && slowSteps.length < MAX_SLOW_STEPS) slowSteps.push({ at: performance.timeOrigin + performance.now(), step, ms });
  }
  const timed = <A extends unknown[], R>(step: string, run: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
    const started = performance.now();
    try {
      return await run(...args);
    } finally {
      noteStep(step, performance.now() - started);
    }
  };
  const { verifier } = hub.options;
  verifier.verifyAuthorization = timed("token check", verifier.verifyAuthorization.bind(verifier));
  hub.receipts.write = timed("receipt write", hub.receipts.write.bind(hub.receipts));
  const probe = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://probe");
    if (url.pathname === "/feed-times") {
      const body = JSON.stringify(Object.fromEntries(feedTimes));
      feedTimes = new Map();
      response.writeHead(200, { "content-type": "application/json" }).end(body);
      return;
    }
    const recording = /^\/(allocations|cpu)\/(start|stop)$/.exec(url.pathname);
    if (recording) {
      const recorder = recordings[recording[1] as keyof typeof recordings];
      const file = url.searchParams.get("file");
      const done = recording[2] === "start" ? recorder.start().then(() => true) : file ? recorder.stop(file) : Promise.resolve(false);
      done.then(
        (ok) => response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok })),
        (error: unknown) => response.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ ok: false, error: String(error) })),
      );
      return;
    }
    if (url.pathname !== "/probe") {
      response.writeHead(404).end();
      return;
    }
    // `?gc=1`: a full collection first, so the heap figure is what is live, not garbage.
    if (url.searchParams.get("gc") === "1") collectGarbage();
    const reset = url.searchParams.get("reset") === "1";
    const memory = process.memoryUsage();
    const body: ServerProbe = {
      ...hub.size,
      rssMiB: memory.rss / 2 ** 20,
      heapUsedMiB: memory.heapUsed / 2 ** 20,
      externalMiB: memory.external / 2 ** 20,
      arrayBuffersMiB: memory.arrayBuffers / 2 ** 20,
      ...loop.report(reset),
      subgraphFetches,
      slowSteps,
    };
    if (reset) {
      subgraphFetches = {};
      slowSteps = [];
    }
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => probe.listen(probeSocket, resolve));

  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    probe.close();
    workers?.kill("SIGTERM");
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

function spawnWorkers(): ChildProcess {
  const { BENCH_PROBE_SOCKET: _probe, BENCH_SPLIT_WORKERS: _split, ...env } = process.env;
  const child = spawn(process.execPath, ["--import", "tsx", "runtime/start.ts", "--only", "realtime"], { env, stdio: ["ignore", "ignore", "inherit"] });
  console.error(`[realtime-server] relay and dispatcher in process ${child.pid}`);
  return child;
}

main().catch((error: unknown) => {
  console.error(`kamina-graph failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
