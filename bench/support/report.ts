// The side-by-side table and the machine facts printed at the end of a run.
import { execFileSync } from "node:child_process";
import { cpus, totalmem } from "node:os";
import type { Measurement } from "./load.ts";

export function machineFacts(): string {
  const cores = cpus();
  const model = cores[0]?.model.trim() || "unknown CPU";
  return `node ${process.version}, ${cores.length} CPU (${model}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${process.platform}/${process.arch}; reference loop ${referenceLoopMs()} ms`;
}

/**
 * How fast one core runs just now: the best of three runs of a fixed loop, in ms. The same
 * machine type was seen to differ by a third within one sitting (a shared host), so figures
 * taken at different times compare only alongside this (lower is faster).
 */
export function referenceLoopMs(): number {
  let best = Number.POSITIVE_INFINITY;
  let sink = 0;
  for (let run = 0; run < 3; run++) {
    const started = performance.now();
    for (let i = 0; i < 100_000_000; i++) sink += i % 7;
    best = Math.min(best, performance.now() - started);
  }
  return sink < 0 ? -1 : Math.round(best);
}

/** The commit under test, and whether the work tree differs from it. */
export function codeVersion(): string {
  try {
    const run = (...args: string[]) => execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const commit = run("rev-parse", "--short", "HEAD");
    return run("status", "--porcelain", "--untracked-files=no") ? `${commit} with uncommitted changes` : commit;
  } catch {
    return "unknown (no git)";
  }
}

const fixed = (value: number | undefined, digits: number) => (value === undefined || !Number.isFinite(value) ? "n/a" : value.toFixed(digits));

function row(cells: string[]): string {
  return `| ${cells.join(" | ")} |`;
}

export function resultsTable(measurements: Measurement[]): string {
  const processes = [...new Set(measurements.flatMap((m) => Object.keys(m.processCpuCores)))];
  const header = ["scenario", "req/s (mean)", "p50 ms", "p90 ms", "p99 ms", "mean ms", "requests", "errors", ...processes.map((name) => `${name} CPU ms/req`), "server CPU", "PostgreSQL CPU", "autocannon CPU", "other CPU", "machine CPU"];
  const lines = [row(header), row(header.map((_cell, index) => (index === 0 ? "---" : "---:")))];
  for (const m of measurements) {
    lines.push(
      row([
        m.scenario.name,
        fixed(m.requestsPerSecond, 0),
        fixed(m.latency.p50, 0),
        fixed(m.latency.p90, 0),
        fixed(m.latency.p99, 0),
        fixed(m.latency.mean, 1),
        String(m.totalRequests),
        String(m.errors),
        ...processes.map((name) => {
          const cores = m.processCpuCores[name];
          return fixed(cores === undefined ? undefined : (1000 * cores) / m.requestsPerSecond, 2);
        }),
        fixed(m.serverCpuCores, 2),
        fixed(m.postgresCpuCores, 2),
        fixed(m.loadGeneratorCpuCores, 2),
        fixed(m.otherCpuCores, 2),
        fixed(m.machineCpuCores, 2),
      ]),
    );
  }
  return `${lines.join("\n")}\n\nCPU ms/req is each server child's CPU time per answered request (less sensitive to other load on the machine than req/s): the gateway runs alone in one child, the five subgraphs in another (the \`npm start\` of a server whose own gateway stays idle, and its realtime workers). The other CPU columns are cores busy over the measured run (2 = this whole machine of ${cpus().length} cores); server = both children; PostgreSQL counts all its processes; other = machine minus the rest (other people's work, kernel).`;
}

export function ratios(measurements: Measurement[]): string[] {
  const find = (name: Measurement["scenario"]["name"]) => measurements.find((m) => m.scenario.name === name);
  const five = find("five-subgraphs");
  const via = find("one-subgraph-via-gateway");
  const direct = find("one-subgraph-direct");
  const lines: string[] = [];
  if (via && direct) {
    const perRequest = (m: Measurement) => (m.serverCpuCores === undefined ? undefined : (1000 * m.serverCpuCores) / m.requestsPerSecond);
    const viaMs = perRequest(via);
    const directMs = perRequest(direct);
    lines.push(
      `gateway overhead, (b) one-subgraph-via-gateway / (c) one-subgraph-direct: throughput ${fixed(via.requestsPerSecond / direct.requestsPerSecond, 2)}x ` +
        `(${fixed((100 * via.requestsPerSecond) / direct.requestsPerSecond, 0)} % of the ceiling), ` +
        `latency p50 ${fixed(via.latency.p50 / direct.latency.p50, 2)}x, p90 ${fixed(via.latency.p90 / direct.latency.p90, 2)}x, p99 ${fixed(via.latency.p99 / direct.latency.p99, 2)}x; ` +
        `server CPU per request ${fixed(viaMs, 1)} ms vs ${fixed(directMs, 1)} ms (the gateway adds ${fixed(viaMs !== undefined && directMs !== undefined ? viaMs - directMs : undefined, 1)} ms)`,
    );
  }
  if (five && via) {
    lines.push(
      `fan-out cost, (a) five-subgraphs / (b) one-subgraph-via-gateway: throughput ${fixed(five.requestsPerSecond / via.requestsPerSecond, 2)}x, ` +
        `latency p50 ${fixed(five.latency.p50 / via.latency.p50, 2)}x`,
    );
  }
  return lines;
}

/** A child's output, each distinct non-blank line once, repeated ones with their count. */
export function distinctLines(text: string): string[] {
  const counts = new Map<string, number>();
  for (const line of text.split("\n")) if (line.trim()) counts.set(line, (counts.get(line) ?? 0) + 1);
  return [...counts].map(([line, count]) => (count > 1 ? `${count} x ${line}` : line));
}
