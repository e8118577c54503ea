// The bench's heap instruments for the thread they run in: a full collection on demand, and a
// sampler of every allocation between start() and stop().
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

/**
 * Samples every allocation between start() and stop(), garbage included (V8's sampling heap
 * profiler with the objects later collected kept in), and writes the profile as a .heapprofile
 * that Chrome DevTools opens. That is allocation rate by call stack: what makes the minor
 * collections and fills the old space, not what stays live.
 */
export class AllocationSampler {
  private session: Session | undefined;

  async start(): Promise<void> {
    if (this.session) return;
    const session = new Session();
    session.connect();
    await session.post("HeapProfiler.startSampling", {
      samplingInterval: SAMPLING_INTERVAL_BYTES,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    this.session = session;
  }

  /** Writes what was sampled since start() to `file`; false when nothing was being sampled. */
  async stop(file: string): Promise<boolean> {
    const session = this.session;
    if (!session) return false;
    this.session = undefined;
    const { profile } = await session.post("HeapProfiler.stopSampling");
    session.disconnect();
    writeFileSync(file, JSON.stringify(profile));
    return true;
  }
}
