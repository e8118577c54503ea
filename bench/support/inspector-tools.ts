// The bench's instruments for the thread they run in: a full collection on demand, a sampler of
// every allocation between start() and stop(), and a CPU profile of the same span.
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

const SAMPLING_INTERVAL_BYTES = 32 * 1024;

/** A full, synchronous garbage collection, without starting node with --expose-gc. */
export function collectGarbage(): void {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

/** One inspector recording of this thread, from start() to stop(), written to a file. */
class InspectorRecording {
  private session: Session | undefined;

  constructor(
    private readonly begin: (session: Session) => Promise<unknown>,
    private readonly end: (session: Session) => Promise<object>,
  ) {}

  async start(): Promise<void> {
    if (this.session) return;
    const session = new Session();
    session.connect();
    await this.begin(session);
    this.session = session;
  }

  /** Writes what was recorded since start() to `file`; false when nothing was being recorded. */
  async stop(file: string): Promise<boolean> {
    const session = this.session;
    if (!session) return false;
    this.session = undefined;
    const recorded = await this.end(session);
    session.disconnect();
    writeFileSync(file, JSON.stringify(recorded));
    return true;
  }
}

/**
 * Samples every allocation between start() and stop(), garbage included (V8's sampling heap
 * profiler with the objects later collected kept in), and writes the profile as a .heapprofile
 * that Chrome DevTools opens. That is allocation rate by call stack: what makes the minor
 * collections and fills the old space, not what stays live.
 */
export class AllocationSampler extends InspectorRecording {
  constructor() {
    super(
      (session) =>
        session.post("HeapProfiler.startSampling", {
          samplingInterval: SAMPLING_INTERVAL_BYTES,
          includeObjectsCollectedByMajorGC: true,
          includeObjectsCollectedByMinorGC: true,
        }),
      async (session) => (await session.post("HeapProfiler.stopSampling")).profile,
    );
  }
}

/**
 * V8's CPU profiler between start() and stop(), written as a .cpuprofile: where one measured
 * window's CPU went, without the start-up and the connects that a whole-process profile mixes in.
 */
export class CpuSampler extends InspectorRecording {
  constructor() {
    super(
      async (session) => {
        await session.post("Profiler.enable");
        await session.post("Profiler.start");
      },
      async (session) => (await session.post("Profiler.stop")).profile,
    );
  }
}
