// `npm run bench:gateway -- [--users N] [--duration S] [--connections C] [--warmup S] [--cpu-prof]`
//
// Seeds a fresh PostgreSQL database, starts kamina-graph in a child process (so the load
// generator does not share its event loop), checks each operation once, then drives, one
// after the other: (a) a 20-user query over all five subgraphs through the gateway, (b) a
// wellness-only query through the gateway and (c) that same query straight to the wellness
// subgraph, the ceiling. Prints the table and the gateway's overhead, then cleans up.
//
// Every request of a scenario is the same page with the same token: the identical-pages load, in
// which the gateway shares identical subgraph fetches in flight (SHARE_INFLIGHT_FETCHES, on by
// default; the child inherits it). The figure without sharing:
// `SHARE_INFLIGHT_FETCHES=false npm run bench:gateway -- ...`.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DEMO_CLIENT_ID, mintClientToken, registerTrustedDocuments } from "./support/auth.ts";
import { startBenchStack } from "./support/bench-stack.ts";
import { summariseProfile } from "./support/cpu-profile.ts";
import { parseBenchOptions, USAGE, type BenchOptions } from "./support/options.ts";
import { codeVersion, distinctLines, machineFacts, ratios, resultsTable } from "./support/report.ts";
import { buildScenarios, FIVE_SUBGRAPHS_PAGE_QUERY, FIVE_SUBGRAPHS_QUERY, pageCursors, PAGES_QUERY, WELLNESS_ONLY_QUERY, type Scenario } from "./support/scenarios.ts";
import { measure, sampleMachine, preflight, type Measurement, type Preflight } from "./support/load.ts";
import { Cleanups, runBenchmarkCli } from "./support/lifecycle.ts";
import { EXIT_GUARD_MARKER } from "../testkit/server-child.ts";
import { GATEWAY_SIGNATURE_HEADER, GatewaySignature } from "../platform/auth/gateway-signature.ts";

const log = (message: string) => console.log(`[bench] ${message}`);

const cleanups = new Cleanups(20_000);

async function run(options: BenchOptions): Promise<void> {
  log(`machine: ${machineFacts()}`);
  log(`${options.users} users, ${options.connections} connections, ${options.warmup} s warm-up + ${options.duration} s per scenario, server NODE_ENV ${options.production ? "production" : "unset"}`);

  let profileDir: string | undefined;
  const nodeFlags = [...options.serverNodeFlags];
  if (nodeFlags.length > 0) log(`server children's node flags: ${nodeFlags.join(" ")}`);
  if (options.cpuProf) {
    profileDir = options.cpuProfDir ? resolve(options.cpuProfDir) : mkdtempSync(join(tmpdir(), "kamina-bench-prof-"));
    nodeFlags.push("--cpu-prof", `--cpu-prof-dir=${profileDir}`);
    if (!options.cpuProfDir) cleanups.add("the profile folder", async () => rmSync(profileDir!, { recursive: true, force: true }));
  }
  const { database, subgraphs: subgraphsChild, gateway: server } = await startBenchStack({ users: options.users, seed: options.seed, nodeFlags, production: options.production }, cleanups, log);
  const sharing = `identical queries and subgraph fetches in flight ${server.config.shareInflightFetches ? "shared per caller" : "not shared (SHARE_INFLIGHT_FETCHES=false)"}`;
  log(sharing);
  log(`subgraphs: ${Object.entries(subgraphsChild.subgraphUrls).map(([name, url]) => `${name} ${url}`).join(", ")}`);

  // The graph answers nobody without a token: call it as the sandbox partner does.
  const token = await mintClientToken(database.url, server.config);
  log(`minted a client-credentials token for ${DEMO_CLIENT_ID}; every request carries it (the gateway and each subgraph verify it)`);
  // The direct scenario calls the wellness subgraph's port, which serves only requests signed as the gateway signs them.
  const signature = new GatewaySignature(server.config.tokens.keyEncryptionKey);
  const wellnessUrl = subgraphsChild.subgraphUrls.wellness;
  const signDirect = (body: string) => ({ [GATEWAY_SIGNATURE_HEADER]: signature.sign({ method: "POST", target: wellnessUrl, body }) });
  const headers = { authorization: `Bearer ${token}` };
  // In production the gateway runs only trusted documents: register them, then send their hashes.
  const byHash = server.config.security.trustedDocuments === "enforce";
  if (byHash) {
    await registerTrustedDocuments(database.url, [PAGES_QUERY, FIVE_SUBGRAPHS_PAGE_QUERY, FIVE_SUBGRAPHS_QUERY, WELLNESS_ONLY_QUERY]);
    log(`the gateway enforces trusted documents: registered the bench's 4 for ${DEMO_CLIENT_ID}; requests send their SHA-256 only`);
  }
  const pages = await pageCursors(server.gatewayUrl, headers, byHash);
  log(`${pages.length} distinct full pages of 20 users for the distinct-pages loads`);
  const scenarios = buildScenarios(server.gatewayUrl, wellnessUrl, headers, signDirect, pages, byHash).filter((scenario) => options.scenarios.includes(scenario.name));

  // Check every operation before any load, so a broken setup fails before it can look fast.
  const checked = new Map<Scenario, Preflight>();
  for (const scenario of scenarios) {
    const result = await preflight(scenario);
    checked.set(scenario, result);
    log(`checked ${scenario.name}: ${Buffer.byteLength(result.body)} bytes, ${result.deterministic ? "deterministic (every body under load is compared exactly)" : "varies between calls (bodies under load are checked for errors only)"}`);
  }
  const viaGateway = scenarios.find((scenario) => scenario.name === "one-subgraph-via-gateway");
  const direct = scenarios.find((scenario) => scenario.name === "one-subgraph-direct");
  if (viaGateway && direct) {
    const data = (scenario: Scenario) => (JSON.parse(checked.get(scenario)!.body) as { data: unknown }).data;
    assert.deepEqual(data(viaGateway), data(direct), "the gateway and the wellness subgraph answer the same query differently");
    log("the gateway and the wellness subgraph return the same data for the wellness query");
  }

  // Everything shares this machine: say so when something else is already busy on it.
  const before = await sampleMachine(3_000);
  const quiet = {
    note:
      before === undefined
        ? ""
        : before.busyCores > 0.25
          ? `WARNING: before the load started the machine was already using ${before.busyCores.toFixed(2)} cores; figures are pessimistic. Busiest: ` +
            before.top.map((entry) => `${entry.cores.toFixed(2)} pid ${entry.pid} ${entry.command}`).join("; ")
          : `before the load started the machine was quiet (${before.busyCores.toFixed(2)} cores busy)`,
  };
  if (quiet.note) log(quiet.note);

  const measurements: Measurement[] = [];
  for (const scenario of scenarios) {
    log(`running ${scenario.name}: ${scenario.description}`);
    const measurement = await measure(scenario, checked.get(scenario)!, {
      connections: options.connections,
      duration: options.duration,
      warmup: options.warmup,
      serverPids: { gateway: server.pid, subgraphs: subgraphsChild.pid },
    });
    measurements.push(measurement);
    if (measurement.totalRequests === 0) throw new Error(`${scenario.name}: not one request completed in ${options.duration} s; no figure to report`);
    const d = measurement.detail;
    log(
      `  ${measurement.requestsPerSecond.toFixed(0)} req/s, p50 ${measurement.latency.p50} ms, p99 ${measurement.latency.p99} ms, ` +
        `errors ${measurement.errors} (connection ${d.connectionErrors}, timeouts ${d.timeouts}, non-2xx ${d.non2xx}, body mismatches ${d.mismatches}), ` +
        `CPU cores: server ${measurement.serverCpuCores?.toFixed(2) ?? "n/a"}, PostgreSQL ${measurement.postgresCpuCores?.toFixed(2) ?? "n/a"}, other ${measurement.otherCpuCores?.toFixed(2) ?? "n/a"}`,
    );
  }

  const memory = server.memory();
  const subgraphsMemory = subgraphsChild.memory();
  cleanups.pop();
  await server.stop();
  cleanups.pop();
  await subgraphsChild.stop();
  const stderr = server.stderrTail().trim();
  const shutdown = stderr.includes(EXIT_GUARD_MARKER)
    ? `the server child did not shut down gracefully within 5 s of SIGTERM; testkit/exit-guard.ts ended it (${server.exitStatus()})`
    : `the server child shut down gracefully (${server.exitStatus()})`;
  log(shutdown);

  console.log("");
  console.log(`Machine: ${machineFacts()}`);
  console.log(`Code: ${codeVersion()}`);
  console.log(
    `Load: ${options.connections} connections, ${options.duration} s measured after ${options.warmup} s warm-up per scenario; ${options.users} seeded users; ` +
      `server NODE_ENV ${options.production ? "production" : "unset"}; ${sharing}; server, PostgreSQL and load generator on the same machine`,
  );
  console.log("");
  console.log(resultsTable(measurements));
  console.log("");
  for (const line of ratios(measurements)) console.log(line);
  console.log(
    memory
      ? `RSS after the run: gateway ${memory.rssMiB.toFixed(0)} MiB (peak ${memory.peakRssMiB.toFixed(0)} MiB), subgraphs ${subgraphsMemory?.rssMiB.toFixed(0) ?? "n/a"} MiB (peak ${subgraphsMemory?.peakRssMiB.toFixed(0) ?? "n/a"} MiB)`
      : "server child RSS: unavailable (no /proc)",
  );
  console.log(shutdown);
  if (quiet.note) console.log(quiet.note);
  if (stderr) console.log(`\nserver child stderr (distinct lines of the last 16 kB, with counts):\n${distinctLines(stderr).slice(-10).join("\n")}`);

  if (profileDir) {
    const files = readdirSync(profileDir).filter((name) => name.endsWith(".cpuprofile"));
    for (const [label, pid] of [["gateway", server.pid], ["subgraphs", subgraphsChild.pid]] as const) {
      // The main thread's profile (thread 0); worker threads write their own.
      const name = files.find((file) => file.includes(`.${pid}.0.`));
      if (!name) {
        console.log(`\nno .cpuprofile of the ${label} child (${pid}) was written in ${profileDir}`);
        continue;
      }
      const file = join(profileDir, name);
      const summary = summariseProfile(file);
      console.log(`\nCPU profile of the ${label} child (${file}${options.cpuProfDir ? "" : ", removed on exit"}): ${(summary.busyMs / 1000).toFixed(1)} s busy, ${(summary.idleMs / 1000).toFixed(1)} s idle`);
      console.log("self time by package or folder:");
      for (const spot of summary.packages) console.log(`  ${(100 * spot.share).toFixed(1).padStart(5)} %  ${spot.name}`);
      console.log("top functions by self time:");
      for (const spot of summary.functions) console.log(`  ${(100 * spot.share).toFixed(1).padStart(5)} %  ${spot.name}`);
    }
  }
}

await runBenchmarkCli({
  usage: USAGE,
  parse: parseBenchOptions,
  run,
  cleanups,
  // Bounded: setup (migrations, seeding, start-up) plus every scenario's warm-up and run, with slack.
  budgetMs: (options) => (300 + options.users * 0.2 + options.scenarios.length * (options.warmup + options.duration + 60)) * 1000,
});
