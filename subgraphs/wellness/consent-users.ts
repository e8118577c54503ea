import { Prisma, type PrismaClient } from "../../generated/prisma/client.ts";
import type { Country } from "../../generated/prisma/enums.ts";
import { queryRows } from "../../platform/database/prepared-reads.ts";
import { StatementBatcher } from "../../platform/database/statement-batcher.ts";

/** One person asked for by a consent token's request: visible only when it is the token's own person, in its country. */
interface Asked {
  id: string;
  viewerUserId: string;
  country: Country;
}

/** Per database client, a batcher per column list. */
const batchers = new WeakMap<PrismaClient, Map<string, StatementBatcher<Asked, Record<string, unknown> | undefined>>>();

/**
 * `User` entities with their latest snapshot, for consent tokens, read for every request that asks
 * at the same moment in one statement: each alert delivered with `user { wellness { ... } }` is
 * one request of its own (its subscriber's token), and the alerts of a busy moment come together.
 * Each asked id carries its own request's visibility condition (the token's person and country,
 * as WellnessService.visible says for a consent token) and the snapshot's tenant condition, so a
 * request gets exactly the rows its own statement would have given it. Requests share a statement
 * only when they share the database client (the same tenants).
 */
export function consentUsersWithLatestSnapshot<Row>(prisma: PrismaClient, columns: Prisma.Sql, viewer: { userId: string; country: Country }, ids: readonly string[]): Promise<Row[]> {
  let byColumns = batchers.get(prisma);
  if (!byColumns) batchers.set(prisma, (byColumns = new Map()));
  let batcher = byColumns.get(columns.text);
  if (!batcher) {
    batcher = new StatementBatcher(async (asked) => {
      const rows = await queryRows<{ n: bigint } & Record<string, unknown>>(prisma, Prisma.sql`
        SELECT q.n, u.id, u.country::text AS country, ${columns}
        FROM unnest(${asked.map((item) => item.id)}::text[], ${asked.map((item) => item.viewerUserId)}::text[], ${asked.map((item) => item.country)}::text[])
          WITH ORDINALITY AS q(id, viewer_user_id, viewer_country, n)
        JOIN app_user u ON u.id = q.id AND u.id = q.viewer_user_id AND u.country = q.viewer_country::"Country"
        LEFT JOIN LATERAL (
          SELECT * FROM wellness_snapshot s
          WHERE s.user_id = u.id AND s.country = q.viewer_country::"Country"
          ORDER BY s.snapshot_date DESC LIMIT 1
        ) s ON true`);
      const byPosition = new Map(rows.map(({ n, ...row }) => [Number(n), row]));
      return asked.map((_, index) => byPosition.get(index + 1));
    });
    byColumns.set(columns.text, batcher);
  }
  const reading = batcher;
  return Promise.all(ids.map((id) => reading.add({ id, viewerUserId: viewer.userId, country: viewer.country }))).then((rows) =>
    rows.filter((row): row is Record<string, unknown> => row !== undefined).map((row) => row as Row),
  );
}
