import type { ApolloServer } from "@apollo/server";
import { z } from "zod";
import { sendJson } from "../../platform/http/graphql-http-server.ts";
import { ACCEPTED_PERIODS } from "../../domain/reports/period.ts";
import type { AuthServices } from "../auth/services.ts";
import type { GatewayContext } from "../context.ts";
import { RestError } from "./envelope.ts";
import type { RestRoutes } from "./rest-routes.ts";
import { param } from "./query-params.ts";
import { StoredOperations } from "./stored-operations.ts";

// The brief's regulatory report (scenario 5), a stored GraphQL operation run through the same
// gateway: the client scope reports.read is checked by the same rule as on /graphql, and the
// figures, suppression included, are the subgraph's own.

const PREVENTION_REPORT = `query PreventionReport($period: String!) {
  preventionReport(period: $period) {
    period from to clientId minCell generatedAt
    totals { ...Cell } byType { ...Cell } bySeverity { ...Cell } byRiskBand { ...Cell } byCountry { ...Cell } bySegment { ...Cell }
    outcomes { acknowledged resolved medianHoursToAcknowledge medianHoursToResolve suppressed }
  }
}
fragment Cell on PreventionReportCell { key alerts people suppressed }`;

interface Cell {
  key: string;
  alerts: number | null;
  people: number | null;
  suppressed: boolean;
}

interface Report {
  period: string;
  from: string;
  to: string;
  clientId: string;
  minCell: number;
  generatedAt: string;
  totals: Cell;
  byType: Cell[];
  bySeverity: Cell[];
  byRiskBand: Cell[];
  byCountry: Cell[];
  bySegment: Cell[];
  outcomes: {
    acknowledged: number | null;
    resolved: number | null;
    medianHoursToAcknowledge: number | null;
    medianHoursToResolve: number | null;
    suppressed: string[];
  };
}

/** The outcomes' members in the brief's snake_case; `suppressed` names them so. */
const OUTCOME_NAMES: Record<string, string> = {
  acknowledged: "acknowledged",
  resolved: "resolved",
  medianHoursToAcknowledge: "median_hours_to_acknowledge",
  medianHoursToResolve: "median_hours_to_resolve",
};

export function addReportRoutes(router: RestRoutes, apollo: ApolloServer<GatewayContext>, auth: AuthServices): void {
  const operations = new StoredOperations(apollo, auth);
  router.add(
    "GET",
    "/v1/reports/prevention",
    async (request, response, _params, info, query) => {
      // The token first: a request without one is a 401 whatever it asks for.
      const context = await operations.context(request, info);
      const { period } = query();
      const data = await operations.run(request, info, PREVENTION_REPORT, { period }, { context });
      const report = data.preventionReport as Report | null | undefined;
      if (!report) throw new RestError("INTERNAL_SERVER_ERROR", "The report came back empty");
      sendJson(response, 200, reportJson(report));
    },
    {
      summary: "The prevention report: a period's alerts and what became of them, in aggregate",
      description:
        "Scenario 5: the alerts of the people who consented to the client, counted by type, severity, risk band, country and segment, with outcome metrics. Figures standing on fewer people than `min_cell` (but not none) are withheld: null, with `suppressed` true. Needs a partner token with the client scope reports.read.",
      tag: "reports",
      caller: "partner-token",
      query: reportQuery,
      responses: { 200: { description: "The report", schema: reportResponse } },
      errors: ["UNAUTHORIZED_FIELD_OR_TYPE", "SUBGRAPH_UNAVAILABLE"],
    },
  );
}

// The alerts subgraph's period parser checks the period again (the same forms) for GraphQL callers.
const reportQuery = z.object({
  period: param(
    z
      .string()
      .regex(/^\d{4}(Q[1-4]|-(0[1-9]|1[0-2]))?$/)
      .describe(`The period: ${ACCEPTED_PERIODS}`),
    ACCEPTED_PERIODS,
  ),
});

const figure = (what: string) => z.number().int().nullable().describe(`${what}; null when withheld`);
const cell = {
  alerts: figure("Alerts in this row"),
  people: figure("Distinct people those alerts belong to"),
  suppressed: z.boolean().describe("Whether this row's figures are withheld"),
};
/** A breakdown's rows, each named by its dimension's value under `key`. */
const rowsBy = (key: string, value: z.ZodType, what: string) => z.array(z.object({ [key]: value, ...cell })).describe(what);

const reportResponse = z.object({
  period: z.string().describe("The period as asked: 2026Q1, 2026-03 or 2026"),
  from: z.iso.date().describe("The period's first UTC calendar day"),
  to: z.iso.date().describe("The period's last UTC calendar day (inclusive)"),
  client_id: z.string().describe("The partner client the report is for: only people who consented to it are counted"),
  generated_at: z.iso.datetime({ offset: true }).describe("When the report was computed; outcomes are as of this instant"),
  min_cell: z.number().int().describe("The suppression threshold in force: figures standing on fewer people than this, but not none, are withheld"),
  totals: z.object(cell).describe("Every counted alert"),
  by_type: rowsBy("type", z.string(), "Alerts by type: every prevention rule's type, then any other found"),
  by_severity: rowsBy("severity", z.enum(["low", "medium", "high", "critical"]), "Alerts by severity"),
  by_risk_band: rowsBy("risk_band", z.enum(["green", "amber", "red"]), "Alerts by the alert's risk band"),
  by_country: rowsBy("country", z.string().describe("ISO 3166-1 alpha-2 code, e.g. MX"), "Alerts by country, one row per country the client serves"),
  by_segment: rowsBy("segment", z.enum(["green", "amber", "red", "unscored"]), "Alerts by the person's wellness band when the alert was raised, or unscored"),
  outcomes: z
    .object({
      acknowledged: figure("Alerts acknowledged, including those resolved"),
      resolved: figure("Alerts resolved"),
      median_hours_to_acknowledge: z.number().nullable().describe("Median hours from creation to acknowledgement, to two decimals; null when withheld or none"),
      median_hours_to_resolve: z.number().nullable().describe("Median hours from creation to resolution, to two decimals; null when withheld or none"),
      suppressed: z.array(z.enum(["acknowledged", "resolved", "median_hours_to_acknowledge", "median_hours_to_resolve"])).describe("The members above that are null because they are withheld"),
    })
    .describe("What became of the alerts, as of generated_at"),
});

/** The report in the brief's snake_case: enum values lower case (country codes stay ISO), each row named by its dimension. */
function reportJson(report: Report): Record<string, unknown> {
  const rows = (cells: Cell[], dimension: string, lower = true) =>
    cells.map((cell) => ({ [dimension]: lower ? cell.key.toLowerCase() : cell.key, alerts: cell.alerts, people: cell.people, suppressed: cell.suppressed }));
  const { outcomes } = report;
  return {
    period: report.period,
    from: report.from,
    to: report.to,
    client_id: report.clientId,
    generated_at: report.generatedAt,
    min_cell: report.minCell,
    totals: { alerts: report.totals.alerts, people: report.totals.people, suppressed: report.totals.suppressed },
    by_type: rows(report.byType, "type", false),
    by_severity: rows(report.bySeverity, "severity"),
    by_risk_band: rows(report.byRiskBand, "risk_band"),
    by_country: rows(report.byCountry, "country", false),
    by_segment: rows(report.bySegment, "segment"),
    outcomes: {
      acknowledged: outcomes.acknowledged,
      resolved: outcomes.resolved,
      median_hours_to_acknowledge: outcomes.medianHoursToAcknowledge,
      median_hours_to_resolve: outcomes.medianHoursToResolve,
      suppressed: outcomes.suppressed.map((name) => OUTCOME_NAMES[name] ?? name),
    },
  };
}
