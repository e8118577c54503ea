import { Prisma, type PrismaClient } from "../../generated/prisma/client.ts";
import type { Country, GoalStatus, WellnessBand } from "../../generated/prisma/enums.ts";

export interface UserRow {
  id: string;
  country: Country;
}

export interface SnapshotRow {
  userId: string;
  snapshotDate: Date;
  score: number;
  band: WellnessBand;
  trend30d: number;
  factors: unknown;
  actionPlan: unknown;
  computedAt: Date;
  nextReviewAt: Date;
}

export interface GoalRow {
  id: string;
  userId: string;
  kind: string;
  name: string;
  targetAmount: Prisma.Decimal;
  currentAmount: Prisma.Decimal;
  currency: string;
  targetDate: Date | null;
  status: GoalStatus;
}

export const USERS_PAGE = { default: 20, max: 100 } as const;
export const HISTORY_MONTHS = { min: 1, max: 24 } as const;

export class WellnessService {
  constructor(private readonly prisma: PrismaClient) {}

  usersByIds(ids: readonly string[]): Promise<UserRow[]> {
    return this.prisma.user.findMany({ where: { id: { in: [...ids] } }, select: { id: true, country: true } });
  }

  /** Users ordered by id after `afterId`, optionally only those whose latest band is `band`; one extra row tells whether more exist. */
  pageOfUsers(options: { limit: number; afterId?: string; band?: WellnessBand }): Promise<UserRow[]> {
    const after = options.afterId ?? "";
    if (!options.band) {
      return this.prisma.user.findMany({
        where: { id: { gt: after } },
        orderBy: { id: "asc" },
        take: options.limit,
        select: { id: true, country: true },
      });
    }
    return this.prisma.$queryRaw<UserRow[]>`
      SELECT u.id, u.country::text AS country
      FROM app_user u
      JOIN LATERAL (
        SELECT s.band FROM wellness_snapshot s WHERE s.user_id = u.id ORDER BY s.snapshot_date DESC LIMIT 1
      ) latest ON true
      WHERE u.id > ${after} AND latest.band = ${options.band}::"WellnessBand"
      ORDER BY u.id
      LIMIT ${options.limit}`;
  }

  async countUsers(band?: WellnessBand): Promise<number> {
    if (!band) return this.prisma.user.count();
    const [row] = await this.prisma.$queryRaw<{ count: bigint }[]>`
      SELECT count(*) AS count FROM (
        SELECT DISTINCT ON (s.user_id) s.band FROM wellness_snapshot s ORDER BY s.user_id, s.snapshot_date DESC
      ) latest WHERE latest.band = ${band}::"WellnessBand"`;
    return Number(row?.count ?? 0);
  }

  latestSnapshots(userIds: readonly string[]): Promise<SnapshotRow[]> {
    return this.prisma.$queryRaw<SnapshotRow[]>`
      SELECT DISTINCT ON (user_id)
        user_id AS "userId", snapshot_date AS "snapshotDate", score, band::text AS band, trend_30d AS "trend30d",
        factors, action_plan AS "actionPlan", computed_at AS "computedAt", next_review_at AS "nextReviewAt"
      FROM wellness_snapshot
      WHERE user_id = ANY(${[...userIds]}::text[])
      ORDER BY user_id, snapshot_date DESC`;
  }

  snapshotsSince(userIds: readonly string[], months: number): Promise<Pick<SnapshotRow, "userId" | "snapshotDate" | "score" | "band">[]> {
    return this.prisma.wellnessSnapshot.findMany({
      where: { userId: { in: [...userIds] }, snapshotDate: { gte: monthsAgo(months) } },
      orderBy: [{ userId: "asc" }, { snapshotDate: "asc" }],
      select: { userId: true, snapshotDate: true, score: true, band: true },
    });
  }

  goals(userIds: readonly string[]): Promise<GoalRow[]> {
    return this.prisma.savingsGoal.findMany({
      where: { userId: { in: [...userIds] } },
      orderBy: [{ userId: "asc" }, { createdAt: "asc" }, { id: "asc" }],
    });
  }
}

function monthsAgo(months: number): Date {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - months, now.getUTCDate()));
}
