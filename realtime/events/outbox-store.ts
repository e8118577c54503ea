import { Prisma } from "../../generated/prisma/client.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import type { BusEvent } from "./event-bus.ts";

interface OutboxRow {
  position: bigint;
  id: bigint;
  topic: string;
  aggregateId: string;
  country: string;
  payload: unknown;
  createdAt: Date;
}

/** An outbox row as a BusEvent reads it. */
const COLUMNS = Prisma.raw(`position, id, topic, aggregate_id AS "aggregateId", country::text AS country, payload, created_at AS "createdAt"`);

/** Reads published outbox rows by position: the record every consumer can replay from. */
export class OutboxStore {
  constructor(private readonly prisma: PrismaClient) {}

  async readAfter(position: bigint, limit: number): Promise<BusEvent[]> {
    const rows = await this.prisma.$queryRaw<OutboxRow[]>`
      SELECT ${COLUMNS} FROM outbox_event WHERE position > ${position} ORDER BY position LIMIT ${limit}`;
    return rows.map(toBusEvent);
  }

  /** Rows of `topics` with a position in (after, upTo], in position order, at most `limit`. */
  async readTopics(after: bigint, upTo: bigint, topics: readonly string[], limit: number): Promise<BusEvent[]> {
    const rows = await this.prisma.$queryRaw<OutboxRow[]>`
      SELECT ${COLUMNS} FROM outbox_event
      WHERE position > ${after} AND position <= ${upTo} AND topic = ANY(${[...topics]}::text[])
      ORDER BY position LIMIT ${limit}`;
    return rows.map(toBusEvent);
  }

  /** Rows a relay positioned but never announced (it died in between), in position order. */
  async readUnannounced(limit: number): Promise<BusEvent[]> {
    const rows = await this.prisma.$queryRaw<OutboxRow[]>`
      SELECT ${COLUMNS} FROM outbox_event WHERE position IS NOT NULL AND published_at IS NULL ORDER BY position LIMIT ${limit}`;
    return rows.map(toBusEvent);
  }

  async head(): Promise<bigint> {
    const [row] = await this.prisma.$queryRaw<{ head: bigint | null }[]>`SELECT max(position) AS head FROM outbox_event`;
    return row?.head ?? 0n;
  }
}

export function toBusEvent(row: OutboxRow): BusEvent {
  return {
    position: BigInt(row.position),
    outboxId: BigInt(row.id),
    topic: row.topic,
    aggregateId: row.aggregateId,
    country: row.country,
    payload: row.payload,
    createdAt: row.createdAt,
  };
}
