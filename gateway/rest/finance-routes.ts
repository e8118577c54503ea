import { sendCsv } from "./csv-response.ts";
import type { ApolloServer } from "@apollo/server";
import { stringify } from "csv-stringify/sync";
import { spreadsheetSafeText } from "../../platform/csv-cell.ts";
import { z } from "zod";
import { sendJson } from "../../platform/http/graphql-http-server.ts";
import type { AuthServices } from "../auth/services.ts";
import type { GatewayContext } from "../context.ts";
import { GRAPH_ERRORS, userIdParam } from "./graph-routes.ts";
import type { RestRoutes } from "./rest-routes.ts";
import { calendarDate, dateRange, pageLimit, param, startOfDayAfter } from "./query-params.ts";
import { pageOf } from "./route-spec.ts";
import { person, StoredOperations, subject, type Data } from "./stored-operations.ts";

// The brief's debt, expense and coach routes (scenarios 2 and 4, and the debt export), each a
// stored GraphQL operation run as the request's token (stored-operations.ts). The token is
// checked first, so a request without one is a 401 whatever its parameters.

const OPERATIONS = {
  debts: `query Debts($userId: ID!, $self: Boolean!, $status: DebtStatus) {
    me @include(if: $self) { id debts(status: $status) { ...DebtFields } }
    user(id: $userId) @skip(if: $self) { id debts(status: $status) { ...DebtFields } }
  }
  fragment DebtFields on Debt { issuer type balance currency apr dueDate status }`,
  expenses: `query Expenses($userId: ID!, $self: Boolean!, $from: Date!, $to: Date!, $category: String, $first: Int, $after: String) {
    me @include(if: $self) { id expenses(from: $from, to: $to, category: $category, first: $first, after: $after) { ...ExpensePage } }
    user(id: $userId) @skip(if: $self) { id expenses(from: $from, to: $to, category: $category, first: $first, after: $after) { ...ExpensePage } }
  }
  fragment ExpensePage on ExpenseConnection {
    edges { node { id occurredAt merchant mcc category amount currency } }
    pageInfo { hasNextPage endCursor }
  }`,
  // Summaries only: `transcript` (coach.transcripts.read) is never asked for here.
  coachSessions: `query CoachSessions($userId: ID!, $self: Boolean!, $from: DateTime, $to: DateTime) {
    me @include(if: $self) { id coachSessions(from: $from, to: $to) { ...SessionSummary } }
    user(id: $userId) @skip(if: $self) { id coachSessions(from: $from, to: $to) { ...SessionSummary } }
  }
  fragment SessionSummary on CoachSession { id startedAt endedAt intent sentiment sentimentLabel messageCount }`,
};

const DEBT_STATUSES = ["current", "late", "defaulted", "paid_off"] as const;
const EXPORT_FORMATS = ["json", "csv"] as const;
/** The brief's affordability check reads 90 days; a year (a leap one too) is the most one call reads. */
const MAX_EXPENSE_DAYS = 366;
/** `User.expenses`' own cap on `first` (docs/api.md). */
const MAX_EXPENSE_PAGE = 500;
const CURSOR = /^[\w-]{1,512}$/;
const CATEGORY = /^[a-z0-9_]{1,64}$/;
/** The export's CSV columns: the JSON items' keys, in the brief's order. */
const DEBT_COLUMNS = ["issuer", "type", "balance", "currency", "apr", "due_date", "status"] as const;

export function addFinanceRoutes(router: RestRoutes, apollo: ApolloServer<GatewayContext>, auth: AuthServices): void {
  const operations = new StoredOperations(apollo, auth);

  // Scenario 2: each open balance (every status but paid_off) with its issuer and APR; `status` narrows to one.
  router.add(
    "GET",
    "/v1/debts",
    async (request, response, _params, info, query) => {
      await operations.context(request, info);
      const { status } = query();
      const found = person(await operations.run(request, info, OPERATIONS.debts, { ...subject(request), status: status?.toUpperCase() ?? null }));
      const items = ((found.debts ?? []) as Data[]).map(debtItem).filter((debt) => status !== undefined || debt.status !== "paid_off");
      sendJson(response, 200, { items, page: { next_cursor: null } });
    },
    {
      summary: "The person's debts: each open balance with its issuer and APR",
      description: "Scenario 2: every debt but those paid off, or those of one `status`. Needs debts.read.",
      tag: "debts",
      caller: "token",
      query: debtsQuery,
      responses: { 200: { description: "The debts, on one page", schema: z.object({ items: z.array(debtResponse), page: pageOf }) } },
      errors: GRAPH_ERRORS,
    },
  );

  router.add(
    "GET",
    "/v1/exports/debts",
    async (request, response, _params, info, query) => {
      await operations.context(request, info);
      const format = query().format ?? "json";
      const asOf = new Date().toISOString();
      const found = person(await operations.run(request, info, OPERATIONS.debts, { ...subject(request), status: null }));
      const items = ((found.debts ?? []) as Data[]).map(debtItem);
      if (format === "json") return sendJson(response, 200, { as_of: asOf, items, page: { next_cursor: null } });
      sendCsv(response, `debts_${found.id}_${asOf.slice(0, 10)}.csv`, stringify(items, { header: true, columns: [...DEBT_COLUMNS], record_delimiter: "windows", cast: { string: spreadsheetSafeText } }));
    },
    {
      summary: "Export every debt of the person, as JSON or CSV",
      description: `The brief's debt export, paid-off debts included. \`format=csv\` answers RFC 4180 CSV (CRLF, a header row: ${DEBT_COLUMNS.join(", ")}) as an attachment instead of JSON. Needs debts.read.`,
      tag: "debts",
      caller: "token",
      query: exportQuery,
      responses: {
        200: {
          description: "The export: JSON (`format=json`, the default; the schema) or, with `format=csv`, the same items as `text/csv`",
          contentType: ["application/json", "text/csv"],
          schema: z.object({
            as_of: z.iso.datetime({ offset: true }).describe("When the export was taken (ISO 8601)"),
            items: z.array(debtResponse),
            page: pageOf,
          }),
        },
      },
      errors: GRAPH_ERRORS,
    },
  );

  // Scenario 2: categorised transactions, newest first, a page at a time.
  router.add(
    "GET",
    "/v1/expenses",
    async (request, response, _params, info, query) => {
      await operations.context(request, info);
      const { from, to, category, limit, cursor } = query();
      const variables = { ...subject(request), from, to, category: category ?? null, first: limit ?? null, after: cursor ?? null };
      const found = person(await operations.run(request, info, OPERATIONS.expenses, variables, { inputErrors: { after: "`cursor` must be a page.next_cursor this route returned" } }));
      const page = found.expenses as Data | null;
      sendJson(response, 200, {
        items: ((page?.edges ?? []) as Data[]).map(({ node }) => expenseItem(node as Data)),
        page: { next_cursor: page?.pageInfo.hasNextPage ? page.pageInfo.endCursor : null },
      });
    },
    {
      summary: "The person's categorised transactions between two dates, newest first",
      description: `Scenario 2: card and cash transactions from \`from\` to \`to\` (inclusive UTC dates, at most ${MAX_EXPENSE_DAYS} days), a page at a time. Needs expenses.read.`,
      tag: "expenses",
      caller: "token",
      query: expensesQuery,
      responses: { 200: { description: "A page of expenses", schema: z.object({ items: z.array(expenseResponse), page: pageOf }) } },
      errors: GRAPH_ERRORS,
    },
  );

  // Scenario 4: what people talked to the coach about and how they felt; never the conversation itself.
  router.add(
    "GET",
    "/v1/coach/sessions",
    async (request, response, _params, info, query) => {
      await operations.context(request, info);
      const { from, to } = query();
      const variables = { ...subject(request), from: from ? `${from}T00:00:00.000Z` : null, to: to ? startOfDayAfter(to) : null };
      const found = person(await operations.run(request, info, OPERATIONS.coachSessions, variables));
      sendJson(response, 200, { items: ((found.coachSessions ?? []) as Data[]).map(sessionItem), page: { next_cursor: null } });
    },
    {
      summary: "Summaries of the person's conversations with the Kami coach",
      description: "Scenario 4: what each session was about and how the person felt; never the conversation itself. Needs coach.read.",
      tag: "coach",
      caller: "token",
      query: coachQuery,
      responses: { 200: { description: "The sessions started in the range, on one page", schema: z.object({ items: z.array(sessionResponse), page: pageOf }) } },
      errors: GRAPH_ERRORS,
    },
  );
}

// The routes' query parameters: the handlers parse them with these schemas (query-params.ts), and
// the OpenAPI document shows the same ones.

const oneOf = <const Values extends readonly [string, ...string[]]>(values: Values, description: string) =>
  param(z.enum(values).optional().describe(description), `one of ${values.join(", ")}`);

const debtsQuery = z.object({
  status: oneOf(DEBT_STATUSES, "Only the debts of this status; without it, every debt but those paid off"),
  user_id: userIdParam,
});

const exportQuery = z.object({
  format: oneOf(EXPORT_FORMATS, "json (the default) or csv"),
  user_id: userIdParam,
});

const expensesQuery = z
  .object({
    from: calendarDate("The first day, inclusive (UTC), written YYYY-MM-DD"),
    to: calendarDate(`The last day, inclusive (UTC), written YYYY-MM-DD; at most ${MAX_EXPENSE_DAYS} days from \`from\``),
    category: param(z.string().regex(CATEGORY).optional().describe("Only this category, e.g. groceries"), "1 to 64 lower-case letters, digits or underscores, such as groceries"),
    limit: pageLimit(MAX_EXPENSE_PAGE, `Page size (default 50, at most ${MAX_EXPENSE_PAGE})`),
    cursor: param(z.string().regex(CURSOR).optional().describe("A page.next_cursor this route returned"), "a page.next_cursor this route returned"),
    user_id: userIdParam,
  })
  .superRefine(dateRange(MAX_EXPENSE_DAYS));

const coachQuery = z
  .object({
    from: calendarDate("Sessions started on or after this day (UTC)").optional(),
    to: calendarDate("Sessions started on or before this day (UTC)").optional(),
    user_id: userIdParam,
  })
  .superRefine(dateRange());

const currency = z.string().describe("ISO 4217 currency code, e.g. USD");

/** A debt as debtItem() writes it: the brief's export item plus its status. */
const debtResponse = z.object({
  issuer: z.string().describe("The lender, e.g. Banco Pichincha"),
  type: z.enum(["credit_card", "installment", "personal_loan", "mortgage", "auto_loan", "microcredit", "payday"]),
  balance: z.number().describe("Amount owed today, in `currency`"),
  currency,
  apr: z.number().describe("Annual percentage rate as a fraction: 0.42 is 42 %"),
  due_date: z.iso.date().describe("Next payment due date, YYYY-MM-DD"),
  status: z.enum(DEBT_STATUSES),
});

const expenseResponse = z.object({
  id: z.string(),
  occurred_at: z.iso.datetime({ offset: true }).describe("When the transaction happened (ISO 8601)"),
  merchant: z.string(),
  mcc: z.string().describe("ISO 18245 merchant category code, e.g. 5411 (grocery stores)"),
  category: z.string().describe("food, groceries, transport, utilities, health, ..."),
  amount: z.number().describe("The amount, in `currency`"),
  currency,
});

const sessionResponse = z.object({
  id: z.string(),
  started_at: z.iso.datetime({ offset: true }),
  ended_at: z.iso.datetime({ offset: true }),
  intent: z.string().describe("What the person came for: debt_stress, budgeting_help, savings_plan, ..."),
  sentiment: z.number().min(-1).max(1).describe("-1 (distressed) to 1 (confident)"),
  sentiment_label: z.enum(["negative", "neutral", "positive"]),
  message_count: z.number().int(),
});

/** A debt as the brief's export item, plus its status; money as a JSON number beside its currency. */
function debtItem(debt: Data): Record<string, unknown> {
  return {
    issuer: debt.issuer,
    type: String(debt.type).toLowerCase(),
    balance: Number(debt.balance),
    currency: debt.currency,
    apr: debt.apr,
    due_date: debt.dueDate,
    status: String(debt.status).toLowerCase(),
  };
}

function expenseItem(expense: Data): Record<string, unknown> {
  return {
    id: expense.id,
    occurred_at: expense.occurredAt,
    merchant: expense.merchant,
    mcc: expense.mcc,
    category: expense.category,
    amount: Number(expense.amount),
    currency: expense.currency,
  };
}

function sessionItem(session: Data): Record<string, unknown> {
  return {
    id: session.id,
    started_at: session.startedAt,
    ended_at: session.endedAt,
    intent: session.intent,
    sentiment: session.sentiment,
    sentiment_label: String(session.sentimentLabel).toLowerCase(),
    message_count: session.messageCount,
  };
}
