import { Prisma, type PrismaClient } from "../../generated/prisma/client.ts";
import type { Country } from "../../generated/prisma/enums.ts";
import { queryRows } from "../../platform/database/prepared-reads.ts";
import { StatementBatcher } from "../../platform/database/statement-batcher.ts";
import { ALERT_COLUMNS, type AlertRow } from "./alert-row.ts";

const batchers = new WeakMap<PrismaClient, Map<string, StatementBatcher<string, AlertRow | undefined>>>();

/**
 * Alerts by id, read for every request that asks at the same moment in one statement: each
 * alert a subscription delivers is read back through this subgraph by its own request (the
 * subscriber's token), and the alerts of one busy moment arrive together. Requests share a
 * statement only when they share the database client (the same tenants, so the same rows are
 * visible to them) and the same tenant condition; each gets only the ids it asked for.
 */
export function alertsById(prisma: PrismaClient, tenant: readonly Country[], ids: readonly string[]): Promise<AlertRow[]> {
  let byTenant = batchers.get(prisma);
  if (!byTenant) batchers.set(prisma, (byTenant = new Map()));
  const key = [...tenant].sort().join(",");
  let batcher = byTenant.get(key);
  if (!batcher) {
    const countries = [...tenant];
    batcher = new StatementBatcher(async (asked) => {
      const rows = await queryRows<AlertRow>(prisma, Prisma.sql`
        SELECT ${ALERT_COLUMNS}
        FROM alert a
        WHERE a.id = ANY(${[...new Set(asked)]}::text[]) AND a.country::text = ANY(${countries}::text[])`);
      const found = new Map(rows.map((row) => [row.id, row]));
      return asked.map((id) => found.get(id));
    });
    byTenant.set(key, batcher);
  }
  const reading = batcher;
  return Promise.all(ids.map((id) => reading.add(id))).then((rows) => rows.filter((row): row is AlertRow => row !== undefined));
}
