import { randomUUID } from "node:crypto";
import type { PrismaClient } from "../../platform/database/database.ts";
import type { Logger } from "../../platform/logger.ts";
import { DrainLoop } from "./drain-loop.ts";
import type { BusEvent } from "./event-bus.ts";
import { OutboxStore } from "./outbox-store.ts";

export interface EventConsumerOptions {
  /** The consumer's row in `event_consumer`: every instance running this name shares one position. */
  name: string;
  /** The topics handed to `handle`; the position moves past the others without them. */
  topics: readonly string[];
  /**
   * Handles events in position order, a batch at a time. At least once: an instance that dies
   * between handling a batch and recording it leaves the batch to be handled again.
   */
  handle(events: readonly BusEvent[]): Promise<void>;
  /** Events of its topics handled per batch (default 100). */
  batchSize?: number;
  /** Positions looked through per batch for its topics (default 10,000): other topics are never read. */
  window?: number;
  /** Safety net beside the wake-ups (default 1000). */
  pollIntervalMs?: number;
  /** How long a batch is one instance's alone; one that dies holding it frees it after this (default 60 s). */
  leaseMs?: number;
}

/**
 * A durable consumer of the outbox: reads published events by position (dense, so nothing is
 * skipped), hands its topics to a handler, and records how far it got in the database, so a
 * restart resumes where the last run stopped. Safe to run in every instance: one statement
 * leases the consumer's row only when it is free and there are events after its position, and
 * the statement that records the new position also gives the lease up, and only for the holder.
 * No transaction is held while the handler runs (the embedded PGlite runs one at a time).
 */
export class EventConsumer {
  private readonly owner = randomUUID();
  private readonly store: OutboxStore;
  private readonly loop = new DrainLoop(
    () => this.runOnce(),
    (error) => this.logger.error({ err: error, consumer: this.options.name }, "outbox consumer run failed; retrying on the next wake-up"),
  );

  constructor(
    private readonly prisma: PrismaClient,
    private readonly logger: Logger,
    private readonly options: EventConsumerOptions,
  ) {
    this.store = new OutboxStore(prisma);
  }

  async start(): Promise<void> {
    await this.prisma.$executeRaw`INSERT INTO event_consumer (name) VALUES (${this.options.name}) ON CONFLICT (name) DO NOTHING`;
    this.loop.pollEvery(this.options.pollIntervalMs ?? 1_000);
    this.wake();
  }

  /** True for an event of one of the consumer's topics: hearing one is a reason to wake it. */
  wants(event: BusEvent): boolean {
    return this.options.topics.includes(event.topic);
  }

  wake(): void {
    this.loop.wake();
  }

  /**
   * Leases the row, handles the next batch and records it; returns how many positions it moved past
   * (0 when there was nothing, or another instance holds the lease: that one drains what is there).
   */
  async runOnce(): Promise<number> {
    const claimed = await this.claim();
    if (claimed === undefined) return 0;
    const { position, head } = claimed;
    const batchSize = this.options.batchSize ?? 100;
    // Positions are dense and become visible in order, so everything up to `upTo` is there to read.
    const window = BigInt(this.options.window ?? 10_000);
    const upTo = head < position + window ? head : position + window;
    const events = await this.store.readTopics(position, upTo, this.options.topics, batchSize);
    if (events.length > 0) await this.options.handle(events);
    const last = events.length === batchSize ? events[events.length - 1]!.position : upTo;
    if (!(await this.record(last))) {
      this.logger.warn({ consumer: this.options.name, position: last.toString() }, "outbox consumer lease expired mid-batch; another instance handles it again");
      return 0;
    }
    return Number(last - position);
  }

  /** No new runs; resolves when the current one, if any, has recorded its batch. */
  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** The position to read after and the outbox's last one, when this instance now holds the lease and there is something to read. */
  private async claim(): Promise<{ position: bigint; head: bigint } | undefined> {
    const [row] = await this.prisma.$queryRaw<{ position: bigint; head: bigint }[]>`
      UPDATE event_consumer c SET lease_owner = ${this.owner}, leased_until = now() + ${this.options.leaseMs ?? 60_000}::int * interval '1 millisecond'
      WHERE c.name = ${this.options.name}
        AND (c.lease_owner IS NULL OR c.lease_owner = ${this.owner} OR c.leased_until < now())
        AND EXISTS (SELECT 1 FROM outbox_event o WHERE o.position > c.position)
      RETURNING c.position, (SELECT max(o.position) FROM outbox_event o) AS head`;
    return row === undefined ? undefined : { position: BigInt(row.position), head: BigInt(row.head) };
  }

  /** Records the batch and gives the lease up; false when the lease was no longer this instance's. */
  private async record(position: bigint): Promise<boolean> {
    const updated = await this.prisma.$executeRaw`
      UPDATE event_consumer SET position = GREATEST(position, ${position}), lease_owner = NULL, leased_until = NULL
      WHERE name = ${this.options.name} AND lease_owner = ${this.owner}`;
    return updated === 1;
  }
}
