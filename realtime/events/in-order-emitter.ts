import type { Logger } from "../../platform/logger.ts";
import type { BusEvent } from "./event-bus.ts";
import type { OutboxStore } from "./outbox-store.ts";

const READ_BATCH = 500;

/**
 * What a bus hands its process's listener: every position once, in order. Events heard live
 * are handed on at once when they follow on from the last one handed on. One further ahead (a
 * missed announcement, or two relays announcing out of order), an announcement that carries no
 * events, or a reconnect has the record read instead: once for the whole process, so a gap
 * never sends each of thousands of consumers back to the outbox on its own.
 */
export class InOrderEmitter {
  private reading: Promise<void> | undefined;
  /** Something was heard while the record was being read: read it again when done. */
  private again = false;
  private stopped = false;

  constructor(
    private emitted: bigint,
    private readonly store: OutboxStore,
    private readonly listener: (event: BusEvent) => void,
    private readonly logger: Logger,
  ) {}

  /** Events announced live, in the order announced. */
  heard(events: readonly BusEvent[]): void {
    if (this.stopped) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    for (const event of events) {
      if (event.position <= this.emitted) continue;
      if (event.position !== this.emitted + 1n) return this.catchUp();
      this.emitted = event.position;
      this.listener(event);
    }
  }

  /** The record has grown in ways not heard (a notice without events, a reconnect): read it. */
  catchUp(): void {
    if (this.stopped) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = this.drain()
      .catch((error: unknown) => this.logger.warn({ err: error }, "reading published events failed; the next announcement retries"))
      .finally(() => (this.reading = undefined));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.reading;
  }

  private async drain(): Promise<void> {
    do {
      this.again = false;
      for (;;) {
        const events = await this.store.readAfter(this.emitted, READ_BATCH);
        for (const event of events) {
          if (this.stopped) return;
          this.emitted = event.position;
          this.listener(event);
        }
        if (events.length < READ_BATCH) break;
      }
    } while (this.again && !this.stopped);
  }
}
