// `Query.preventionReport`: how a partner's prevention alerts of one period turned into handled
// cases, as aggregates only. Counted: the alerts created in the period of the people whose
// authorised consent for this client covers alerts.read today, in the client's countries; test
// alerts of the sandbox trigger are not. Every figure goes through small-cell suppression
// (domain/reports/suppression.ts) before it leaves this module.
import type { Country } from "../../generated/prisma/enums.ts";
import { graphQLError, badUserInput } from "../../platform/errors.ts";
import { consentCovers } from "../../platform/auth/consent-coverage.ts";
import type { Viewer } from "../../platform/auth/viewer.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import { parsePeriod, PeriodError, type ReportPeriod } from "../../domain/reports/period.ts";
import { showBreakdown, showMedian, showPart, showTally, type ShownTally, type Tally } from "../../domain/reports/suppression.ts";
import { RULES } from "../../domain/prevention/rules.ts";

/** The dimensions alerts are counted by, in the report's order. */
export const REPORT_DIMENSIONS = ["type", "severity", "riskBand", "country", "segment"] as const;
export type ReportDimension = (typeof REPORT_DIMENSIONS)[number];

/** A person's segment: their wellness band by the latest diagnosis computed before the alert, or none yet. */
export const SEGMENTS = ["GREEN", "AMBER", "RED", "UNSCORED"] as const;

/** Values listed even when nothing falls in them, so every period's report has the same rows. */
const FIXED_KEYS: Record<Exclude<ReportDimension, "country">, readonly string[]> = {
  type: [...new Set(RULES.rules.map((rule) => rule.definition.type))].sort(),
  severity: ["LOW", "MEDIUM", "HIGH", "CRITICAL"],
  riskBand: ["GREEN", "AMBER", "RED"],
  segment: SEGMENTS,
};

export type ReportCell = { key: string } & ShownTally;

export interface ReportOutcomes {
  acknowledged: number | null;
  resolved: number | null;
  medianHoursToAcknowledge: number | null;
  medianHoursToResolve: number | null;
  /** The names of the members above that are withheld (null because of suppression, not for want of data). */
  suppressed: string[];
}

export interface PreventionReport {
  period: string;
  from: string;
  to: string;
  clientId: string;
  minCell: number;
  generatedAt: Date;
  totals: ReportCell;
  byType: ReportCell[];
  bySeverity: ReportCell[];
  byRiskBand: ReportCell[];
  byCountry: ReportCell[];
  bySegment: ReportCell[];
  outcomes: ReportOutcomes;
}

/** One row of the report statement: a grouping set's figures (`dimension` "total" for the grand total). */
interface GroupRow {
  dimension: ReportDimension | "total";
  key: string | null;
  alerts: number;
  people: number;
  acknowledged: number;
  acknowledgedPeople: number;
  unacknowledgedPeople: number;
  resolved: number;
  resolvedPeople: number;
  unresolvedPeople: number;
  medianHoursToAcknowledge: number | null;
  medianHoursToResolve: number | null;
}

/** The grand total over no alerts (PostgreSQL returns one for the empty grouping set anyway). */
const NOTHING: GroupRow = {
  dimension: "total",
  key: null,
  alerts: 0,
  people: 0,
  acknowledged: 0,
  acknowledgedPeople: 0,
  unacknowledgedPeople: 0,
  resolved: 0,
  resolvedPeople: 0,
  unresolvedPeople: 0,
  medianHoursToAcknowledge: null,
  medianHoursToResolve: null,
};

export class PreventionReports {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly viewer: Viewer,
    /** REPORT_MIN_CELL: figures standing on fewer people are withheld. */
    private readonly minCell: number,
  ) {}

  async report(periodText: string, now: Date = new Date()): Promise<PreventionReport> {
    const viewer = this.viewer;
    // The SDL asks for reports.read, which only a client holds; a consent token never gets here through the gateway.
    if (viewer.kind !== "client") throw graphQLError("FORBIDDEN", "The prevention report is a partner's: ask with a client-credentials token holding reports.read");
    let period: ReportPeriod;
    try {
      period = parsePeriod(periodText);
    } catch (error) {
      if (error instanceof PeriodError) throw badUserInput(error.message, "period");
      throw error;
    }
    const rows = await this.groups(viewer.clientId, viewer.countries, period);
    const total = rows.find((row) => row.dimension === "total") ?? NOTHING;
    const minCell = this.minCell;
    const breakdown = (dimension: ReportDimension, fixed: readonly string[]): ReportCell[] => {
      const found = new Map(rows.filter((row) => row.dimension === dimension).map((row) => [row.key ?? "", row]));
      const keys = [...fixed, ...[...found.keys()].filter((key) => !fixed.includes(key)).sort()];
      const cells = keys.map((key) => ({ key, alerts: found.get(key)?.alerts ?? 0, people: found.get(key)?.people ?? 0 }));
      return showBreakdown(cells, total, minCell);
    };
    const acknowledged = showPart(tally(total.acknowledged, total.acknowledgedPeople), tally(total.alerts - total.acknowledged, total.unacknowledgedPeople), minCell);
    const resolved = showPart(tally(total.resolved, total.resolvedPeople), tally(total.alerts - total.resolved, total.unresolvedPeople), minCell);
    const toAcknowledge = showMedian(rounded(total.medianHoursToAcknowledge), tally(total.acknowledged, total.acknowledgedPeople), minCell);
    const toResolve = showMedian(rounded(total.medianHoursToResolve), tally(total.resolved, total.resolvedPeople), minCell);
    const outcomes = { acknowledged, resolved, medianHoursToAcknowledge: toAcknowledge, medianHoursToResolve: toResolve };
    return {
      period: period.label,
      from: period.firstDay,
      to: period.lastDay,
      clientId: viewer.clientId,
      minCell,
      generatedAt: now,
      totals: { key: "all", ...showTally(total, minCell) },
      byType: breakdown("type", FIXED_KEYS.type),
      bySeverity: breakdown("severity", FIXED_KEYS.severity),
      byRiskBand: breakdown("riskBand", FIXED_KEYS.riskBand),
      byCountry: breakdown("country", viewer.countries),
      bySegment: breakdown("segment", FIXED_KEYS.segment),
      outcomes: {
        acknowledged: acknowledged.value,
        resolved: resolved.value,
        medianHoursToAcknowledge: toAcknowledge.value,
        medianHoursToResolve: toResolve.value,
        suppressed: Object.entries(outcomes)
          .filter(([, shown]) => shown.suppressed)
          .map(([name]) => name),
      },
    };
  }

  /**
   * Every figure of the report in one statement: the grand total and one row per value of each
   * dimension (GROUPING SETS). The people come first, from the client's consents (their index),
   * then each one's alerts of the period (theirs).
   */
  private groups(clientId: string, countries: readonly Country[], period: ReportPeriod): Promise<GroupRow[]> {
    const tenant = [...countries];
    return this.prisma.$queryRaw<GroupRow[]>`
      WITH consented AS (
        SELECT DISTINCT c.user_id FROM consent c
        WHERE c.client_id = ${clientId} AND c.country::text = ANY(${tenant}::text[]) AND ${consentCovers("c", "alerts.read")}
      ), counted AS (
        SELECT a.user_id, a.type, a.severity::text AS severity, a.risk_band::text AS risk_band, a.country::text AS country,
               coalesce(segment.band, 'UNSCORED') AS segment,
               a.status IN ('ACKNOWLEDGED', 'RESOLVED') AS acknowledged, a.status = 'RESOLVED' AS resolved,
               extract(epoch FROM a.acknowledged_at - a.created_at)::float8 / 3600 AS hours_to_acknowledge,
               extract(epoch FROM a.resolved_at - a.created_at)::float8 / 3600 AS hours_to_resolve
        FROM consented p
        JOIN alert a ON a.user_id = p.user_id
        LEFT JOIN LATERAL (
          SELECT w.band::text AS band FROM wellness_snapshot w
          WHERE w.user_id = a.user_id AND w.country = a.country
            AND w.snapshot_date <= (a.created_at AT TIME ZONE 'UTC')::date AND w.computed_at <= a.created_at
          ORDER BY w.snapshot_date DESC LIMIT 1
        ) segment ON true
        WHERE a.country::text = ANY(${tenant}::text[]) AND a.created_at >= ${period.start} AND a.created_at < ${period.end}
          AND (a.rule_id IS NULL OR a.rule_id NOT LIKE 'sandbox:%')
      )
      SELECT CASE WHEN GROUPING(type) = 0 THEN 'type' WHEN GROUPING(severity) = 0 THEN 'severity' WHEN GROUPING(risk_band) = 0 THEN 'riskBand'
                  WHEN GROUPING(country) = 0 THEN 'country' WHEN GROUPING(segment) = 0 THEN 'segment' ELSE 'total' END AS dimension,
             coalesce(type, severity, risk_band, country, segment) AS key,
             count(*)::int AS alerts,
             count(DISTINCT user_id)::int AS people,
             count(*) FILTER (WHERE acknowledged)::int AS acknowledged,
             count(DISTINCT user_id) FILTER (WHERE acknowledged)::int AS "acknowledgedPeople",
             count(DISTINCT user_id) FILTER (WHERE NOT acknowledged)::int AS "unacknowledgedPeople",
             count(*) FILTER (WHERE resolved)::int AS resolved,
             count(DISTINCT user_id) FILTER (WHERE resolved)::int AS "resolvedPeople",
             count(DISTINCT user_id) FILTER (WHERE NOT resolved)::int AS "unresolvedPeople",
             percentile_cont(0.5) WITHIN GROUP (ORDER BY hours_to_acknowledge) FILTER (WHERE acknowledged) AS "medianHoursToAcknowledge",
             percentile_cont(0.5) WITHIN GROUP (ORDER BY hours_to_resolve) FILTER (WHERE resolved) AS "medianHoursToResolve"
      FROM counted
      GROUP BY GROUPING SETS ((), (type), (severity), (risk_band), (country), (segment))`;
  }
}

function tally(alerts: number, people: number): Tally {
  return { alerts, people };
}

/** Hours to two decimals: enough for a report, and the same figure on every transport. */
function rounded(hours: number | null): number | null {
  return hours === null ? null : Math.round(hours * 100) / 100;
}

