// Pay-per-call metering: billable calls counted per partner client, product and UTC day in
// `usage_counter`. Where a call writes consent receipts (an operation that read personal data, an
// export's batch), its count is written by the receipts' own statement (gateway/scopes/receipts.ts,
// realtime/exports/wellness-export.ts), so counts and receipts are committed together or not at
// all; a webhook is counted by the statement that records it delivered. This module counts the
// calls that write no receipt, and reads the counts back.
import type { PrismaClient } from "../database/database.ts";
import { StatementBatcher } from "../database/statement-batcher.ts";

/** What is billed: an operation on /graphql, a REST data route (`rest:<operationId>`), a delivered webhook, an exported row. */
export const PRODUCTS = { graphql: "graphql", webhook: "webhook", exportRow: "export_row" } as const;

/** A REST route's product: its operationId in the OpenAPI document. */
export function restProduct(operationId: string): string {
  return `rest:${operationId}`;
}

interface Count {
  clientId: string;
  product: string;
  count: number;
}

/**
 * Counts calls that write no receipt. The counts of concurrent calls share one upsert
 * (StatementBatcher); the day is the database's UTC day when the statement runs.
 */
export class UsageCounter {
  private readonly batcher: StatementBatcher<Count, void>;

  constructor(private readonly prisma: PrismaClient) {
    this.batcher = new StatementBatcher((counts) => this.upsert(counts), 2000);
  }

  add(clientId: string, product: string, count = 1): Promise<void> {
    return this.batcher.add({ clientId, product, count });
  }

  private async upsert(counts: readonly Count[]): Promise<void[]> {
    // One row per (client, product): ON CONFLICT may not touch a row twice in one statement.
    const summed = new Map<string, Count>();
    for (const count of counts) {
      const key = `${count.clientId}\u0000${count.product}`;
      const known = summed.get(key);
      if (known) known.count += count.count;
      else summed.set(key, { ...count });
    }
    const rows = [...summed.values()];
    await this.prisma.$executeRaw`
      INSERT INTO usage_counter (client_id, product, day, count)
      SELECT u.client_id, u.product, (now() AT TIME ZONE 'UTC')::date, u.count
      FROM unnest(${rows.map((row) => row.clientId)}::text[], ${rows.map((row) => row.product)}::text[], ${rows.map((row) => row.count)}::int8[]) AS u(client_id, product, count)
      ON CONFLICT (client_id, product, day) DO UPDATE SET count = usage_counter.count + EXCLUDED.count`;
    return counts.map(() => undefined);
  }
}

export interface DailyUsage {
  /** YYYY-MM-DD, UTC. */
  day: string;
  product: string;
  count: number;
}

/** A client's counts, day by day from `from` to `to` (YYYY-MM-DD, both included), oldest first, then by product. */
export async function dailyUsage(prisma: PrismaClient, clientId: string, from: string, to: string): Promise<DailyUsage[]> {
  const rows = await prisma.$queryRaw<{ day: string; product: string; count: bigint }[]>`
    SELECT to_char(day, 'YYYY-MM-DD') AS day, product, count FROM usage_counter
    WHERE client_id = ${clientId} AND day BETWEEN ${from}::date AND ${to}::date
    ORDER BY day, product`;
  return rows.map((row) => ({ day: row.day, product: row.product, count: Number(row.count) }));
}

/** How many calls of `product` the client made in the current UTC month. */
export async function spentThisMonth(prisma: PrismaClient, clientId: string, product: string): Promise<bigint> {
  const [row] = await prisma.$queryRaw<{ spent: bigint }[]>`
    SELECT COALESCE(sum(count), 0)::int8 AS spent FROM usage_counter
    WHERE client_id = ${clientId} AND product = ${product} AND day >= date_trunc('month', now() AT TIME ZONE 'UTC')::date`;
  return row?.spent ?? 0n;
}

/** The client's monthly quotas (`usage_quota`), by product. */
export async function monthlyQuotas(prisma: PrismaClient, clientId: string): Promise<Map<string, bigint>> {
  const rows = await prisma.$queryRaw<{ product: string; limit: bigint }[]>`
    SELECT product, monthly_limit AS "limit" FROM usage_quota WHERE client_id = ${clientId}`;
  return new Map(rows.map((row) => [row.product, row.limit]));
}
