import { Prisma, type PrismaClient } from "../../generated/prisma/client.ts";
import type { Country, GoalStatus, WellnessBand } from "../../generated/prisma/enums.ts";
import type { AccessRule } from "../../platform/auth/access-rules.ts";
import { activeConsentOf, consentCovers } from "../../platform/auth/consent-grants.ts";
import { tenantOf } from "../../platform/auth/tenant.ts";
import type { Viewer } from "../../platform/auth/viewer.ts";
import { queryRows, type Nullable } from "../../platform/database/prepared-reads.ts";
import { consentUsersWithLatestSnapshot } from "./consent-users.ts";
import type { PartnerIds, PartnerRef } from "../../platform/partner-ids/partner-ids.ts";

export interface UserRow {
  id: string;
  country: Country;
}

/** A snapshot without its factors and action plan, the two large JSON columns: what a page of scores and bands needs. */
export interface SnapshotSummaryRow {
  userId: string;
  snapshotDate: Date;
  score: number;
  band: WellnessBand;
  trend30d: number;
  computedAt: Date;
  nextReviewAt: Date;
}

export interface SnapshotDetailsRow {
  userId: string;
  snapshotDate: Date;
  factors: unknown;
  actionPlan: unknown;
}

export type SnapshotRow = SnapshotSummaryRow & SnapshotDetailsRow;

/** A person's score on one day. */
export interface DailyScoreRow {
  userId: string;
  date: Date;
  score: number;
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

/** A snapshot's columns as SnapshotSummaryRow names them, from `wellness_snapshot s`. */
const SUMMARY_COLUMNS = Prisma.sql`s.user_id AS "userId", s.snapshot_date AS "snapshotDate", s.score, s.band::text AS band,
  s.trend_30d AS "trend30d", s.computed_at AS "computedAt", s.next_review_at AS "nextReviewAt"`;
/** And as SnapshotRow names them. */
const SNAPSHOT_COLUMNS = Prisma.sql`${SUMMARY_COLUMNS}, s.factors, s.action_plan AS "actionPlan"`;

export const USERS_PAGE = { default: 20, max: 100 } as const;

/**
 * Only the people whose latest band is `value`, among those whose consent for the caller covers
 * `consentFor` (what the band reveals, from the argument's `@argumentRequiresScopes`).
 */
export interface BandFilter {
  value: WellnessBand;
  consentFor: AccessRule;
}
export const HISTORY_MONTHS = { min: 1, max: 24 } as const;

/**
 * Reads for one request's viewer. Which people exist for the viewer is decided here, in SQL:
 * a consent token sees only its own person; a partner token sees only people who hold an
 * authorised, unexpired consent for that client and live in a country the client serves.
 * Per-person reads are confined to the viewer's tenant.
 */
export class WellnessService {
  private readonly tenant: readonly Country[];

  constructor(
    private readonly prisma: PrismaClient,
    private readonly viewer: Viewer,
    private readonly partnerIds: PartnerIds,
  ) {
    this.tenant = tenantOf(viewer);
  }

  /** The viewer's client's own ids for these people (issue 21, item 1); never another client's. */
  partnerRefs(ids: readonly string[]): Promise<Map<string, PartnerRef>> {
    return this.partnerIds.refsFor(this.viewer.clientId, ids);
  }

  /**
   * The visible people among `ids`, each with the summary of their latest snapshot in the
   * viewer's tenant (null when there is none). Resolving a person and reading their `wellness` is
   * the common pair (an alert's `user { wellness }`, `me { wellness }`), so both come from one
   * statement; the snapshot is one probe of the (user_id, snapshot_date) index when nobody asks
   * for it. With `details` the factors and action plan too (as pageOfUsersWithLatestSnapshot).
   */
  async usersWithLatestSnapshot(ids: readonly string[], details: boolean): Promise<(UserRow & { latest: SnapshotSummaryRow | null })[]> {
    const viewer = this.viewer;
    const columns = details ? SNAPSHOT_COLUMNS : SUMMARY_COLUMNS;
    // A consent token's requests of one moment (alerts delivered with their person's wellness) share a statement.
    const rows = viewer.kind === "consent"
      ? await consentUsersWithLatestSnapshot<UserRow & Nullable<SnapshotSummaryRow>>(this.prisma, columns, viewer, ids)
      : await queryRows<(UserRow & Nullable<SnapshotSummaryRow>)>(this.prisma, Prisma.sql`
      SELECT u.id, u.country::text AS country, ${columns}
      FROM app_user u
      LEFT JOIN LATERAL (
        -- The enum compared as itself: cast to text it has no statistics, and the planner sorted each person's snapshots instead of reading the newest from the index.
        SELECT * FROM wellness_snapshot s
        WHERE s.user_id = u.id AND s.country = ANY(${[...this.tenant]}::text[]::"Country"[])
        ORDER BY s.snapshot_date DESC LIMIT 1
      ) s ON true
      WHERE u.id = ANY(${[...ids]}::text[]) AND ${this.visible()}`);
    return rows.map(({ id, country, ...snapshot }) => ({ id, country, latest: snapshot.userId === null ? null : (snapshot as SnapshotSummaryRow) }));
  }

  /** Visible users ordered by id after `afterId`, optionally only those whose latest band is `band`; one extra row tells whether more exist. */
  pageOfUsers(options: { limit: number; afterId?: string; band?: BandFilter; country?: Country }): Promise<UserRow[]> {
    const after = options.afterId ?? "";
    const inCountry = countryCondition(options.country);
    if (!options.band) {
      return queryRows<UserRow>(this.prisma, Prisma.sql`
        SELECT u.id, u.country::text AS country FROM app_user u
        WHERE u.id > ${after} AND ${inCountry} AND ${this.visible(undefined, "one by one")}
        ORDER BY u.id
        LIMIT ${options.limit}`);
    }
    return this.pageOfUsersInBand(after, inCountry, options.limit, options.band);
  }

  /**
   * pageOfUsers (without a band) with each person's latest snapshot in the viewer's tenant, for
   * a page that asks for their `wellness`: one statement where the page and its snapshots took two.
   * With `details` the factors and action plan too; without, the summary (the two JSON columns
   * were two thirds of the statement's time for a page of scores and bands).
   */
  async pageOfUsersWithLatestSnapshot(options: { limit: number; afterId?: string; country?: Country; details: boolean }): Promise<(UserRow & { latest: SnapshotSummaryRow | null })[]> {
    const rows = await queryRows<(UserRow & Nullable<SnapshotSummaryRow>)>(this.prisma, Prisma.sql`
      SELECT u.id, u.country::text AS country, ${options.details ? SNAPSHOT_COLUMNS : SUMMARY_COLUMNS}
      FROM (
        SELECT u.id, u.country FROM app_user u
        WHERE u.id > ${options.afterId ?? ""} AND ${countryCondition(options.country)} AND ${this.visible(undefined, "one by one")}
        ORDER BY u.id
        LIMIT ${options.limit}
      ) u
      LEFT JOIN LATERAL (
        SELECT * FROM wellness_snapshot s
        WHERE s.user_id = u.id AND s.country = ANY(${[...this.tenant]}::text[]::"Country"[])
        ORDER BY s.snapshot_date DESC LIMIT 1
      ) s ON true
      ORDER BY u.id`);
    return rows.map(({ id, country, ...snapshot }) => ({ id, country, latest: snapshot.userId === null ? null : (snapshot as SnapshotSummaryRow) }));
  }

  private pageOfUsersInBand(after: string, inCountry: Prisma.Sql, limit: number, band: BandFilter): Promise<UserRow[]> {
    return queryRows<UserRow>(this.prisma, Prisma.sql`
      SELECT u.id, u.country::text AS country
      FROM app_user u
      JOIN LATERAL (
        SELECT s.band FROM wellness_snapshot s WHERE s.user_id = u.id ORDER BY s.snapshot_date DESC LIMIT 1
      ) latest ON true
      WHERE u.id > ${after} AND ${inCountry} AND latest.band = ${band.value}::"WellnessBand" AND ${this.visible(band.consentFor, "one by one")}
      ORDER BY u.id
      LIMIT ${limit}`);
  }

  async countUsers(band?: BandFilter, country?: Country): Promise<number> {
    const inCountry = countryCondition(country);
    const [row] = band
      ? await queryRows<{ count: bigint }>(this.prisma, Prisma.sql`
          SELECT count(*) AS count
          FROM app_user u
          JOIN LATERAL (
            SELECT s.band FROM wellness_snapshot s WHERE s.user_id = u.id ORDER BY s.snapshot_date DESC LIMIT 1
          ) latest ON true
          WHERE ${inCountry} AND latest.band = ${band.value}::"WellnessBand" AND ${this.visible(band.consentFor)}`)
      : await queryRows<{ count: bigint }>(this.prisma, Prisma.sql`SELECT count(*) AS count FROM app_user u WHERE ${inCountry} AND ${this.visible()}`);
    return Number(row?.count ?? 0);
  }

  /** The factors and action plan of these snapshots (a person and a day each), in the viewer's tenant. */
  snapshotDetails(snapshots: readonly { userId: string; snapshotDate: Date }[]): Promise<SnapshotDetailsRow[]> {
    return queryRows<SnapshotDetailsRow>(this.prisma, Prisma.sql`
      SELECT s.user_id AS "userId", s.snapshot_date AS "snapshotDate", s.factors, s.action_plan AS "actionPlan"
      FROM unnest(${snapshots.map((snapshot) => snapshot.userId)}::text[], ${snapshots.map((snapshot) => snapshot.snapshotDate.toISOString().slice(0, 10))}::date[]) AS k(user_id, snapshot_date)
      JOIN wellness_snapshot s ON s.user_id = k.user_id AND s.snapshot_date = k.snapshot_date
      WHERE s.country = ANY(${[...this.tenant]}::text[]::"Country"[])`);
  }

  latestSnapshots(userIds: readonly string[]): Promise<SnapshotRow[]> {
    return queryRows<SnapshotRow>(this.prisma, Prisma.sql`
      SELECT DISTINCT ON (s.user_id) ${SNAPSHOT_COLUMNS}
      FROM wellness_snapshot s
      WHERE s.user_id = ANY(${[...userIds]}::text[]) AND s.country::text = ANY(${[...this.tenant]}::text[])
      ORDER BY s.user_id, s.snapshot_date DESC`);
  }

  /**
   * Daily scores of the last `months` months, oldest first, in one statement: the compact daily
   * rows (wellness_daily, one per person and year) with each day's diagnosis (wellness_snapshot)
   * taking precedence over the stored score of that day.
   */
  dailyScoresSince(userIds: readonly string[], months: number): Promise<DailyScoreRow[]> {
    const since = monthsAgo(months);
    return this.prisma.$queryRaw<DailyScoreRow[]>`
      WITH daily AS (
        SELECT d.user_id, make_date(d.year, 1, 1) + (t.i::int - 1) AS day, t.score::int AS score
        FROM wellness_daily d CROSS JOIN LATERAL unnest(d.scores) WITH ORDINALITY AS t(score, i)
        WHERE d.user_id = ANY(${[...userIds]}::text[]) AND d.country::text = ANY(${[...this.tenant]}::text[])
          AND d.year >= ${since.getUTCFullYear()} AND t.score IS NOT NULL
      ), diagnosed AS (
        SELECT s.user_id, s.snapshot_date AS day, s.score
        FROM wellness_snapshot s
        WHERE s.user_id = ANY(${[...userIds]}::text[]) AND s.country::text = ANY(${[...this.tenant]}::text[]) AND s.snapshot_date >= ${since}::date
      )
      SELECT coalesce(g.user_id, d.user_id) AS "userId", coalesce(g.day, d.day) AS "date", coalesce(g.score, d.score) AS score
      FROM daily d FULL JOIN diagnosed g ON g.user_id = d.user_id AND g.day = d.day
      WHERE coalesce(g.day, d.day) >= ${since}::date
      ORDER BY 1, 2`;
  }

  goals(userIds: readonly string[]): Promise<GoalRow[]> {
    return this.prisma.savingsGoal.findMany({
      where: { userId: { in: [...userIds] }, country: { in: [...this.tenant] } },
      orderBy: [{ userId: "asc" }, { createdAt: "asc" }, { id: "asc" }],
    });
  }

  /**
   * The people this viewer may see, as a condition on `app_user u`; with `covering`, only those
   * whose consent grants it. A consent token's scopes are its consent's, checked before this runs.
   *
   * "one by one", for a page (people in id order, up to a limit): each person's consent is probed
   * in turn, so a page reads about as many people as it shows. As a join, the planner (its
   * estimates under the tenant policies far too low) hashed every person and consent of the
   * client's countries for every page: 2 ms of PostgreSQL a page at 2,000 people, growing with
   * the table. OFFSET 0 keeps the EXISTS a per-row probe (PostgreSQL does not turn it into a join).
   */
  private visible(covering?: AccessRule, oneByOne?: "one by one"): Prisma.Sql {
    const viewer = this.viewer;
    if (viewer.kind === "consent") return Prisma.sql`(u.id = ${viewer.userId} AND u.country = ${viewer.country}::"Country")`;
    const grants = covering ? Prisma.sql`AND ${consentCovers(covering)}` : Prisma.empty;
    const probe = oneByOne ? Prisma.sql`OFFSET 0` : Prisma.empty;
    return Prisma.sql`(u.country::text = ANY(${[...viewer.countries]}::text[])
      AND EXISTS (SELECT 1 FROM consent c WHERE c.user_id = u.id AND ${activeConsentOf(viewer)} ${grants} ${probe}))`;
  }
}

/** `app_user u` in `country`, or no condition. */
function countryCondition(country: Country | undefined): Prisma.Sql {
  return country ? Prisma.sql`u.country = ${country}::"Country"` : Prisma.sql`true`;
}

function monthsAgo(months: number): Date {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - months, now.getUTCDate()));
}
