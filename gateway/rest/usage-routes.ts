import { sendCsv } from "./csv-response.ts";
import { stringify } from "csv-stringify/sync";
import { z } from "zod";
import { sendJson } from "../../platform/http/graphql-http-server.ts";
import { monthlyInvoice } from "../../platform/metering/invoice.ts";
import { dailyUsage } from "../../platform/metering/usage-counter.ts";
import type { AuthApi } from "../auth/auth-api.ts";
import type { AuthServices } from "../auth/services.ts";
import { requireClient } from "./callers.ts";
import { calendarDate, dateRange, param } from "./query-params.ts";
import type { RestRoutes } from "./rest-routes.ts";
import type { RouteSpec } from "./route-spec.ts";

// Pay-per-call metering, as the client reads it: its billable calls per UTC day and product, and
// the month's invoice. Counted by platform/metering/ (docs/api.md, "Usage and billing").

const MAX_USAGE_DAYS = 366;

const usageQuery = z
  .object({
    from: calendarDate("The first day, inclusive (UTC), written YYYY-MM-DD"),
    to: calendarDate(`The last day, inclusive (UTC), written YYYY-MM-DD; at most ${MAX_USAGE_DAYS} days from \`from\``),
  })
  .superRefine(dateRange(MAX_USAGE_DAYS));

const invoiceQuery = z.object({
  month: param(z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/).describe("The UTC calendar month, written YYYY-MM"), "a month written YYYY-MM, such as 2026-12"),
});

const product = z.string().describe("`graphql` (an operation), `rest:<operationId>` (a REST data route), `webhook` (a delivered webhook) or `export_row` (an exported row)");

const USAGE_SPEC = {
  summary: "The client's billable calls, per day and product",
  description:
    "Every billable call of the authenticated client, counted per UTC day and product: a GraphQL operation, a REST data route, a delivered webhook, a row of an export. A call that read personal data is counted with its consent receipt, in the same statement.",
  tag: "usage",
  caller: "client",
  query: usageQuery,
  responses: {
    200: {
      description: "The counts, days oldest first; days without calls are left out",
      schema: z.object({
        client_id: z.string(),
        from: z.iso.date(),
        to: z.iso.date(),
        days: z.array(z.object({ day: z.iso.date().describe("The UTC day"), product, count: z.number().int() })).describe("Oldest first, then by product"),
        totals: z.array(z.object({ product, count: z.number().int() })).describe("Per product over the range, by product"),
        total: z.number().int().describe("Every billable call in the range"),
      }),
    },
  },
} satisfies RouteSpec;

const INVOICE_SPEC = {
  summary: "The client's invoice for a month, as CSV",
  description:
    "One line per product used in the month (`product,count,unit_price,amount,currency`), then a `total` line. Prices come from the gateway's price list; amounts are exact decimals.",
  tag: "usage",
  caller: "client",
  query: invoiceQuery,
  responses: { 200: { description: "The invoice, with a header row", contentType: "text/csv" } },
} satisfies RouteSpec;

/** GET /v1/usage and GET /v1/usage/invoice: a partner client reads its own metered usage. */
export function addUsageRoutes(router: RestRoutes, api: AuthApi, services: AuthServices): void {
  router.add("GET", "/v1/usage", async (request, response, _params, _info, query) => {
    const client = await requireClient(api, request, response);
    const { from, to } = query();
    const days = await dailyUsage(services.prisma, client.id, from, to);
    const totals = new Map<string, number>();
    for (const day of days) totals.set(day.product, (totals.get(day.product) ?? 0) + day.count);
    sendJson(response, 200, {
      client_id: client.id,
      from,
      to,
      days,
      totals: [...totals].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, count]) => ({ product: name, count })),
      total: days.reduce((sum, day) => sum + day.count, 0),
    });
  }, USAGE_SPEC);

  router.add("GET", "/v1/usage/invoice", async (request, response, _params, _info, query) => {
    const client = await requireClient(api, request, response);
    const { month } = query();
    const invoice = await monthlyInvoice(services.prisma, client.id, month);
    const rows = [
      ...invoice.lines.map((line) => [line.product, line.count.toString(), line.unitPrice, line.amount, invoice.currency]),
      ["total", invoice.count.toString(), "", invoice.total, invoice.currency],
    ];
    sendCsv(response, `usage-${client.id.replace(/[^\w-]/g, "_")}-${month}.csv`, stringify(rows, { header: true, columns: ["product", "count", "unit_price", "amount", "currency"] }));
  }, INVOICE_SPEC);
}
