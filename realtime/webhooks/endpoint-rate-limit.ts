import type { PrismaClient } from "../../platform/database/database.ts";

/**
 * Each endpoint's rate limit, shared by every dispatcher on the database: `ratePerSecond`
 * sustained, bursts of the same size. The generic cell rate algorithm keeps one timestamp per
 * endpoint (`webhook_endpoint.rate_tat`, when the bucket would be empty again); taking a place
 * moves it on by one interval under the row's lock, so two dispatchers never both take the
 * last place, and adding dispatchers never raises what a partner receives.
 */
export class EndpointRateLimit {
  private readonly intervalMs: number;

  constructor(
    private readonly prisma: PrismaClient,
    ratePerSecond: number,
  ) {
    this.intervalMs = 1000 / ratePerSecond;
  }

  /** 0 when a delivery may go now (and takes its place), else the ms to wait. */
  async take(endpointId: string): Promise<number> {
    const burstMs = 1000;
    const [row] = await this.prisma.$queryRaw<{ waitMs: number }[]>`
      WITH current AS (
        SELECT id, greatest(coalesce(rate_tat, now()), now()) + ${this.intervalMs} * interval '1 millisecond' AS next_tat
        FROM webhook_endpoint WHERE id = ${endpointId} FOR UPDATE
      ), taken AS (
        UPDATE webhook_endpoint w SET rate_tat = c.next_tat
        FROM current c WHERE w.id = c.id AND c.next_tat <= now() + ${burstMs} * interval '1 millisecond'
        RETURNING w.id
      )
      SELECT CASE WHEN EXISTS (SELECT 1 FROM taken) THEN 0
                  ELSE greatest(1, ceil(extract(epoch FROM c.next_tat - now()) * 1000 - ${burstMs}))::int END AS "waitMs"
      FROM current c`;
    return row?.waitMs ?? 0;
  }
}
