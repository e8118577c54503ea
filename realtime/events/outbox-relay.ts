import { Prisma } from "../../generated/prisma/client.ts";
import type { DatabaseTarget, PrismaClient } from "../../platform/database/database.ts";
import { queryRows } from "../../platform/database/prepared-reads.ts";
import type { Logger } from "../../platform/logger.ts";
import { listen } from "../../platform/database/database-listener.ts";
import { DrainLoop } from "./drain-loop.ts";
import type { BusEvent, EventBus } from "./event-bus.ts";
import { OutboxStore, toBusEvent } from "./outbox-store.ts";

/** The outbox trigger's channel (prisma/migrations/*_realtime_event_position). */
export const OUTBOX_CHANNEL = "kamina_outbox";

export interface RelayOptions {
  batchSize?: number;
  /** Safety net beside the trigger's NOTIFY. */
  pollIntervalMs?: number;
  /**
   * A wake-up within this many ms of the last run's start waits for the window to end, so the
   * commits of a busy moment are positioned and announced by one run (RELAY_BATCH_WINDOW_MS); a
   * wake-up after a quiet spell runs at once. 0: every wake-up runs as soon as it can.
   */
  batchWindowMs?: number;
  /** Called after a run that created webhook deliveries has announced its events (the in-process dispatcher wakes up). */
  onDeliveries?: (created: number) => void;
  /** Called with the events each run positioned (an in-process outbox consumer wakes up for its topics). */
  onPositioned?: (events: readonly BusEvent[]) => void;
}

type PositionedRow = Parameters<typeof toBusEvent>[0] & { deliveries: number };

/**
 * Publishes committed outbox rows. One statement, the database function `relay_outbox`
 * (realtime/events/relay-outbox.sql), gives the next rows positions max+1, max+2, ...
 * in id order under an advisory lock that serialises every instance's relay, and creates their
 * webhook deliveries in the same transaction; a reader that has seen position n has seen every
 * position below it. On the PostgreSQL bus the same statement announces them (NOTIFY, delivered
 * on commit) and stamps `published_at`. On NATS the relay announces them afterwards and then
 * stamps them; rows with a position but no stamp (a relay that died in between) are announced
 * again on the next sweep, which consumers tolerate because they track positions.
 */
export class OutboxRelay {
  private readonly loop = new DrainLoop(
    () => this.runOnce(),
    (error) => this.logger.error({ err: error }, "outbox relay run failed; retrying on the next wake-up"),
  );
  private unlisten: (() => Promise<void>) | undefined;
  /** Look for rows positioned but never announced (a relay that died in between): at start and on every poll. */
  private sweepDue = true;
  private readonly store: OutboxStore;
  private lastRunAt = Number.NEGATIVE_INFINITY;
  private windowTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly database: DatabaseTarget,
    private readonly bus: EventBus,
    private readonly logger: Logger,
    private readonly options: RelayOptions = {},
  ) {
    this.store = new OutboxStore(prisma);
  }

  async start(): Promise<void> {
    this.unlisten = await listen(this.database, OUTBOX_CHANNEL, () => this.wake(), this.logger);
    this.loop.pollEvery(this.options.pollIntervalMs ?? 1_000, () => (this.sweepDue = true));
    this.wake();
  }

  wake(): void {
    if (this.windowTimer) return;
    const wait = this.lastRunAt + (this.options.batchWindowMs ?? 0) - performance.now();
    if (wait <= 0) return this.loop.wake();
    this.windowTimer = setTimeout(() => {
      this.windowTimer = undefined;
      this.loop.wake();
    }, wait);
  }

  /**
   * Assigns positions to one batch and announces it (on a poll tick, everything not yet announced,
   * in position order); returns how many it positioned when the batch was full, else 0.
   */
  async runOnce(): Promise<number> {
    this.lastRunAt = performance.now();
    const batch = this.options.batchSize ?? 500;
    // On the PostgreSQL bus the statement also announces them (NOTIFY on commit) and stamps them.
    const channel = this.bus.notifyChannel ?? null;
    const rows = await queryRows<PositionedRow>(this.prisma, Prisma.sql`SELECT * FROM relay_outbox(${batch}::int, ${channel}::text)`);
    const positioned = rows.map(toBusEvent);
    if (this.sweepDue) {
      this.sweepDue = false;
      await this.publishPending();
    } else if (positioned.length > 0 && channel === null) await this.announce(positioned);
    if (positioned.length > 0) this.options.onPositioned?.(positioned);
    const deliveries = rows[0]?.deliveries ?? 0;
    if (deliveries > 0) this.options.onDeliveries?.(deliveries);
    // A short batch took everything there was: the next commit's NOTIFY wakes the relay again.
    return positioned.length === batch ? positioned.length : 0;
  }

  /** Everything positioned and not yet announced, this run's rows included, in position order. */
  private async publishPending(): Promise<void> {
    const events = await this.store.readUnannounced(1_000);
    if (events.length > 0) await this.announce(events);
  }

  private async announce(events: readonly BusEvent[]): Promise<void> {
    await this.bus.publish(events);
    await this.prisma.$executeRaw`UPDATE outbox_event SET published_at = now() WHERE id = ANY(${events.map((event) => event.outboxId)}::bigint[]) AND published_at IS NULL`;
  }

  async stop(): Promise<void> {
    clearTimeout(this.windowTimer);
    this.windowTimer = undefined;
    await this.unlisten?.();
    await this.loop.stop();
  }
}
