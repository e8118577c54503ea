// The figures bench:realtime reads: latency spreads, CPU per phase of each process, the
// machine's load and open-file limit, and how they print.
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { cpuTicksOf, machineBusyTicks, postgresDelta, postgresTicks } from "./load.ts";

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface Spread {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function spread(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
    mean: sorted.reduce((sum, value) => sum + value, 0) / (sorted.length || 1),
  };
}

export const fixed = (value: number | undefined, digits = 0) => (value === undefined || !Number.isFinite(value) ? "n/a" : value.toFixed(digits));
export const loadAverage = () => loadavg().map((value) => value.toFixed(2)).join(" / ");

export function openFileLimit(): number | undefined {
  try {
    const line = readFileSync("/proc/self/limits", "utf8").split("\n").find((entry) => entry.startsWith("Max open files"));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === "unlimited" ? undefined : Number(soft);
  } catch {
    return undefined;
  }
}

/** CPU used over a phase, in cores: the server child, PostgreSQL (every backend), this process, the machine. */
export class CpuWindow {
  private readonly server: number | undefined;
  private readonly postgres = postgresTicks();
  private readonly machine = machineBusyTicks();
  private readonly own = process.cpuUsage();
  private readonly started = performance.now();

  constructor(private readonly serverPid: number) {
    this.server = cpuTicksOf(serverPid);
  }

  read(): { server: number | undefined; postgres: number; bench: number; machine: number | undefined; seconds: number } {
    const seconds = (performance.now() - this.started) / 1000;
    const serverNow = cpuTicksOf(this.serverPid);
    const machineNow = machineBusyTicks();
    const own = process.cpuUsage(this.own);
    return {
      server: this.server === undefined || serverNow === undefined ? undefined : (serverNow - this.server) / TICKS_PER_SECOND / seconds,
      postgres: postgresDelta(this.postgres, postgresTicks()) / TICKS_PER_SECOND / seconds,
      bench: (own.user + own.system) / 1e6 / seconds,
      machine: this.machine === undefined || machineNow === undefined ? undefined : (machineNow - this.machine) / TICKS_PER_SECOND / seconds,
      seconds,
    };
  }
}

export type Cpu = ReturnType<CpuWindow["read"]>;
