import { Prisma } from "../../generated/prisma/client.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import { queryRows } from "../../platform/database/prepared-reads.ts";
import { StatementBatcher } from "../../platform/database/statement-batcher.ts";

const BURST_MS = 1000;

/**
 * Each endpoint's rate limit, shared by every dispatcher on the database: `ratePerSecond`
 * sustained, bursts of the same size. The generic cell rate algorithm keeps one timestamp per
 * endpoint (`webhook_endpoint.rate_tat`, when the bucket would be empty again); taking places
 * moves it on by one interval per place under the row's lock, so two dispatchers never both take
 * the last place, and adding dispatchers never raises what a partner receives. The deliveries
 * that ask at the same moment take their places in one statement (one row lock per endpoint, not
 * one per delivery queued behind each other on the same row).
 */
export class EndpointRateLimit {
  private readonly intervalMs: number;
  private readonly places = new StatementBatcher<string, number>((endpointIds) => this.takeMany(endpointIds), 1000);

  constructor(
    private readonly prisma: PrismaClient,
    ratePerSecond: number,
  ) {
    this.intervalMs = 1000 / ratePerSecond;
  }

  /** 0 when a delivery may go now (and takes its place), else the ms to wait. */
  take(endpointId: string): Promise<number> {
    return this.places.add(endpointId);
  }

  /** One place per item; the first of an endpoint's items get the places it has, the rest the wait for theirs. */
  private async takeMany(endpointIds: readonly string[]): Promise<number[]> {
    const asked = new Map<string, number>();
    for (const id of endpointIds) asked.set(id, (asked.get(id) ?? 0) + 1);
    const rows = await queryRows<{ id: string; granted: number; firstWaitMs: number }>(this.prisma, Prisma.sql`
      WITH asked AS (
        SELECT * FROM unnest(${[...asked.keys()]}::text[], ${[...asked.values()]}::int[]) AS a(id, n)
      ), current AS (
        SELECT w.id, a.n, greatest(coalesce(w.rate_tat, now()), now()) AS tat
        FROM webhook_endpoint w JOIN asked a ON a.id = w.id
        ORDER BY w.id FOR UPDATE OF w
      ), granted AS (
        SELECT id, tat, least(n, greatest(0, floor((extract(epoch FROM now() - tat) * 1000 + ${BURST_MS}) / ${this.intervalMs}::float8)))::int AS granted
        FROM current
      ), taken AS (
        UPDATE webhook_endpoint w SET rate_tat = g.tat + g.granted * ${this.intervalMs}::float8 * interval '1 millisecond'
        FROM granted g WHERE w.id = g.id AND g.granted > 0
        RETURNING w.id
      )
      SELECT g.id, g.granted, (extract(epoch FROM g.tat - now()) * 1000 - ${BURST_MS})::float8 AS "firstWaitMs"
      FROM granted g`);
    const byId = new Map(rows.map((row) => [row.id, row]));
    const seen = new Map<string, number>();
    return endpointIds.map((id) => {
      const index = seen.get(id) ?? 0;
      seen.set(id, index + 1);
      const row = byId.get(id);
      // An endpoint gone since it was claimed: its delivery goes on to find that out.
      if (!row || index < row.granted) return 0;
      // Refused ones are spread over the places that free up after, not all sent back at once.
      return Math.max(1, Math.ceil(row.firstWaitMs + (index + 1) * this.intervalMs));
    });
  }
}
