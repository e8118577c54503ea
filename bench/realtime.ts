// `npm run bench:realtime -- [--subscribers N] [--per-user K] [--rate R] [--duration S] [--webhook-events W] [--endpoints E] [--quick] ...`
//
// Real-time alerts under load. Seeds a fresh PostgreSQL database, starts kamina-graph in a child
// process (the gateway and the five subgraphs, as runtime/start.ts runs them, plus a probe that
// reports the subscription hub's size and event-loop delay), then:
//   1. opens N graphql-ws sockets, one subscription each, every one with its own consent token
//      (K devices per person), in a worker thread of their own, and reports how many the gateway
//      holds, how long that took and what they cost in server memory;
//   2. at that load, raises R alerts per second for S seconds, each for a person with
//      subscribers, written as the prevention engine writes them (alert row + outbox row, one
//      transaction), and measures event-to-delivery latency (arrival at the subscriber minus the
//      publisher's clock right before the commit, on one clock), once with a flat selection and once
//      with a cross-subgraph one (`user { wellness { score band } }`), on the same sockets;
//   3. closes the sockets, registers E webhook endpoints through POST /v1/webhooks (the sandbox
//      client, HTTP Basic) on a loopback receiver, raises W alerts in one burst and measures
//      deliveries per second and end-to-end latency.
// Prints one table, then cleans up (sockets, child, database). Figures, not assertions.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import pg from "pg";
import { seedDatabase } from "../prisma/seed/index.ts";
import { createTestDatabase, type TestDatabase } from "../testkit/postgres.ts";
import { AlertPublisher, type Published } from "./support/alert-publisher.ts";
import { DEMO_CLIENT_ID, grantFullConsents } from "./support/auth.ts";
import { consentedPeople, mintConsentTokens } from "./support/consent-tokens.ts";
import { IoWaitSampler } from "./support/load.ts";
import { CpuWindow, fixed, loadAverage, openFileLimit, spread } from "./support/realtime-figures.ts";
import { collectGarbage } from "./support/inspector-tools.ts";
import { LoopWatch } from "./support/loop-watch.ts";
import type { ServerProbe } from "./support/realtime-server.ts";
import type { Arrival } from "./support/realtime-subscribers.ts";
import { SubscriberThreads } from "./support/subscriber-thread.ts";
import { Cleanups, runBenchmarkCli } from "./support/lifecycle.ts";
import { machineFacts } from "./support/report.ts";
import { startServerChild, type ServerChild } from "../testkit/server-child.ts";
import { parseOptions, USAGE, type Options, type Selection } from "./support/realtime-options.ts";
import { askProbe, databaseCounters, relayDelays, waitForSubscribers, waitUntil } from "./support/realtime-probe.ts";
import { DRAIN_SECONDS, logWhatSlowedTheWindow, printReport, type ConnectFigures, type EventFigures, type WebhookFigures } from "./support/realtime-report.ts";
import { measureWebhooks } from "./support/realtime-webhooks.ts";

const log = (message: string) => console.log(`[bench] ${message}`);
const SANDBOX_CLIENT_SECRET = "bench-sandbox-secret";

const FLAT_SELECTION = `subscription FlatAlert { alertCreated { id type riskBand severity contributingFactors suggestedAction createdAt } }`;
const FEDERATED_SELECTION = `subscription AlertWithWellness { alertCreated { id type riskBand severity contributingFactors suggestedAction createdAt user { id wellness { score band } } } }`;

const cleanups = new Cleanups(30_000);
/** This thread's loop: the publisher stamps each alert's clock on it, so its stalls show in the latencies. */
const ownLoop = new LoopWatch();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


async function run(options: Options): Promise<void> {
  const people = Math.ceil(options.subscribers / options.perUser);
  const fileLimit = openFileLimit();
  log(`machine: ${machineFacts()}; open-file limit ${fileLimit ?? "unlimited"}; load average (1/5/15 min) ${loadAverage()}`);
  log(
    `${options.subscribers} subscribers over ${people} people (${options.perUser} per person), ${options.rate} alerts/s for ${options.duration} s per selection after a ${options.warmUp} s warm-up, ` +
      `${options.webhookEvents} webhook alerts x ${options.endpoints} endpoints (WEBHOOK_RATE_PER_SECOND=${options.webhookRate})` +
      `${Object.keys(options.serverEnv).length ? `; server child environment ${Object.entries(options.serverEnv).map(([key, value]) => `${key}=${value}`).join(" ")}` : ""}`,
  );
  if (fileLimit !== undefined && options.subscribers + 200 > fileLimit) {
    log(`warning: ${options.subscribers} sockets need about as many file descriptors in this process and in the server child; the limit is ${fileLimit} (raise it with ulimit -n)`);
  }

  let started = Date.now();
  const database: TestDatabase = await createTestDatabase();
  cleanups.add("the database", () => database.drop());
  await seedDatabase({ kind: "postgres", url: database.url, poolSize: 4 }, { users: people, seed: options.seed, sandboxClientSecret: SANDBOX_CLIENT_SECRET });
  const consents = await grantFullConsents(database.url);
  const sql = new pg.Client({ connectionString: database.url });
  await sql.connect();
  cleanups.add("the SQL connection", () => sql.end());
  await sql.query("ANALYZE");
  log(`created, seeded (${people} people) and analysed ${new URL(database.url).pathname.slice(1)} in ${((Date.now() - started) / 1000).toFixed(1)} s; ${consents} full consents to ${DEMO_CLIENT_ID}`);

  let profileDir: string | undefined;
  if (options.heapProfDir) mkdirSync(resolve(options.heapProfDir), { recursive: true });
  if (options.cpuProfDir) mkdirSync((profileDir = resolve(options.cpuProfDir)), { recursive: true });
  else if (options.cpuProf) {
    profileDir = mkdtempSync(join(tmpdir(), "kamina-bench-realtime-prof-"));
    cleanups.add("the profile folder", async () => rmSync(profileDir!, { recursive: true, force: true }));
  }
  const profiles: { selection: string; file: string }[] = [];
  const probeDir = mkdtempSync(join(tmpdir(), "kamina-bench-realtime-"));
  cleanups.add("the probe socket's folder", async () => rmSync(probeDir, { recursive: true, force: true }));
  const probeSocket = join(probeDir, "probe.sock");
  started = Date.now();
  const child: ServerChild = await startServerChild({
    databaseUrl: database.url,
    sandboxClientSecret: SANDBOX_CLIENT_SECRET,
    entry: "bench/support/realtime-server.ts",
    nodeFlags: options.serverNodeFlags,
    env: { WEBHOOK_RATE_PER_SECOND: String(options.webhookRate), ...options.serverEnv, BENCH_PROBE_SOCKET: probeSocket },
  });
  cleanups.add("the server child", () => child.stop());
  log(`server child ${child.pid} ready in ${Date.now() - started} ms (DB_POOL_SIZE ${child.config.dbPoolSize}, SUBSCRIPTION_RECHECK_SECONDS ${child.config.realtime.subscriptionRecheckMs / 1000}, SUBSCRIPTION_QUEUE ${child.config.realtime.subscriberQueue})`);
  const probe = (reset = false) => askProbe<ServerProbe>(probeSocket, `/probe${reset ? "?reset=1" : ""}`);

  // Tokens: subscriber i is a device of person i mod P, each with its own token.
  const everyone = await consentedPeople(database.url);
  if (everyone.length < people) throw new Error(`only ${everyone.length} consented people for ${people} wanted`);
  const subscribedPeople = everyone.slice(0, people);
  const devices = Array.from({ length: options.subscribers }, (_, index) => subscribedPeople[index % people]!);
  started = Date.now();
  const tokens = await mintConsentTokens(database.url, child.config, devices);
  log(`minted ${tokens.length} consent tokens in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const countryOf = new Map(everyone.map((person) => [person.id, person.country]));

  const wsUrl = child.gatewayUrl.replace(/^http/, "ws");
  const pool = new SubscriberThreads(
    wsUrl,
    devices.map((person, index) => ({ userId: person.id, authorization: `Bearer ${tokens[index]!}` })),
    options.subscriberThreads,
  );
  cleanups.add("the subscribers", () => pool.dispose());

  // Phase 1: hold the subscribers.
  await sleep(2_000);
  const idle = await probe(true);
  const idleLoad = loadAverage();
  log(`server idle: RSS ${fixed(idle.rssMiB)} MiB, heap ${fixed(idle.heapUsedMiB)} MiB; load average ${idleLoad}`);
  const connectCpu = new CpuWindow(child.pid);
  const connected = await pool.connect(options.connectConcurrency, 30_000, (done) => log(`  ${done} sockets settled`));
  log(`${connected.acknowledged} of ${connected.attempted} sockets acknowledged in ${connected.seconds.toFixed(1)} s${connected.failures.size ? `; failures: ${[...connected.failures].map(([why, count]) => `${count} x ${why}`).join(", ")}` : ""}`);
  const subscribeStarted = performance.now();
  const queries: Record<Selection, string> = { flat: FLAT_SELECTION, federated: FEDERATED_SELECTION };
  await pool.subscribeAll(queries[options.selections[0]!]);
  const held = await waitForSubscribers(probe, () => pool.openCount(), 180_000);
  const subscribeSeconds = (performance.now() - subscribeStarted) / 1000;
  const cpuConnect = connectCpu.read();
  log(`the gateway holds ${held.subscribers} subscribers in ${held.streams} streams (${subscribeSeconds.toFixed(1)} s after the subscribe messages); server CPU over connect+subscribe ${fixed(cpuConnect.server, 2)} cores`);
  await sleep(3_000);
  // What holding them costs with no events: token re-checks (SUBSCRIPTION_RECHECK_SECONDS) and timers.
  // The window covers one whole re-check interval, so every connection's re-check falls in it.
  const idleWindow = new CpuWindow(child.pid);
  await sleep(options.quick ? 3_000 : Math.min(child.config.realtime.subscriptionRecheckMs + 5_000, 65_000));
  const holdingCpu = idleWindow.read();
  const loaded = await probe(true);
  const connect: ConnectFigures = {
    attempted: connected.attempted,
    acknowledged: connected.acknowledged,
    held: loaded.subscribers,
    streams: loaded.streams,
    connectSeconds: connected.seconds,
    subscribeSeconds,
    ackMs: spread(connected.ackMs),
    failures: connected.failures,
    rssBeforeMiB: idle.rssMiB,
    rssAfterMiB: loaded.rssMiB,
    heapBeforeMiB: idle.heapUsedMiB,
    heapAfterMiB: loaded.heapUsedMiB,
    benchRssMiB: process.memoryUsage().rss / 2 ** 20,
    holdingCpu,
    loadAverage: loadAverage(),
  };
  log(`server RSS ${fixed(idle.rssMiB)} -> ${fixed(loaded.rssMiB)} MiB (${fixed(((loaded.rssMiB - idle.rssMiB) * 1024) / Math.max(1, loaded.subscribers), 1)} KiB per subscriber); server CPU holding them without events ${fixed(holdingCpu.server, 2)} cores; load average ${connect.loadAverage}`);

  // Phase 2: alerts at a fixed rate, to people who have subscribers, once per selection.
  const publisher = new AlertPublisher(database.url, options.publisherConnections);
  cleanups.add("the publisher", () => publisher.close());
  const arrivals = new Map<string, Arrival[]>();
  let unknownArrivals = 0;
  pool.onArrival = (arrival) => {
    if (!arrival.alertId) {
      unknownArrivals++;
      return;
    }
    let list = arrivals.get(arrival.alertId);
    if (!list) arrivals.set(arrival.alertId, (list = []));
    list.push(arrival);
  };
  // Before each measured phase the server must be back to what holding the sockets costs: a
  // backlog left by the phase before would otherwise be charged to this one.
  const settle = async (phase: string) => {
    const started = performance.now();
    const quiet = (holdingCpu.server ?? 0) + 0.15;
    for (;;) {
      const window = new CpuWindow(child.pid);
      await sleep(2_000);
      const busy = window.read().server ?? 0;
      if (busy <= quiet) break;
      if (performance.now() - started > 300_000) {
        log(`${phase}: the server was still using ${fixed(busy, 2)} cores after 300 s; measuring anyway`);
        break;
      }
    }
    const waited = (performance.now() - started) / 1000;
    if (waited > 3) log(`${phase}: waited ${fixed(waited, 0)} s for the server to settle (below ${fixed(quiet, 2)} cores)`);
  };
  const publishedOf = new Map<EventFigures, { alertId: string; expected: number }[]>();
  let nextPerson = 0;
  const measureSelection = async (selection: string, query: string, switchTo: boolean, last: boolean): Promise<EventFigures> => {
    if (switchTo) {
      await pool.subscribeAll(query);
      await sleep(500);
      await waitForSubscribers(probe, () => pool.openCount(), 180_000);
    }
    const byUser = pool.openByUser();
    const targets = subscribedPeople.filter((person) => (byUser.get(person.id) ?? 0) > 0);
    if (targets.length === 0) throw new Error("no person has an open subscriber");
    const nextTarget = () => {
      const person = targets[nextPerson++ % targets.length]!;
      return { id: person.id, country: countryOf.get(person.id)! };
    };
    // The first second of alerts after a lull runs through cold code and caches (V8 compiles the
    // path, Prisma plans its queries, pools open connections): a warm-up at the same rate takes
    // that out of the figures, as a service that has been taking traffic would be.
    if (options.warmUp > 0) {
      log(`${selection}: warming up with ${options.rate} alerts/s for ${options.warmUp} s (not counted)...`);
      await publisher.runAtRate(options.rate, options.warmUp, nextTarget, () => undefined);
    }
    await settle(selection);
    const closesBefore = sum(pool.closesAfterAck);
    const published: (Published & { expected: number })[] = [];
    unknownArrivals = 0;
    const countersBefore = await databaseCounters(sql);
    // The load generator's own garbage is not the server's: collected here, its major collection
    // (seconds of concurrent marking on a machine of two cores) does not fall in the window.
    collectGarbage();
    await pool.collectGarbage();
    await probe(true);
    ownLoop.report(true);
    await pool.loop(true);
    if (options.heapProfDir) {
      await askProbe(probeSocket, "/allocations/start");
      await pool.startAllocations();
    }
    if (profileDir) await askProbe(probeSocket, "/cpu/start");
    const cpu = new CpuWindow(child.pid);
    const ioWait = new IoWaitSampler();
    log(`${selection}: ${options.rate} alerts/s for ${options.duration} s over ${targets.length} people with subscribers...`);
    const report = await publisher.runAtRate(
      options.rate,
      options.duration,
      nextTarget,
      (entry) => published.push({ ...entry, expected: byUser.get(entry.userId) ?? 0 }),
    );
    if (report.failures.length) log(`  ${report.failures.length} alerts failed to publish, e.g. ${report.failures[0]}`);
    const expected = published.reduce((total, entry) => total + entry.expected, 0);
    const deliveredOf = () => published.reduce((total, entry) => total + new Set((arrivals.get(entry.alertId) ?? []).map((arrival) => arrival.subscriber)).size, 0);
    const drainDeadline = performance.now() + DRAIN_SECONDS * 1000;
    while (deliveredOf() < expected && performance.now() < drainDeadline) await sleep(100);
    const cpuRead = cpu.read();
    const ioWaitSamples = ioWait.stop();
    const after = await probe(true);
    const countersAfter = await databaseCounters(sql);
    const relayMsOf = await relayDelays(sql, published.map((entry) => entry.alertId));
    const feedTimes = await askProbe<Record<string, number>>(probeSocket, "/feed-times");
    if (profileDir) {
      const file = join(profileDir, `${selection}.cpuprofile`);
      await askProbe(probeSocket, `/cpu/stop?file=${encodeURIComponent(file)}`);
      profiles.push({ selection, file });
    }
    if (options.heapProfDir) {
      const file = join(resolve(options.heapProfDir), `${selection}.heapprofile`);
      await askProbe(probeSocket, `/allocations/stop?file=${encodeURIComponent(file)}`);
      const clientFile = join(resolve(options.heapProfDir), `${selection}.subscribers.heapprofile`);
      await pool.stopAllocations(clientFile);
      log(`  what the server allocated in the window: ${file}; what the subscribers' threads allocated: ${clientFile.replace(/\.heapprofile$/, ".N.heapprofile")}`);
    }
    const feedMs: number[] = [];
    const hubMs: number[] = [];
    const latencies: number[] = [];
    let duplicates = 0;
    let withErrors = 0;
    let sample: unknown;
    for (const entry of published) {
      const atFeed = feedTimes[entry.alertId];
      if (atFeed !== undefined) feedMs.push(atFeed - (performance.timeOrigin + entry.sentAt));
      const seen = new Set<number>();
      for (const arrival of arrivals.get(entry.alertId) ?? []) {
        if (seen.has(arrival.subscriber)) {
          duplicates++;
          continue;
        }
        seen.add(arrival.subscriber);
        latencies.push(arrival.at - entry.sentAt);
        if (atFeed !== undefined) hubMs.push(performance.timeOrigin + arrival.at - atFeed);
        if (arrival.hasErrors) withErrors++;
        sample ??= arrival.data;
      }
    }
    const figures: EventFigures = {
      selection,
      published: report.published,
      achievedRate: report.achievedRate,
      expected,
      delivered: latencies.length,
      duplicates,
      unknown: unknownArrivals,
      withErrors,
      latency: spread(latencies),
      commitMs: spread(published.map((entry) => entry.committedAt - entry.sentAt)),
      relayMs: spread([...relayMsOf.values()]),
      feedMs: spread(feedMs),
      hubMs: spread(hubMs),
      schedulerBehindMs: spread(report.behindMs),
      transactionsPerAlert: (countersAfter.commits - countersBefore.commits) / Math.max(1, report.published),
      rowsFetchedPerAlert: (countersAfter.fetched - countersBefore.fetched) / Math.max(1, report.published),
      cpu: cpuRead,
      loopDelayMs: after.loopDelayMs,
      rssMiB: after.rssMiB,
      closesDuring: sum(pool.closesAfterAck) - closesBefore,
      sample: JSON.stringify(sample ?? null).slice(0, 300),
      fetches: "",
      eventuallyDelivered: undefined,
      loadAverage: loadAverage(),
    };
    log(
      `  ${selection}: ${figures.delivered} of ${expected} deliveries (${duplicates} duplicates, ${withErrors} with errors), latency p50 ${fixed(figures.latency.p50, 1)} ms, ` +
        `p99 ${fixed(figures.latency.p99, 1)} ms, max ${fixed(figures.latency.max, 1)} ms (to the gateway's feed p50 ${fixed(figures.feedMs.p50, 1)} / p99 ${fixed(figures.feedMs.p99, 1)} ms, feed to subscriber p50 ${fixed(figures.hubMs.p50, 1)} / p99 ${fixed(figures.hubMs.p99, 1)} ms); server CPU ${fixed(cpuRead.server, 2)} cores, loop delay p99 ${fixed(after.loopDelayMs.p99, 1)} / max ${fixed(after.loopDelayMs.max, 1)} ms, GC pauses ${after.gcPauses.count} (${after.gcPauses.major} major) totalling ${fixed(after.gcPauses.totalMs)} ms, longest ${fixed(after.gcPauses.maxMs, 1)} ms; load average ${figures.loadAverage}`,
    );
    log(`  sample: ${figures.sample}`);
    // What is live rather than garbage: a full collection in the server, only after the last
    // window, so no window starts with a heap the server did not collect itself.
    const collected = last ? await askProbe<ServerProbe>(probeSocket, "/probe?gc=1") : undefined;
    log(
      `  server memory after the window: RSS ${fixed(after.rssMiB)} MiB, heap ${fixed(after.heapUsedMiB)} MiB, external ${fixed(after.externalMiB)} MiB (ArrayBuffers ${fixed(after.arrayBuffersMiB)} MiB)` +
        (collected ? `; after a full collection: heap ${fixed(collected.heapUsedMiB)} MiB, RSS ${fixed(collected.rssMiB)} MiB` : ""),
    );
    const publisherLoop = ownLoop.report(true);
    const subscribersLoop = await pool.loop(true);
    logWhatSlowedTheWindow({ published, arrivals, feedTimes, relayMsOf, server: after, subscribersLoop, publisherLoop, ioWait: ioWaitSamples });
    const fetches = Object.entries(after.subgraphFetches)
      .map(([name, stats]) => `${name} ${stats.calls} calls, ${stats.failed} failed${Object.keys(stats.codes).length ? ` (${Object.entries(stats.codes).map(([code, count]) => `${code} ${count}`).join(", ")})` : ""}, ${stats.nullEntities} null entities, slowest ${fixed(stats.maxMs)} ms`)
      .join("; ");
    figures.fetches = fetches;
    log(`  the hub's fetches to subgraphs: ${fetches || "none"}`);
    publishedOf.set(figures, published);
    return figures;
  };
  const events: EventFigures[] = [];
  for (const [index, selection] of options.selections.entries()) {
    events.push(await measureSelection(selection, queries[selection], index > 0, index === options.selections.length - 1));
  }
  // Late or lost? Once the server is quiet again, count what finally arrived of each phase.
  await settle("late deliveries");
  for (const [figures, published] of publishedOf) {
    figures.eventuallyDelivered = published.reduce((total, entry) => total + new Set((arrivals.get(entry.alertId) ?? []).map((arrival) => arrival.subscriber)).size, 0);
    if (figures.eventuallyDelivered !== figures.delivered) log(`${figures.selection}: ${figures.eventuallyDelivered} of ${figures.expected} deliveries had arrived when the phases were over`);
  }
  const subscriptionErrors = new Map(pool.subscriptionErrors);
  const closes = new Map(pool.closesAfterAck);

  // Phase 3: webhooks, with the sockets closed so the figure is the dispatcher's alone.
  await pool.dispose();
  await waitUntil(async () => (await probe()).subscribers === 0, 60_000);
  await settle("webhooks");
  let webhooks: WebhookFigures | undefined;
  if (options.webhookEvents > 0) webhooks = await measureWebhooks(options, SANDBOX_CLIENT_SECRET, cleanups, child, sql, publisher, everyone, probe);

  const final = child.memory();
  log(`load average at the end ${loadAverage()}`);
  const stderr = child.stderrTail();
  await child.stop();

  printReport({ options, people, fileLimit, config: child.config, connect, cpuConnect, events, webhooks, closes, subscriptionErrors, final, idleLoad, stderr, profiles });
}

function sum(map: Map<string, number>): number {
  let total = 0;
  for (const count of map.values()) total += count;
  return total;
}

await runBenchmarkCli({
  usage: USAGE,
  parse: parseOptions,
  run,
  cleanups,
  budgetMs: (options) => (600 + options.subscribers * 0.05 + 2 * (options.duration + 250) + options.webhookEvents * options.endpoints * 0.05) * 1000,
});
