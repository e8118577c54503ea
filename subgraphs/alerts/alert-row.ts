// An alert as the alerts subgraph reads it: the row type and the columns that fill it.
import { Prisma } from "../../generated/prisma/client.ts";
import type { AlertStatus, Severity, WellnessBand } from "../../generated/prisma/enums.ts";

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

/** An alert's columns as AlertRow names them, from `alert a`. */
export const ALERT_COLUMNS = Prisma.sql`a.id, a.user_id AS "userId", a.type, a.risk_band::text AS "riskBand", a.severity::text AS severity,
  a.contributing_factors AS "contributingFactors", a.suggested_action AS "suggestedAction",
  a.status::text AS status, a.created_at AS "createdAt", a.acknowledged_at AS "acknowledgedAt", a.resolved_at AS "resolvedAt"`;

