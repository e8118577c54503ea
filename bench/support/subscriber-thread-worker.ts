// The worker side of subscriber-thread.ts: one SubscriberPool, driven by messages.
import { performance } from "node:perf_hooks";
import { parentPort, workerData } from "node:worker_threads";
import { AllocationSampler, collectGarbage } from "./inspector-tools.ts";
import { LoopWatch } from "./loop-watch.ts";
import { SubscriberPool, type SubscriberSpec } from "./realtime-subscribers.ts";
import type { WorkerCall, WorkerMessage } from "./subscriber-thread.ts";

const port = parentPort!;
const { wsUrl, specs } = workerData as { wsUrl: string; specs: SubscriberSpec[] };
const post = (message: WorkerMessage) => port.postMessage(message);
const pool = new SubscriberPool(wsUrl, specs);
const loop = new LoopWatch();
const allocations = new AllocationSampler();
pool.onArrival = ({ at, ...arrival }) => post({ type: "arrival", arrival, wallClockMs: performance.timeOrigin + at });
pool.onOpenChange = (index, open) => post({ type: "open", index, open });
pool.onCount = (counter, key) => post({ type: "count", counter, key });

async function answer(call: WorkerCall): Promise<unknown> {
  switch (call.call) {
    case "connect": {
      const report = await pool.connect(call.concurrency, call.ackTimeoutMs, (done) => post({ type: "progress", done }));
      return { ...report, failures: [...report.failures] };
    }
    case "subscribeAll":
      return pool.subscribeAll(call.query);
    case "loop":
      return loop.report(call.reset);
    case "collectGarbage":
      return collectGarbage();
    case "startAllocations":
      return allocations.start();
    case "stopAllocations":
      return allocations.stop(call.file);
    case "dispose":
      return pool.dispose();
  }
}

port.on("message", (message: WorkerCall & { id: number }) => {
  answer(message).then(
    (value) => post({ type: "reply", id: message.id, value }),
    (error: unknown) => post({ type: "reply", id: message.id, error: error instanceof Error ? error.message : String(error) }),
  );
});
