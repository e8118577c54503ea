import type { DatabaseTarget, PrismaClient } from "../../platform/database/database.ts";
import type { Logger } from "../../platform/logger.ts";
import { listen } from "../../platform/database/database-listener.ts";
import { fromWire, type BusEvent, type EventBus, type WireEvent } from "./event-bus.ts";
import { InOrderEmitter } from "./in-order-emitter.ts";
import { OutboxStore } from "./outbox-store.ts";

export const EVENTS_CHANNEL = "kamina_events";

/**
 * The default bus: the relay's NOTIFYs (sent by relay_outbox, prisma/migrations) say "the record
 * grew" and carry the events themselves, a run's events split over as many notices as they need,
 * so an instance that is up to date hands them on without a read. An instance that is behind, a
 * notice without events (an event too large for one, or a sweep's re-announcement), or a
 * reconnect reads the new rows by position instead. Works on PostgreSQL and PGlite.
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

  /**
   * Announces again what a relay positioned and never announced (relay_outbox announces the rest
   * itself): by the last position alone, so every instance reads those rows from the record.
   */
  async publish(events: readonly BusEvent[]): Promise<void> {
    const last = events.at(-1);
    if (!last) return;
    await this.prisma.$executeRaw`SELECT pg_notify(${EVENTS_CHANNEL}, ${last.position.toString()})`;
  }

  async subscribe(listener: (event: BusEvent) => void): Promise<() => Promise<void>> {
    const emitter = new InOrderEmitter(await this.store.head(), this.store, listener, this.logger);
    const unlisten = await listen(this.database, EVENTS_CHANNEL, (notice) => {
      const carried = carriedEvents(notice);
      if (carried) emitter.heard(carried);
      else emitter.catchUp();
    }, this.logger);
    return async () => {
      await emitter.stop();
      await unlisten();
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

/** The events a notice carries; undefined for a bare position, a reconnect's empty notice, or one that cannot be read. */
function carriedEvents(notice: string): BusEvent[] | undefined {
  if (!notice.startsWith("[")) return undefined;
  try {
    return (JSON.parse(notice) as WireEvent[]).map(fromWire);
  } catch {
    return undefined;
  }
}
