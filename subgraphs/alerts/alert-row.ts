// An alert as the alerts subgraph reads it: the row type and the columns that fill it.
import { Prisma } from "../../generated/prisma/client.ts";
import type { AlertStatus, Severity, WellnessBand } from "../../generated/prisma/enums.ts";
import { ColumnChoice } from "../shared/column-choice.ts";

export interface AlertRow {
  id: string;
  userId: string;
  type: string;
  riskBand: WellnessBand;
  severity: Severity;
  contributingFactors: string[];
  suggestedAction: string;
  status: AlertStatus;
  createdAt: Date;
  acknowledgedAt: Date | null;
  resolvedAt: Date | null;
}

/** An alert's columns as AlertRow names them, from `alert a`; `user` reads the person's id. */
export const ALERT_COLUMN_CHOICE = new ColumnChoice<keyof AlertRow>(
  {
    id: Prisma.sql`a.id`,
    userId: Prisma.sql`a.user_id AS "userId"`,
    type: Prisma.sql`a.type`,
    riskBand: Prisma.sql`a.risk_band::text AS "riskBand"`,
    severity: Prisma.sql`a.severity::text AS severity`,
    contributingFactors: Prisma.sql`a.contributing_factors AS "contributingFactors"`,
    suggestedAction: Prisma.sql`a.suggested_action AS "suggestedAction"`,
    status: Prisma.sql`a.status::text AS status`,
    createdAt: Prisma.sql`a.created_at AS "createdAt"`,
    acknowledgedAt: Prisma.sql`a.acknowledged_at AS "acknowledgedAt"`,
    resolvedAt: Prisma.sql`a.resolved_at AS "resolvedAt"`,
  },
  { user: [] },
  ["userId"],
);

/** Every column of an alert. */
export const ALERT_COLUMNS = ALERT_COLUMN_CHOICE.sql(ALERT_COLUMN_CHOICE.all);

