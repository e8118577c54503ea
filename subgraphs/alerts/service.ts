import { Prisma, type PrismaClient } from "../../generated/prisma/client.ts";
import type { Country } from "../../generated/prisma/enums.ts";
import { ALERT_COLUMN_CHOICE, type AlertRow } from "./alert-row.ts";
import { alertFeedRows, type AlertFeedWindow } from "./alert-feed.ts";
import type { PreventionReports } from "./report-service.ts";
import { queryRows } from "../../platform/database/prepared-reads.ts";
import { alertsById } from "./alerts-by-id.ts";

export interface AlertWindow {
  since?: Date;
  limit: number;
  /** The columns read (ALERT_COLUMN_CHOICE.keysFor); the rows hold only these. */
  columns: readonly (keyof AlertRow)[];
}

export type { AlertRow };

export interface CohortTagRow {
  userId: string;
  tag: string;
  since: Date;
}

export const ALERTS_PAGE = { default: 20, max: 100 } as const;

export class AlertsService {
  constructor(
    private readonly prisma: PrismaClient,
    /** The viewer's tenants: every query is confined to them. */
    private readonly tenant: readonly Country[],
    /** Query.preventionReport, for this viewer. */
    readonly reports: PreventionReports,
  ) {}

  /** The newest `limit` alerts of each user since `since`: one statement for all users. */
  recentAlerts(userIds: readonly string[], window: AlertWindow): Promise<AlertRow[]> {
    const since = window.since ?? new Date(0);
    return queryRows<AlertRow>(this.prisma, Prisma.sql`
      SELECT recent.* FROM unnest(${[...userIds]}::text[]) AS u(id)
      CROSS JOIN LATERAL (
        SELECT ${ALERT_COLUMN_CHOICE.sql(window.columns)}
        FROM alert a
        WHERE a.user_id = u.id AND a.country::text = ANY(${[...this.tenant]}::text[]) AND a.created_at >= ${since}
        ORDER BY a.created_at DESC, a.id DESC
        LIMIT ${window.limit}
      ) recent`);
  }

  /** Each user's page of User.alertFeed (alert-feed.ts): one statement for all users. */
  alertFeed(userIds: readonly string[], window: AlertFeedWindow) {
    return alertFeedRows(this.prisma, this.tenant, userIds, window);
  }

  /** The current cohort tags of each user (cohort_tag): one statement for all users. */
  cohortTags(userIds: readonly string[]): Promise<CohortTagRow[]> {
    return queryRows<CohortTagRow>(this.prisma, Prisma.sql`
      SELECT c.user_id AS "userId", c.tag, c.since
      FROM cohort_tag c
      WHERE c.user_id = ANY(${[...userIds]}::text[]) AND c.country::text = ANY(${[...this.tenant]}::text[])`);
  }

  /** Every alert delivered to a subscriber is read here; concurrent requests share one statement (alerts-by-id.ts). */
  alertsByIds(ids: readonly string[]): Promise<AlertRow[]> {
    return alertsById(this.prisma, this.tenant, ids);
  }
}
