import type { DatabaseTarget, PrismaClient } from "../../subgraphs/shared/database.ts";
import type { Logger } from "../logger.ts";
import { listen } from "./database-listener.ts";
import { fromWire, toWire, type BusEvent, type EventBus, type WireEvent } from "./event-bus.ts";
import { OutboxStore } from "./outbox-store.ts";

export const EVENTS_CHANNEL = "kamina_events";
const READ_BATCH = 500;
/** NOTIFY payloads must stay under 8000 bytes: a bigger batch is announced by its last position alone (relay_outbox too). */
const MAX_CARRIED_BYTES = 7_900;

/**
 * The default bus: the relay's NOTIFY says "the record grew" and, when the batch fits in the
 * payload, carries the events themselves, so an instance that is up to date hands them on
 * without a read. An instance that is behind, a notice without events, or a reconnect reads
 * the new rows by position instead. Works on PostgreSQL and on PGlite.
 */
export class PostgresEventBus implements EventBus {
  readonly kind = "postgres";
  readonly notifyChannel = EVENTS_CHANNEL;
  private readonly store: OutboxStore;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly database: DatabaseTarget,
    private readonly logger: Logger,
  ) {
    this.store = new OutboxStore(prisma);
  }

  async publish(events: readonly BusEvent[]): Promise<void> {
    const last = events.at(-1);
    if (!last) return;
    const carried = JSON.stringify(events.map(toWire));
    const notice = Buffer.byteLength(carried) <= MAX_CARRIED_BYTES ? carried : last.position.toString();
    await this.prisma.$executeRaw`SELECT pg_notify(${EVENTS_CHANNEL}, ${notice})`;
  }

  async subscribe(listener: (event: BusEvent) => void): Promise<() => Promise<void>> {
    let emitted = await this.store.head();
    let reading: Promise<void> | undefined;
    let again = false;
    let stopped = false;
    const drain = async () => {
      do {
        again = false;
        for (;;) {
          const events = await this.store.readAfter(emitted, READ_BATCH);
          for (const event of events) {
            if (stopped) return;
            emitted = event.position;
            listener(event);
          }
          if (events.length < READ_BATCH) break;
        }
      } while (again && !stopped);
    };
    /** Hands on the events a notice carries when they follow on from `emitted`; false when the record must be read. */
    const handOnCarried = (notice: string): boolean => {
      if (!notice.startsWith("[")) return false;
      let events: BusEvent[];
      try {
        events = (JSON.parse(notice) as WireEvent[]).map(fromWire);
      } catch {
        return false;
      }
      const fresh = events.filter((event) => event.position > emitted);
      if (fresh[0] !== undefined && fresh[0].position !== emitted + 1n) return false;
      for (const event of fresh) {
        if (stopped) break;
        emitted = event.position;
        listener(event);
      }
      return true;
    };
    const wake = (notice: string) => {
      if (!reading && handOnCarried(notice)) return;
      if (reading) {
        again = true;
        return;
      }
      reading = drain()
        .catch((error: unknown) => this.logger.warn({ err: error }, "reading published events failed; the next notification retries"))
        .finally(() => (reading = undefined));
    };
    const unlisten = await listen(this.database, EVENTS_CHANNEL, wake, this.logger);
    return async () => {
      stopped = true;
      await unlisten();
      await reading;
    };
  }

  readAfter(position: bigint, limit: number): Promise<BusEvent[]> {
    return this.store.readAfter(position, limit);
  }

  head(): Promise<bigint> {
    return this.store.head();
  }

  async close(): Promise<void> {}
}
