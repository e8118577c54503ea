import type { ApolloServer } from "@apollo/server";
import { sendJson } from "../../platform/http/graphql-http-server.ts";
import type { AuthServices } from "../auth/services.ts";
import type { GatewayContext } from "../context.ts";
import { RestError } from "./envelope.ts";
import type { Router } from "./path-router.ts";
import { queryParams } from "./query-params.ts";
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

export function addReportRoutes(router: Router, apollo: ApolloServer<GatewayContext>, auth: AuthServices): void {
  const operations = new StoredOperations(apollo, auth);
  router.add("GET", "/v1/reports/prevention", async (request, response, _params, info) => {
    // The token first: a request without one is a 401 whatever it asks for.
    const context = await operations.context(request, info);
    // A missing period goes through as "", so the answer is the field's own: 403 without reports.read, else a 400 naming the accepted forms.
    const period = queryParams(request).get("period") ?? "";
    const data = await operations.run(request, info, PREVENTION_REPORT, { period }, { context });
    const report = data.preventionReport as Report | null | undefined;
    if (!report) throw new RestError("INTERNAL_SERVER_ERROR", "The report came back empty");
    sendJson(response, 200, reportJson(report));
  });
}

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
