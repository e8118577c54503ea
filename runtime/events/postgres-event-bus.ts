import type { DatabaseTarget, PrismaClient } from "../../subgraphs/shared/database.ts";
import type { Logger } from "../logger.ts";
import { listen } from "./database-listener.ts";
import type { BusEvent, EventBus } from "./event-bus.ts";
import { OutboxStore } from "./outbox-store.ts";

export const EVENTS_CHANNEL = "kamina_events";
const READ_BATCH = 500;

/**
 * The default bus: the relay's NOTIFY says "the record grew"; each instance then reads the new
 * rows once, by position, and hands them to its listeners. Works on PostgreSQL and on PGlite.
 */
export class PostgresEventBus implements EventBus {
  readonly kind = "postgres";
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
    await this.prisma.$executeRaw`SELECT pg_notify(${EVENTS_CHANNEL}, ${last.position.toString()})`;
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
    const wake = () => {
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
