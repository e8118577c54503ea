import type { Prisma } from "../../generated/prisma/client.ts";
import type { DatabaseTarget, PrismaClient } from "../../subgraphs/shared/database.ts";
import type { Logger } from "../logger.ts";
import { listen } from "./database-listener.ts";
import { DrainLoop } from "./drain-loop.ts";
import type { BusEvent, EventBus } from "./event-bus.ts";
import { toBusEvent } from "./outbox-store.ts";

/** The outbox trigger's channel (prisma/migrations/*_realtime_event_position). */
export const OUTBOX_CHANNEL = "kamina_outbox";
/** Serialises position assignment across every instance sharing the database. */
const RELAY_LOCK = 0x4f_55_54_42; // "OUTB"

/** Work done in the same transaction that publishes events (the webhook fan-out). */
export type PublishHook = (tx: Prisma.TransactionClient, events: readonly BusEvent[]) => Promise<void>;

export interface RelayOptions {
  batchSize?: number;
  /** Safety net beside the trigger's NOTIFY. */
  pollIntervalMs?: number;
  inTransaction?: PublishHook;
  /** Called after the bus has the events (in-process consumers such as the dispatcher wake up). */
  afterPublish?: (events: readonly BusEvent[]) => void;
}

/**
 * Publishes committed outbox rows. Under a transaction-scoped advisory lock it gives the next
 * rows positions max+1, max+2, ... in id order; because the lock serialises relays and the
 * positions become visible only when that transaction commits, a reader that has seen position
 * n has seen every position below it. Then it announces them on the bus and stamps
 * `published_at`; rows with a position but no stamp (a relay that died in between) are announced
 * again on the next run, which consumers tolerate because they track positions.
 */
export class OutboxRelay {
  private readonly loop = new DrainLoop(
    () => this.runOnce(),
    (error) => this.logger.error({ err: error }, "outbox relay run failed; retrying on the next wake-up"),
  );
  private timer: NodeJS.Timeout | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  /** Look for rows positioned but never announced (a relay that died in between): at start and on every poll. */
  private sweepDue = true;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly database: DatabaseTarget,
    private readonly bus: EventBus,
    private readonly logger: Logger,
    private readonly options: RelayOptions = {},
  ) {}

  async start(): Promise<void> {
    this.unlisten = await listen(this.database, OUTBOX_CHANNEL, () => this.wake(), this.logger);
    this.timer = setInterval(() => {
      this.sweepDue = true;
      this.wake();
    }, this.options.pollIntervalMs ?? 1_000);
    this.timer.unref();
    this.wake();
  }

  wake(): void {
    this.loop.wake();
  }

  /**
   * Assigns positions to one batch and announces it (on a poll tick, everything not yet announced,
   * in position order); returns how many it positioned when the batch was full, else 0.
   */
  async runOnce(): Promise<number> {
    const batch = this.options.batchSize ?? 500;
    const positioned = await this.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${RELAY_LOCK})`;
      const rows = await tx.$queryRaw<Parameters<typeof toBusEvent>[0][]>`
        WITH pending AS (
          SELECT id, row_number() OVER (ORDER BY id) AS n FROM outbox_event WHERE position IS NULL ORDER BY id LIMIT ${batch}
        ), base AS (SELECT coalesce(max(position), 0) AS p FROM outbox_event)
        UPDATE outbox_event o SET position = base.p + pending.n
        FROM pending, base WHERE o.id = pending.id
        RETURNING o.position, o.id, o.topic, o.aggregate_id AS "aggregateId", o.country::text AS country, o.payload, o.created_at AS "createdAt"`;
      const events = rows.map(toBusEvent).sort((a, b) => (a.position < b.position ? -1 : 1));
      if (events.length > 0 && this.options.inTransaction) await this.options.inTransaction(tx, events);
      return events;
    });
    if (this.sweepDue) {
      this.sweepDue = false;
      await this.publishPending();
    } else if (positioned.length > 0) await this.announce(positioned);
    // A short batch took everything there was: the next commit's NOTIFY wakes the relay again.
    return positioned.length === batch ? positioned.length : 0;
  }

  /** Everything positioned and not yet announced, this run's rows included, in position order. */
  private async publishPending(): Promise<void> {
    const rows = await this.prisma.$queryRaw<Parameters<typeof toBusEvent>[0][]>`
      SELECT position, id, topic, aggregate_id AS "aggregateId", country::text AS country, payload, created_at AS "createdAt"
      FROM outbox_event WHERE position IS NOT NULL AND published_at IS NULL ORDER BY position LIMIT 1000`;
    if (rows.length > 0) await this.announce(rows.map(toBusEvent));
  }

  private async announce(events: readonly BusEvent[]): Promise<void> {
    await this.bus.publish(events);
    await this.prisma.$executeRaw`UPDATE outbox_event SET published_at = now() WHERE id = ANY(${events.map((event) => event.outboxId)}::bigint[]) AND published_at IS NULL`;
    this.options.afterPublish?.(events);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.unlisten?.();
    await this.loop.stop();
  }
}
