// Runs the SubscriberPool in a worker thread of its own: its 10,000 sockets' heap is collected
// there, so the pauses of that collection delay neither the publisher (this thread: its clock
// stamps each alert before the commit) nor the timing of anything else but the arrivals they
// really delayed, and the loop watch names them separately. Arrivals come back stamped on the
// worker's clock and are moved onto this thread's `performance.now()`; sockets opening and
// closing, and the pool's counters, are mirrored here as they change.
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { addCount, mergeCounts } from "./counts.ts";
import type { LoopReport } from "./loop-watch.ts";
import type { Arrival, ConnectReport, PoolCounter, SubscriberSpec } from "./realtime-subscribers.ts";

/** What the worker posts (subscriber-thread-worker.ts). */
export type WorkerMessage =
  | { type: "arrival"; arrival: Omit<Arrival, "at">; wallClockMs: number }
  | { type: "open"; index: number; open: boolean }
  | { type: "count"; counter: PoolCounter; key: string }
  | { type: "progress"; done: number }
  | { type: "reply"; id: number; value?: unknown; error?: string };

/** What this thread asks the worker. */
export type WorkerCall =
  | { call: "connect"; concurrency: number; ackTimeoutMs: number }
  | { call: "subscribeAll"; query: string }
  | { call: "loop"; reset: boolean }
  | { call: "collectGarbage" }
  | { call: "startAllocations" }
  | { call: "stopAllocations"; file: string }
  | { call: "dispose" };

const WORKER = new URL("./subscriber-thread-worker.ts", import.meta.url);

export class SubscriberThread {
  readonly closesAfterAck = new Map<string, number>();
  readonly subscriptionErrors = new Map<string, number>();
  onArrival: (arrival: Arrival) => void = () => undefined;
  private readonly open: boolean[];
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private nextId = 0;
  private onProgress: ((done: number) => void) | undefined;
  private exited: Error | undefined;

  constructor(
    wsUrl: string,
    private readonly specs: SubscriberSpec[],
  ) {
    this.open = specs.map(() => false);
    // tsx's loader registered first, then the worker module through it (`execArgv: ["--import",
    // "tsx"]` loads the entry before the loader is in place on Node 20).
    const boot = `import("tsx/esm/api").then(({ tsImport }) => tsImport(${JSON.stringify(WORKER.href)}, ${JSON.stringify(WORKER.href)}))`;
    this.worker = new Worker(boot, { eval: true, workerData: { wsUrl, specs } });
    this.worker.on("message", (message: WorkerMessage) => this.receive(message));
    const fail = (error: Error) => {
      this.exited ??= error;
      for (const { reject } of this.pending.values()) reject(error);
      this.pending.clear();
    };
    this.worker.on("error", fail);
    this.worker.on("exit", (code) => fail(new Error(`the subscriber thread exited (${code})`)));
  }

  openCount(): number {
    return this.open.filter(Boolean).length;
  }

  openByUser(): Map<string, number> {
    const byUser = new Map<string, number>();
    this.specs.forEach((spec, index) => {
      if (this.open[index]) addCount(byUser, spec.userId);
    });
    return byUser;
  }

  async connect(concurrency: number, ackTimeoutMs: number, onProgress?: (done: number) => void): Promise<ConnectReport> {
    this.onProgress = onProgress;
    const report = await this.ask<Omit<ConnectReport, "failures"> & { failures: [string, number][] }>({ call: "connect", concurrency, ackTimeoutMs });
    return { ...report, failures: new Map(report.failures) };
  }

  /** Replaces every open subscriber's subscription with `query`; resolves once every subscribe message is sent. */
  subscribeAll(query: string): Promise<void> {
    return this.ask({ call: "subscribeAll", query });
  }

  /** The subscriber thread's event loop, GC pauses and stalls since the last reset. */
  loop(reset: boolean): Promise<LoopReport> {
    return this.ask({ call: "loop", reset });
  }

  collectGarbage(): Promise<void> {
    return this.ask({ call: "collectGarbage" });
  }

  startAllocations(): Promise<void> {
    return this.ask({ call: "startAllocations" });
  }

  stopAllocations(file: string): Promise<void> {
    return this.ask({ call: "stopAllocations", file });
  }

  /** Closes every socket and ends the thread. */
  async dispose(): Promise<void> {
    if (!this.exited) await this.ask({ call: "dispose" }).catch(() => undefined);
    this.open.fill(false);
    await this.worker.terminate();
  }

  private ask<T>(call: WorkerCall): Promise<T> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ id, ...call });
    });
  }

  private receive(message: WorkerMessage): void {
    switch (message.type) {
      case "arrival":
        this.onArrival({ ...message.arrival, at: message.wallClockMs - performance.timeOrigin });
        return;
      case "open":
        this.open[message.index] = message.open;
        return;
      case "count":
        addCount(this[message.counter], message.key);
        return;
      case "progress":
        this.onProgress?.(message.done);
        return;
      case "reply": {
        const waiting = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.error !== undefined) waiting?.reject(new Error(message.error));
        else waiting?.resolve(message.value);
      }
    }
  }
}

/** Merges a LoopReport per thread: delays and pauses at their worst, counts and stalls together. */
function mergeLoops(reports: LoopReport[]): LoopReport {
  const worst = (pick: (report: LoopReport) => number) => Math.max(0, ...reports.map(pick));
  return {
    loopDelayMs: {
      mean: worst((report) => report.loopDelayMs.mean),
      p50: worst((report) => report.loopDelayMs.p50),
      p99: worst((report) => report.loopDelayMs.p99),
      max: worst((report) => report.loopDelayMs.max),
    },
    gcPauses: {
      count: reports.reduce((total, report) => total + report.gcPauses.count, 0),
      totalMs: reports.reduce((total, report) => total + report.gcPauses.totalMs, 0),
      maxMs: worst((report) => report.gcPauses.maxMs),
      major: reports.reduce((total, report) => total + report.gcPauses.major, 0),
    },
    stalls: reports.flatMap((report) => report.stalls).sort((a, b) => a.at - b.at),
  };
}

/**
 * The subscribers split over several SubscriberThreads, so a collection in one pauses only its
 * share of the sockets. Subscriber indexes stay those of the whole list.
 */
export class SubscriberThreads {
  onArrival: (arrival: Arrival) => void = () => undefined;
  private readonly threads: SubscriberThread[] = [];

  constructor(wsUrl: string, specs: SubscriberSpec[], threadCount: number) {
    const perThread = Math.ceil(specs.length / Math.max(1, threadCount));
    for (let offset = 0; offset < specs.length; offset += perThread) {
      const thread = new SubscriberThread(wsUrl, specs.slice(offset, offset + perThread));
      thread.onArrival = (arrival) => this.onArrival({ ...arrival, subscriber: arrival.subscriber + offset });
      this.threads.push(thread);
    }
  }

  get closesAfterAck(): Map<string, number> {
    return mergeCounts(this.threads.map((thread) => thread.closesAfterAck));
  }

  get subscriptionErrors(): Map<string, number> {
    return mergeCounts(this.threads.map((thread) => thread.subscriptionErrors));
  }

  openCount(): number {
    return this.threads.reduce((total, thread) => total + thread.openCount(), 0);
  }

  openByUser(): Map<string, number> {
    return mergeCounts(this.threads.map((thread) => thread.openByUser()));
  }

  /** Connects each thread's share with its part of `concurrency`; one report for all. */
  async connect(concurrency: number, ackTimeoutMs: number, onProgress?: (done: number) => void): Promise<ConnectReport> {
    const share = Math.max(1, Math.floor(concurrency / this.threads.length));
    const done = this.threads.map(() => 0);
    const reports = await Promise.all(
      this.threads.map((thread, index) =>
        thread.connect(share, ackTimeoutMs, (count) => {
          done[index] = count;
          onProgress?.(done.reduce((total, value) => total + value, 0));
        }),
      ),
    );
    const failures = mergeCounts(reports.map((report) => report.failures));
    return {
      attempted: reports.reduce((total, report) => total + report.attempted, 0),
      acknowledged: reports.reduce((total, report) => total + report.acknowledged, 0),
      failures,
      seconds: Math.max(...reports.map((report) => report.seconds)),
      ackMs: reports.flatMap((report) => report.ackMs),
    };
  }

  async subscribeAll(query: string): Promise<void> {
    await Promise.all(this.threads.map((thread) => thread.subscribeAll(query)));
  }

  async loop(reset: boolean): Promise<LoopReport> {
    return mergeLoops(await Promise.all(this.threads.map((thread) => thread.loop(reset))));
  }

  async collectGarbage(): Promise<void> {
    for (const thread of this.threads) await thread.collectGarbage();
  }

  async startAllocations(): Promise<void> {
    await Promise.all(this.threads.map((thread) => thread.startAllocations()));
  }

  /** One profile per thread: `file` with `.N` before its extension for thread N. */
  async stopAllocations(file: string): Promise<void> {
    await Promise.all(this.threads.map((thread, index) => thread.stopAllocations(file.replace(/(\.[^.]+)$/, `.${index}$1`))));
  }

  async dispose(): Promise<void> {
    await Promise.all(this.threads.map((thread) => thread.dispose()));
  }
}
