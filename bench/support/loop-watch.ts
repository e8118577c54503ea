// Watches one process's event loop: how late it ran (perf_hooks histogram), every garbage
// collection pause, and each stall, meaning a time the loop ran more than STALL_MS late, named
// with the collections that overlapped it. The bench's server probe and the load generator each
// keep one, so a slow delivery can be put down to the server, to the client, or to neither.
import { constants, monitorEventLoopDelay, performance, PerformanceObserver, type PerformanceEntry } from "node:perf_hooks";

/** A loop this late is a stall worth naming; the target p99 is 100 ms. */
const STALL_MS = 40;
const TICK_MS = 10;
const MAX_STALLS = 200;
const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: "major",
  [constants.NODE_PERFORMANCE_GC_MINOR]: "minor",
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weak callbacks",
};

export interface Stall {
  /** When the loop resumed, wall-clock ms. */
  at: number;
  lateMs: number;
  /** The collections that overlapped it, e.g. "minor 32.1 ms". */
  gc: string[];
}

export interface LoopReport {
  /** Event-loop delay in ms (10 ms resolution). */
  loopDelayMs: { mean: number; p50: number; p99: number; max: number };
  /** Garbage-collection pauses: how many, their total and the longest, in ms. */
  gcPauses: { count: number; totalMs: number; maxMs: number; major: number };
  stalls: Stall[];
}

export class LoopWatch {
  private readonly delay = monitorEventLoopDelay({ resolution: TICK_MS });
  private gcPauses: LoopReport["gcPauses"] = { count: 0, totalMs: 0, maxMs: 0, major: 0 };
  private stalls: Stall[] = [];
  private readonly recentGc: { start: number; end: number; label: string }[] = [];
  private lastTick = performance.now();
  /** When the current period began (performance.now()): what started before belongs to the last one. */
  private periodStart = performance.now();

  constructor() {
    this.delay.enable();
    setInterval(() => this.tick(), TICK_MS).unref();
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) this.record(entry);
    }).observe({ entryTypes: ["gc"] });
  }

  /** What happened since the last reset; `reset` starts a new period. */
  report(reset = false): LoopReport {
    const ms = (nanoseconds: number) => (Number.isFinite(nanoseconds) ? nanoseconds / 1e6 : 0);
    const { delay } = this;
    const report: LoopReport = {
      loopDelayMs: { mean: ms(delay.mean), p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
      gcPauses: this.gcPauses,
      stalls: this.stalls,
    };
    if (reset) {
      this.periodStart = performance.now();
      delay.reset();
      this.gcPauses = { count: 0, totalMs: 0, maxMs: 0, major: 0 };
      this.stalls = [];
    }
    return report;
  }

  private tick(): void {
    const now = performance.now();
    const late = now - this.lastTick - TICK_MS;
    this.lastTick = now;
    // A stall noticed only now may have begun before the period did (a collection the caller
    // forced just before resetting): it belongs to the period before.
    if (late < STALL_MS || this.stalls.length >= MAX_STALLS || now - late - TICK_MS < this.periodStart) return;
    const to = performance.timeOrigin + now;
    const from = to - late - TICK_MS;
    const gc = this.recentGc.filter((entry) => entry.end >= from && entry.start <= to).map((entry) => entry.label);
    this.stalls.push({ at: to, lateMs: late, gc });
  }

  private record(entry: PerformanceEntry): void {
    const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0;
    const start = performance.timeOrigin + entry.startTime;
    this.recentGc.push({ start, end: start + entry.duration, label: `${GC_KINDS[kind] ?? "gc"} ${entry.duration.toFixed(1)} ms` });
    if (this.recentGc.length > 500) this.recentGc.splice(0, 250);
    // Entries arrive after the fact: one that started before the period did is not its own.
    if (entry.startTime < this.periodStart) return;
    const pauses = this.gcPauses;
    pauses.count++;
    pauses.totalMs += entry.duration;
    pauses.maxMs = Math.max(pauses.maxMs, entry.duration);
    if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) pauses.major++;
  }
}
