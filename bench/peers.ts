// `npm run bench:peers -- --peers-dir DIR [--users N] [--duration S] [--connections C] [--rounds R] [--peers LIST] [--identical]`
//
// Our gateway beside the gateways a user would pick instead, over the same subgraphs, in one
// run: stock @apollo/gateway, Hive Gateway and Hive Gateway with the Rust planner
// (../shared/peers: copy it to a scratch folder and `npm ci` there, then pass that folder as
// --peers-dir). Seeds and starts the layout (bench/support/bench-stack.ts) with the
// subgraphs serving unsigned requests (the peers cannot sign; the token is still verified), lists
// the distinct pages, and hands the peers' runner the supergraph with the subgraphs' real URLs,
// the token, the five-subgraph page and the rotating cursors (--identical: every request the
// same page). The runner prints req/s, p50, p99 and CPU ms per request of each gateway and of
// the subgraphs, interleaved in rounds.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { orUsage } from "./support/usage.ts";
import { readSupergraph } from "../gateway/server.ts";
import { readSupergraphSecurity } from "../gateway/scopes/supergraph-rules.ts";
import { SUBGRAPH_NAMES } from "../platform/config/config.ts";
import { mintClientToken } from "./support/auth.ts";
import { startBenchStack } from "./support/bench-stack.ts";
import { Cleanups, runBenchmark } from "./support/lifecycle.ts";
import { machineFacts, codeVersion } from "./support/report.ts";
import { FIVE_SUBGRAPHS_PAGE_QUERY, FIVE_SUBGRAPHS_QUERY, pageCursors } from "./support/scenarios.ts";

const log = (message: string) => console.log(`[peers] ${message}`);
const cleanups = new Cleanups(20_000);

const USAGE =
  "usage: npm run bench:peers -- --peers-dir DIR [--users N] [--duration S] [--connections C] [--rounds R] [--peers LIST] [--identical]\n" +
  "DIR: a copy of ../shared/peers with its dependencies installed (cp -r ../shared/peers/. DIR && (cd DIR && npm ci))";
const { values } = orUsage(USAGE, () => parseArgs({
  options: {
    "peers-dir": { type: "string" },
    users: { type: "string", default: "2000" },
    seed: { type: "string", default: "42" },
    duration: { type: "string", default: "8" },
    connections: { type: "string", default: "20" },
    rounds: { type: "string", default: "3" },
    peers: { type: "string", default: "apollo-gateway,hive,hive-rust" },
    identical: { type: "boolean", default: false },
  },
}));
const peersDir = values["peers-dir"] ? resolve(values["peers-dir"]) : undefined;
if (!peersDir || !existsSync(join(peersDir, "run.mjs")) || !existsSync(join(peersDir, "node_modules"))) {
  console.error(USAGE);
  process.exit(2);
}
const users = Number(values.users);

const code = await runBenchmark(async () => {
  log(`machine: ${machineFacts()}; code ${codeVersion()}`);
  const stack = await startBenchStack(
    { users, seed: Number(values.seed), subgraphsEnv: { UNSAFE_UNSIGNED_SUBGRAPH_REQUESTS: "true" } },
    cleanups,
    log,
  );
  const token = await mintClientToken(stack.database.url, stack.gateway.config);
  const scratch = mkdtempSync(join(tmpdir(), "kamina-peers-"));
  cleanups.add("the scratch folder", async () => rmSync(scratch, { recursive: true, force: true }));

  // The gateway's own supergraph (the security directives read out of it), pointed at the running subgraphs.
  let supergraph = readSupergraphSecurity(readSupergraph()).gatewaySdl;
  for (const name of SUBGRAPH_NAMES) supergraph = supergraph.replaceAll(`http://${name}.subgraph.invalid/graphql`, stack.subgraphs.subgraphUrls[name]);
  const supergraphFile = join(scratch, "supergraph.graphql");
  writeFileSync(supergraphFile, supergraph);
  const headers = { authorization: `Bearer ${token}` };
  const cursors = values.identical ? [null] : await pageCursors(stack.gateway.gatewayUrl, headers);
  const variablesFile = join(scratch, "cursors.json");
  writeFileSync(variablesFile, JSON.stringify(cursors.map((after) => ({ after }))));
  log(values.identical ? "identical pages: every request the same page" : `distinct pages: ${cursors.length} cursors sent in turn`);

  const args = [
    join(peersDir, "run.mjs"),
    "--supergraph", supergraphFile,
    "--token", token,
    "--query", values.identical ? FIVE_SUBGRAPHS_QUERY : FIVE_SUBGRAPHS_PAGE_QUERY,
    ...(values.identical ? [] : ["--variables", variablesFile]),
    "--project", stack.gateway.gatewayUrl,
    "--project-pid", String(stack.gateway.pid),
    "--subgraphs-pid", String(stack.subgraphs.pid),
    "--peers", values.peers,
    "--duration", values.duration,
    "--connections", values.connections,
    "--rounds", values.rounds,
  ];
  const exit = await new Promise<number>((done, fail) => {
    const runner = spawn(process.execPath, args, { cwd: peersDir, stdio: ["ignore", "inherit", "inherit"] });
    runner.on("error", fail);
    runner.on("exit", (status) => done(status ?? 1));
  });
  if (exit !== 0) throw new Error(`the peers' runner exited with ${exit}`);
}, cleanups, (600 + users * 0.2 + Number(values.rounds) * 5 * (Number(values.duration) + 30)) * 1000);
process.exit(code);
