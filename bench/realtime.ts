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
import { get as httpGet } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import pg from "pg";
import { seedDatabase } from "../prisma/seed/index.ts";
import { createTestDatabase, type TestDatabase } from "../testkit/postgres.ts";
import { AlertPublisher, type Published } from "./support/alert-publisher.ts";
import { DEMO_CLIENT_ID, grantFullConsents } from "./support/auth.ts";
import { consentedPeople, mintConsentTokens, type BenchPerson } from "./support/consent-tokens.ts";
import { summariseProfile } from "./support/cpu-profile.ts";
import { IoWaitSampler } from "./support/load.ts";
import { CpuWindow, fixed, loadAverage, openFileLimit, percentile, spread, type Cpu, type Spread } from "./support/realtime-figures.ts";
import { addCount } from "./support/counts.ts";
import { collectGarbage } from "./support/inspector-tools.ts";
import { LoopWatch, type LoopReport, type Stall } from "./support/loop-watch.ts";
import type { ServerProbe } from "./support/realtime-server.ts";
import type { Arrival } from "./support/realtime-subscribers.ts";
import { SubscriberThreads } from "./support/subscriber-thread.ts";
import { Cleanups, runBenchmarkCli } from "./support/lifecycle.ts";
import { codeVersion, distinctLines, machineFacts } from "./support/report.ts";
import { startServerChild, type ServerChild } from "../testkit/server-child.ts";
import { WebhookReceiver } from "./support/webhook-receiver.ts";
import { parseOptions, USAGE, type Options, type Selection } from "./support/realtime-options.ts";

const log = (message: string) => console.log(`[bench] ${message}`);
const SANDBOX_CLIENT_SECRET = "bench-sandbox-secret";
/** How long deliveries may still arrive after the last alert of a phase. */
const DRAIN_SECONDS = 20;

const FLAT_SELECTION = `subscription FlatAlert { alertCreated { id type riskBand severity contributingFactors suggestedAction createdAt } }`;
const FEDERATED_SELECTION = `subscription AlertWithWellness { alertCreated { id type riskBand severity contributingFactors suggestedAction createdAt user { id wellness { score band } } } }`;

const cleanups = new Cleanups(30_000);
/** This thread's loop: the publisher stamps each alert's clock on it, so its stalls show in the latencies. */
const ownLoop = new LoopWatch();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


interface ConnectFigures {
  attempted: number;
  acknowledged: number;
  held: number;
  streams: number;
  connectSeconds: number;
  subscribeSeconds: number;
  ackMs: Spread;
  failures: Map<string, number>;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  heapBeforeMiB: number;
  heapAfterMiB: number;
  benchRssMiB: number;
  /** Server CPU while holding them, no events. */
  holdingCpu: Cpu;
  loadAverage: string;
}

interface EventFigures {
  selection: string;
  published: number;
  achievedRate: number;
  expected: number;
  delivered: number;
  duplicates: number;
  unknown: number;
  withErrors: number;
  latency: Spread;
  commitMs: Spread;
  /** From the alert's creation to the relay's `published_at` stamp (after its NOTIFY): the relay's share of the latency. */
  relayMs: Spread;
  /** From the alert's creation to its arrival at the gateway's event feed. */
  feedMs: Spread;
  /** From the gateway's event feed to the subscriber: the subscription hub, federated execution and the socket. */
  hubMs: Spread;
  schedulerBehindMs: Spread;
  /** Transactions committed in the database (the publisher's one included) per alert, and rows fetched per alert, over the phase and its drain. */
  transactionsPerAlert: number;
  rowsFetchedPerAlert: number;
  cpu: Cpu;
  loopDelayMs: ServerProbe["loopDelayMs"];
  rssMiB: number;
  closesDuring: number;
  sample: string;
  /** What the hub's per-event fetches to the subgraphs answered over the phase. */
  fetches: string;
  /** Distinct deliveries of the phase's alerts that had arrived when the sockets were closed (late ones included). */
  eventuallyDelivered: number | undefined;
  loadAverage: string;
}

interface WebhookFigures {
  events: number;
  endpoints: number;
  expected: number;
  received: number;
  unique: number;
  unverified: number;
  seconds: number;
  perSecond: number;
  steadyPerSecond: number;
  latencyMs: Spread;
  statuses: Record<string, number>;
  /** Database transactions per delivery (the burst's own inserts included). */
  transactionsPerDelivery: number;
  cpu: Cpu;
  loopDelayMs: ServerProbe["loopDelayMs"];
  loadAverage: string;
}

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
  if (options.webhookEvents > 0) webhooks = await measureWebhooks(options, child, sql, publisher, everyone, probe);

  const final = child.memory();
  log(`load average at the end ${loadAverage()}`);
  const stderr = child.stderrTail();
  await child.stop();

  console.log("");
  console.log(`Machine: ${machineFacts()}; open-file limit ${fileLimit ?? "unlimited"}`);
  console.log(`Code: ${codeVersion()}`);
  console.log(`Date: ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`);
  console.log(
    `Setup: ${options.subscribers} subscribers over ${people} seeded people (${options.perUser} socket per device, one subscription per socket, each its own consent token); ` +
      `server child = gateway + 5 subgraphs + relay + dispatcher in one Node process (DB_POOL_SIZE ${child.config.dbPoolSize} per Prisma client, ` +
      `SUBSCRIPTION_RECHECK_SECONDS ${child.config.realtime.subscriptionRecheckMs / 1000}${Object.keys(options.serverEnv).length ? `, --env ${Object.entries(options.serverEnv).map(([key, value]) => `${key}=${value}`).join(" ")}` : ""}), ` +
      `PostgreSQL and this load generator on the same machine; each measured window of alerts follows a ${options.warmUp} s warm-up at the same rate`,
  );
  console.log("");
  console.log(summaryTable(options, connect, events, webhooks));
  console.log("");
  console.log(
    `Connect: ${connect.acknowledged}/${connect.attempted} sockets acknowledged in ${fixed(connect.connectSeconds, 1)} s (${fixed(connect.acknowledged / connect.connectSeconds)} /s, ${options.connectConcurrency} handshakes in flight; ` +
      `ack p50 ${fixed(connect.ackMs.p50)} ms, p99 ${fixed(connect.ackMs.p99)} ms); subscriptions live at the gateway ${fixed(connect.subscribeSeconds, 1)} s after the subscribe messages; ` +
      `server CPU over connect+subscribe ${fixed(cpuConnect.server, 2)} cores for ${fixed(cpuConnect.seconds, 1)} s; heap ${fixed(connect.heapBeforeMiB)} -> ${fixed(connect.heapAfterMiB)} MiB; this process (clients) RSS ${fixed(connect.benchRssMiB)} MiB`,
  );
  if (connect.failures.size) console.log(`Connect failures: ${[...connect.failures].map(([why, count]) => `${count} x ${why}`).join("; ")}`);
  if (closes.size) console.log(`Sockets closed by the server after ack: ${[...closes].map(([why, count]) => `${count} x ${why}`).join("; ")}`);
  if (subscriptionErrors.size) console.log(`Subscription errors: ${[...subscriptionErrors].map(([why, count]) => `${count} x ${why}`).join("; ")}`);
  for (const figures of events) {
    console.log(
      `Events, ${figures.selection}: ${figures.published} alerts at ${fixed(figures.achievedRate, 1)}/s; commit (alert + outbox) p50 ${fixed(figures.commitMs.p50, 1)} ms, p99 ${fixed(figures.commitMs.p99, 1)} ms; ` +
        `split: alert created -> relay's published_at stamp p50 ${fixed(figures.relayMs.p50, 1)} / p99 ${fixed(figures.relayMs.p99, 1)} ms, -> gateway feed p50 ${fixed(figures.feedMs.p50, 1)} / p99 ${fixed(figures.feedMs.p99, 1)} ms, ` +
        `feed -> subscriber p50 ${fixed(figures.hubMs.p50, 1)} / p99 ${fixed(figures.hubMs.p99, 1)} ms; ` +
        `scheduler behind p99 ${fixed(figures.schedulerBehindMs.p99, 1)} ms; database: ${fixed(figures.transactionsPerAlert, 1)} transactions and ${fixed(figures.rowsFetchedPerAlert, 0)} rows fetched per alert; CPU cores: server ${fixed(figures.cpu.server, 2)} (${fixed(cpuMsPerAlert(figures), 1)} ms per alert over ${fixed(figures.cpu.seconds, 1)} s), PostgreSQL ${fixed(figures.cpu.postgres, 2)}, bench ${fixed(figures.cpu.bench, 2)}, machine ${fixed(figures.cpu.machine, 2)}; ` +
        `server loop delay p50/p99/max ${fixed(figures.loopDelayMs.p50, 1)}/${fixed(figures.loopDelayMs.p99, 1)}/${fixed(figures.loopDelayMs.max, 1)} ms; server RSS ${fixed(figures.rssMiB)} MiB; ` +
        `the hub's fetches to subgraphs: ${figures.fetches || "none"}; ` +
        `${figures.closesDuring ? `${figures.closesDuring} sockets closed by the server; ` : ""}${figures.unknown ? `${figures.unknown} results without an alert id; ` : ""}load average ${figures.loadAverage}`,
    );
  }
  if (webhooks) {
    console.log(
      `Webhooks: ${webhooks.events} alerts raised in one burst (batches of 100, as the prevention engine writes a batch), ${webhooks.endpoints} endpoints, WEBHOOK_RATE_PER_SECOND=${child.config.realtime.webhooks.ratePerSecond}; ` +
        `${webhooks.received} deliveries (${webhooks.unique} distinct, ${webhooks.unverified} failed signature checks) in ${fixed(webhooks.seconds, 1)} s; steady rate ${fixed(webhooks.steadyPerSecond)}/s; ` +
        `delivery rows: ${Object.entries(webhooks.statuses).map(([status, count]) => `${status} ${count}`).join(", ")}; ${fixed(webhooks.transactionsPerDelivery, 1)} database transactions per delivery; ` +
        `CPU cores: server ${fixed(webhooks.cpu.server, 2)} (${fixed(((webhooks.cpu.server ?? Number.NaN) * webhooks.cpu.seconds * 1000) / Math.max(1, webhooks.received), 2)} ms per delivery), ` +
        `PostgreSQL ${fixed(webhooks.cpu.postgres, 2)} (${fixed((webhooks.cpu.postgres * webhooks.cpu.seconds * 1000) / Math.max(1, webhooks.received), 2)} ms per delivery), machine ${fixed(webhooks.cpu.machine, 2)}; ` +
        `server loop delay p99 ${fixed(webhooks.loopDelayMs.p99, 1)} ms; load average ${webhooks.loadAverage}`,
    );
  }
  console.log(final ? `Server child RSS at the end: ${fixed(final.rssMiB)} MiB (peak ${fixed(final.peakRssMiB)} MiB)` : "Server child RSS: unavailable");
  console.log(`Load average (1/5/15 min): idle before connecting ${idleLoad}; at the end ${loadAverage()}`);
  const warnings = distinctLines(stderr).filter((line) => !line.includes("ExperimentalWarning"));
  if (warnings.length) console.log(`\nserver child stderr (distinct lines of the last 16 kB):\n${warnings.slice(-8).join("\n")}`);

  for (const { selection, file } of profiles) {
    const summary = summariseProfile(file, 25);
    console.log(`\nCPU profile of the server child over the ${selection} window (${file}): ${(summary.busyMs / 1000).toFixed(1)} s busy, ${(summary.idleMs / 1000).toFixed(1)} s idle`);
    console.log("self time by package or folder:");
    for (const spot of summary.packages) console.log(`  ${(100 * spot.share).toFixed(1).padStart(5)} %  ${spot.name}`);
    console.log("top functions by self time:");
    for (const spot of summary.functions) console.log(`  ${(100 * spot.share).toFixed(1).padStart(5)} %  ${spot.name}`);
  }
}

async function measureWebhooks(
  options: Options,
  child: ServerChild,
  sql: pg.Client,
  publisher: AlertPublisher,
  everyone: readonly BenchPerson[],
  probe: (reset?: boolean) => Promise<ServerProbe>,
): Promise<WebhookFigures> {
  const receiver = new WebhookReceiver();
  await receiver.start();
  cleanups.add("the webhook receiver", () => receiver.stop());
  const origin = new URL(child.gatewayUrl).origin;
  const basic = `Basic ${Buffer.from(`${DEMO_CLIENT_ID}:${SANDBOX_CLIENT_SECRET}`, "utf8").toString("base64")}`;
  for (let index = 0; index < options.endpoints; index++) {
    const path = `/hooks/${index}`;
    const response = await fetch(`${origin}/v1/webhooks`, {
      method: "POST",
      headers: { authorization: basic, "content-type": "application/json" },
      body: JSON.stringify({ url: `${receiver.origin}${path}`, events: ["alert.created"] }),
    });
    const body = (await response.json()) as { secret?: string };
    if (response.status !== 201 || !body.secret) throw new Error(`POST /v1/webhooks answered ${response.status}: ${JSON.stringify(body).slice(0, 300)}`);
    receiver.secrets.set(path, body.secret);
  }
  const expected = options.webhookEvents * options.endpoints;
  log(`webhooks: ${options.endpoints} endpoints registered through POST /v1/webhooks; raising ${options.webhookEvents} alerts in one burst (${expected} deliveries expected)...`);
  const countersBefore = await databaseCounters(sql);
  await probe(true);
  const cpu = new CpuWindow(child.pid);
  const started = Date.now();
  const batch = 100;
  for (let offset = 0; offset < options.webhookEvents; offset += batch) {
    const people = Array.from({ length: Math.min(batch, options.webhookEvents - offset) }, (_, index) => everyone[(offset + index) % everyone.length]!);
    await publisher.publish(people);
  }
  const raisedIn = Date.now() - started;
  const deadline = Date.now() + 30_000 + (expected / 20) * 1000;
  let lastCount = -1;
  let lastChange = Date.now();
  while (receiver.arrivals.length < expected && Date.now() < deadline) {
    await sleep(200);
    if (receiver.arrivals.length !== lastCount) {
      lastCount = receiver.arrivals.length;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > 30_000) break;
  }
  const cpuRead = cpu.read();
  const after = await probe(true);
  const countersAfter = await databaseCounters(sql);
  const arrivals = receiver.arrivals;
  const unique = new Set(arrivals.map((arrival) => `${arrival.path} ${arrival.webhookId}`)).size;
  const times = arrivals.map((arrival) => arrival.at).sort((a, b) => a - b);
  const last = times.at(-1) ?? started;
  const seconds = (last - started) / 1000;
  const from = percentile(times, 10);
  const to = percentile(times, 90);
  const steady = to > from ? (0.8 * times.length) / ((to - from) / 1000) : Number.NaN;
  const { rows } = await sql.query<{ status: string; count: string }>("SELECT status::text AS status, count(*) AS count FROM webhook_delivery GROUP BY status ORDER BY status");
  const figures: WebhookFigures = {
    events: options.webhookEvents,
    endpoints: options.endpoints,
    expected,
    received: arrivals.length,
    unique,
    unverified: arrivals.filter((arrival) => !arrival.verified).length,
    seconds,
    perSecond: arrivals.length / seconds,
    steadyPerSecond: steady,
    latencyMs: spread(arrivals.map((arrival) => arrival.at - arrival.createdAt)),
    statuses: Object.fromEntries(rows.map((row) => [row.status, Number(row.count)])),
    transactionsPerDelivery: (countersAfter.commits - countersBefore.commits) / Math.max(1, arrivals.length),
    cpu: cpuRead,
    loopDelayMs: after.loopDelayMs,
    loadAverage: loadAverage(),
  };
  log(
    `  webhooks: alerts committed in ${raisedIn} ms; ${figures.received} of ${expected} deliveries in ${fixed(seconds, 1)} s = ${fixed(figures.perSecond)}/s (steady ${fixed(steady)}/s), ` +
      `latency p50 ${fixed(figures.latencyMs.p50)} ms, p99 ${fixed(figures.latencyMs.p99)} ms; rows ${JSON.stringify(figures.statuses)}; load average ${figures.loadAverage}`,
  );
  return figures;
}

/** Server CPU time over the phase (alerts and drain) per alert published. */
function cpuMsPerAlert(figures: EventFigures): number | undefined {
  return figures.cpu.server === undefined ? undefined : (figures.cpu.server * figures.cpu.seconds * 1000) / Math.max(1, figures.published);
}

function summaryTable(options: Options, connect: ConnectFigures, events: EventFigures[], webhooks: WebhookFigures | undefined): string {
  const lines = ["| figure | value |", "|---|---:|"];
  const row = (figure: string, value: string) => lines.push(`| ${figure} | ${value} |`);
  row("subscribers held (gateway hub) / sockets acknowledged / attempted", `${connect.held} / ${connect.acknowledged} / ${connect.attempted}`);
  row("subscription streams at the gateway", String(connect.streams));
  row("connect time (all sockets acknowledged)", `${fixed(connect.connectSeconds, 1)} s`);
  row("server RSS idle -> holding them", `${fixed(connect.rssBeforeMiB)} -> ${fixed(connect.rssAfterMiB)} MiB`);
  row("server RSS per subscriber", `${fixed(((connect.rssAfterMiB - connect.rssBeforeMiB) * 1024) / Math.max(1, connect.held), 1)} KiB`);
  row("server CPU holding them, no events", `${fixed(connect.holdingCpu.server, 2)} cores`);
  for (const figures of events) {
    const name = figures.selection === "flat" ? "flat selection" : "with `user { wellness { score band } }`";
    row(`${name}: alerts/s offered (achieved)`, `${options.rate} (${fixed(figures.achievedRate, 1)})`);
    row(`${name}: delivered within ${DRAIN_SECONDS} s of the last alert / expected (missing, duplicates)`, `${figures.delivered} / ${figures.expected} (${figures.expected - figures.delivered}, ${figures.duplicates})`);
    row(`${name}: delivered at all (before the sockets closed)`, `${figures.eventuallyDelivered ?? "n/a"} / ${figures.expected}`);
    row(`${name}: event-to-delivery p50 / p95 / p99 / max`, `${fixed(figures.latency.p50, 1)} / ${fixed(figures.latency.p95, 1)} / ${fixed(figures.latency.p99, 1)} / ${fixed(figures.latency.max, 1)} ms`);
    row(`${name}: server CPU cores, CPU ms per alert, loop delay p99`, `${fixed(figures.cpu.server, 2)}, ${fixed(cpuMsPerAlert(figures), 1)} ms, ${fixed(figures.loopDelayMs.p99, 1)} ms`);
    row(`${name}: database transactions per alert`, fixed(figures.transactionsPerAlert, 1));
  }
  if (webhooks) {
    row(`webhooks: deliveries / expected (${webhooks.endpoints} endpoints x ${webhooks.events} alerts)`, `${webhooks.received} / ${webhooks.expected} (${webhooks.unique} distinct)`);
    row("webhooks: deliveries per second (overall, steady)", `${fixed(webhooks.perSecond)}, ${fixed(webhooks.steadyPerSecond)}`);
    row("webhooks: alert-to-receiver p50 / p99 / max", `${fixed(webhooks.latencyMs.p50)} / ${fixed(webhooks.latencyMs.p99)} / ${fixed(webhooks.latencyMs.max)} ms`);
  }
  return lines.join("\n");
}

/** GET `path` from the server child's probe (bench/support/realtime-server.ts) over its Unix socket. */
function askProbe<T>(socketPath: string, path: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const request = httpGet({ socketPath, path, timeout: 30_000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")) as T);
        } catch (error) {
          reject(error);
        }
      });
      response.on("error", reject);
    });
    request.on("timeout", () => request.destroy(new Error(`the probe did not answer ${path} in 30 s`)));
    request.on("error", reject);
  });
}

/** Transactions committed (every autocommitted statement is one) and rows fetched in the bench's database so far. */
async function databaseCounters(sql: pg.Client): Promise<{ commits: number; fetched: number }> {
  // The statistics collector flushes at most once a second; a pause makes the reading current.
  await sleep(1_200);
  const { rows } = await sql.query<{ commits: string; fetched: string }>(
    "SELECT xact_commit AS commits, tup_fetched AS fetched FROM pg_stat_database WHERE datname = current_database()",
  );
  return { commits: Number(rows[0]?.commits ?? 0), fetched: Number(rows[0]?.fetched ?? 0) };
}

interface WindowRecord {
  published: readonly Published[];
  arrivals: ReadonlyMap<string, readonly Arrival[]>;
  /** Wall-clock ms at which each alert reached the gateway's feed. */
  feedTimes: Readonly<Record<string, number>>;
  /** Ms from each alert's creation to the relay's published_at stamp. */
  relayMsOf: ReadonlyMap<string, number>;
  server: ServerProbe;
  subscribersLoop: LoopReport;
  publisherLoop: LoopReport;
  /** The machine's I/O wait, sampled every 100 ms over the window and its drain. */
  ioWait: readonly { at: number; ms: number }[];
}

/** Names what slowed a window: stalls and their GC, the slowest alerts stage by stage, the hub's slow steps, slow alerts by second. */
function logWhatSlowedTheWindow(window: WindowRecord): void {
  const { published, arrivals, feedTimes, relayMsOf, server } = window;
  const windowStart = performance.timeOrigin + (published[0]?.sentAt ?? 0);
  /** Whole seconds from the window's first alert to a wall-clock time. */
  const secondOf = (wallMs: number) => Math.floor((wallMs - windowStart) / 1000);
  const atOffset = (wallMs: number) => `+${((wallMs - windowStart) / 1000).toFixed(1)} s`;
  const sentAtWall = (entry: Published) => performance.timeOrigin + entry.sentAt;

  const stallsOf = (stalls: readonly Stall[]) => stalls.map((stall) => `${atOffset(stall.at)} ${fixed(stall.lateMs)} ms${stall.gc.length ? ` (${stall.gc.join(", ")})` : ""}`).join("; ") || "none";
  const loopOf = (name: string, report: LoopReport) =>
    `${name} ${stallsOf(report.stalls)}, GC pauses ${report.gcPauses.count} (${report.gcPauses.major} major), longest ${fixed(report.gcPauses.maxMs, 1)} ms`;
  log(`  window started ${new Date(windowStart).toISOString()}`);
  log(`  loop stalls over 40 ms: server ${stallsOf(server.stalls)}; ${loopOf("the subscribers' threads", window.subscribersLoop)}; ${loopOf("the publisher's thread", window.publisherLoop)}`);

  const latestDelivery = (entry: Published) => Math.max(...(arrivals.get(entry.alertId) ?? []).map((arrival) => arrival.at - entry.sentAt));
  const slow = published.filter((entry) => latestDelivery(entry) > 100);
  const stages = (entry: Published) => {
    const atFeed = feedTimes[entry.alertId];
    return `${atOffset(sentAtWall(entry))}: committed ${fixed(entry.committedAt - entry.sentAt)}, stamped ${fixed(relayMsOf.get(entry.alertId))}, at the feed ${fixed(atFeed === undefined ? undefined : atFeed - sentAtWall(entry))}, delivered ${fixed(latestDelivery(entry))} ms`;
  };
  const slowest = [...slow].sort((a, b) => latestDelivery(b) - latestDelivery(a)).slice(0, 5);
  if (slowest.length) log(`  the slowest alerts (ms after the publisher's clock): ${slowest.map(stages).join("; ")}`);

  const slowSteps = new Map<string, { count: number; longest: number; seconds: Set<number> }>();
  for (const step of server.slowSteps) {
    const entry = slowSteps.get(step.step) ?? { count: 0, longest: 0, seconds: new Set<number>() };
    entry.count++;
    entry.longest = Math.max(entry.longest, step.ms);
    entry.seconds.add(secondOf(step.at));
    slowSteps.set(step.step, entry);
  }
  const stepLines = [...slowSteps].map(([step, entry]) => `${step} ${entry.count} (longest ${fixed(entry.longest)} ms; in seconds ${[...entry.seconds].sort((a, b) => a - b).join(", ")})`);
  log(`  the hub's steps over 30 ms: ${stepLines.join("; ") || "none"}`);
  const slowBySecond = new Map<number, number>();
  for (const entry of slow) addCount(slowBySecond, secondOf(sentAtWall(entry)));
  log(`  alerts delivered after 100 ms, by second of the window: ${JSON.stringify(Object.fromEntries(slowBySecond))}`);
  // A stalled disk flush holds every commit; it shows as I/O wait in the seconds it happens.
  const ioWaitBySecond = new Map<number, number>();
  for (const sample of window.ioWait) addCount(ioWaitBySecond, secondOf(sample.at), sample.ms);
  const ioWaitSeconds = [...ioWaitBySecond].filter(([, ms]) => ms >= 40).map(([second, ms]) => [second, Math.round(ms)]);
  log(`  the machine's I/O wait, by second of the window (seconds with 40 ms or more): ${JSON.stringify(Object.fromEntries(ioWaitSeconds))}`);
}

/** Per alert, ms from its creation (the publisher's clock) to the relay's published_at stamp (the database's clock, same machine). */
async function relayDelays(sql: pg.Client, alertIds: readonly string[]): Promise<Map<string, number>> {
  const { rows } = await sql.query<{ id: string; ms: number | null }>(
    "SELECT aggregate_id AS id, (extract(epoch FROM published_at - created_at) * 1000)::float8 AS ms FROM outbox_event WHERE aggregate_id = ANY($1::text[])",
    [alertIds],
  );
  return new Map(rows.filter((row): row is { id: string; ms: number } => row.ms !== null).map((row) => [row.id, row.ms]));
}

async function waitForSubscribers(probe: () => Promise<ServerProbe>, target: () => number, timeoutMs: number): Promise<ServerProbe> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  let lastChange = Date.now();
  while (last.subscribers < target() && Date.now() < deadline) {
    await sleep(250);
    const now = await probe();
    if (now.subscribers !== last.subscribers) lastChange = Date.now();
    last = now;
    if (Date.now() - lastChange > 30_000) break;
  }
  return last;
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check()) && Date.now() < deadline) await sleep(250);
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
