import { Prisma, type PrismaClient } from "../../generated/prisma/client.ts";
import type { Country, IncomeKind } from "../../generated/prisma/enums.ts";
import { queryRows, type Nullable } from "../../platform/database/prepared-reads.ts";
import { ColumnChoice } from "../shared/column-choice.ts";

export interface ExpenseRow {
  id: bigint;
  userId: string;
  /**
   * Exact decimal text as Prisma's Decimal writes it (`trim_scale(…)::text`: 12.50 reads "12.5"),
   * which the Decimal scalar sends as it is: no Decimal object per row.
   */
  amount: string;
  currency: string;
  mcc: string;
  category: string;
  merchant: string;
  occurredAt: Date;
}

/** One user's count of matching expenses, with one expense of their page (null when the page is empty). */
export interface CountedExpenseRow {
  userId: string;
  total: number;
  expense: ExpenseRow | null;
}

export interface IncomeRow {
  id: string;
  userId: string;
  source: string;
  kind: IncomeKind;
  /** Exact decimal text, as ExpenseRow's amount. */
  monthlyAmount: string;
  currency: string;
  startedAt: Date;
  endedAt: Date | null;
}

export interface ExpenseFilter {
  /** Inclusive lower bound (start of this UTC day). */
  from?: Date;
  /** Inclusive upper bound (whole UTC day). */
  to?: Date;
  category?: string;
}

export interface ExpensePageArgs extends ExpenseFilter {
  limit: number;
  after?: { occurredAt: Date; id: bigint };
  /** The columns read (EXPENSE_COLUMNS.keysFor); the rows hold only these. */
  columns: readonly (keyof ExpenseRow)[];
}

/** An expense's columns as ExpenseRow names them, from `expense e`; a connection's nodes. */
export const EXPENSE_COLUMNS = new ColumnChoice<keyof ExpenseRow>(
  {
    id: Prisma.sql`e.id`,
    userId: Prisma.sql`e.user_id AS "userId"`,
    amount: Prisma.sql`trim_scale(e.amount)::text AS amount`,
    currency: Prisma.sql`e.currency`,
    mcc: Prisma.sql`e.mcc`,
    category: Prisma.sql`e.category`,
    merchant: Prisma.sql`e.merchant`,
    occurredAt: Prisma.sql`e.occurred_at AS "occurredAt"`,
  },
  {},
  ["userId"],
  ["edges", "node"],
);

/** A cursor's sort key. */
export const EXPENSE_CURSOR_COLUMNS = ["occurredAt", "id"] as const;

/** An income stream's columns as IncomeRow names them, from `income_stream i`. */
export const INCOME_COLUMNS = new ColumnChoice<keyof IncomeRow>(
  {
    id: Prisma.sql`i.id`,
    userId: Prisma.sql`i.user_id AS "userId"`,
    source: Prisma.sql`i.source`,
    kind: Prisma.sql`i.kind::text AS kind`,
    monthlyAmount: Prisma.sql`trim_scale(i.monthly_amount)::text AS "monthlyAmount"`,
    currency: Prisma.sql`i.currency`,
    startedAt: Prisma.sql`i.started_at AS "startedAt"`,
    endedAt: Prisma.sql`i.ended_at AS "endedAt"`,
  },
  {},
  ["userId"],
);

export const EXPENSES_PAGE = { default: 50, max: 500 } as const;
const DAY_MS = 86_400_000;

export class ExpensesService {
  constructor(
    private readonly prisma: PrismaClient,
    /** The viewer's tenants: every query is confined to them. */
    private readonly tenant: readonly Country[],
  ) {}

  /** The first `limit` expenses of each user matching the filter, newest first: one statement for all users. */
  pageOfExpenses(userIds: readonly string[], args: ExpensePageArgs): Promise<ExpenseRow[]> {
    const conditions = filterConditions(args);
    if (args.after) conditions.push(Prisma.sql`(e.occurred_at, e.id) < (${args.after.occurredAt}, ${args.after.id})`);
    return queryRows<ExpenseRow>(this.prisma, Prisma.sql`
      SELECT page.* FROM unnest(${[...userIds]}::text[]) AS u(id)
      CROSS JOIN LATERAL (
        SELECT ${EXPENSE_COLUMNS.sql(args.columns)}
        FROM expense e
        WHERE e.user_id = u.id AND e.country::text = ANY(${[...this.tenant]}::text[]) ${andAll(conditions)}
        ORDER BY e.occurred_at DESC, e.id DESC
        LIMIT ${args.limit}
      ) page`);
  }

  /**
   * pageOfExpenses with each user's count of the expenses matching the filter (without `after`),
   * for a page that asks for its `totalCount`: one statement where the page and the counts took
   * two. A user without any expense on the page comes back as one row without an expense.
   */
  async countedPageOfExpenses(userIds: readonly string[], args: ExpensePageArgs): Promise<CountedExpenseRow[]> {
    const filter = andAll(filterConditions(args));
    const page = filterConditions(args);
    if (args.after) page.push(Prisma.sql`(e.occurred_at, e.id) < (${args.after.occurredAt}, ${args.after.id})`);
    const tenant = [...this.tenant];
    // The user's id comes from the outer list (an unmatched row has none of the expense's); `id` tells a matched row.
    const expenseColumns = [...new Set([...args.columns, "id" as const])].filter((column) => column !== "userId");
    const rows = await queryRows<{ userId: string; total: number } & Nullable<Omit<ExpenseRow, "userId">>>(this.prisma, Prisma.sql`
      SELECT u.id AS "userId", counted.total, page.*
      FROM unnest(${[...userIds]}::text[]) AS u(id)
      CROSS JOIN LATERAL (
        SELECT count(*)::int AS total FROM expense e
        WHERE e.user_id = u.id AND e.country::text = ANY(${tenant}::text[]) ${filter}
      ) counted
      LEFT JOIN LATERAL (
        SELECT ${EXPENSE_COLUMNS.sql(expenseColumns)}
        FROM expense e
        WHERE e.user_id = u.id AND e.country::text = ANY(${tenant}::text[]) ${andAll(page)}
        ORDER BY e.occurred_at DESC, e.id DESC
        LIMIT ${args.limit}
      ) page ON true`);
    // A matched row is the expense itself (its user's total rides along unread): no copy per row.
    return rows.map((row) => ({ userId: row.userId, total: row.total, expense: row.id === null ? null : (row as ExpenseRow) }));
  }

  /** `columns`: INCOME_COLUMNS.keysFor; the rows hold only these. */
  incomeStreams(userIds: readonly string[], columns: readonly (keyof IncomeRow)[]): Promise<IncomeRow[]> {
    return queryRows<IncomeRow>(this.prisma, Prisma.sql`
      SELECT ${INCOME_COLUMNS.sql(columns)}
      FROM income_stream i
      WHERE i.user_id = ANY(${[...userIds]}::text[]) AND i.country::text = ANY(${[...this.tenant]}::text[])
      ORDER BY i.user_id, i.started_at, i.id`);
  }
}

function filterConditions(filter: ExpenseFilter): Prisma.Sql[] {
  const conditions: Prisma.Sql[] = [];
  if (filter.from) conditions.push(Prisma.sql`e.occurred_at >= ${filter.from}`);
  if (filter.to) conditions.push(Prisma.sql`e.occurred_at < ${new Date(filter.to.getTime() + DAY_MS)}`);
  if (filter.category) conditions.push(Prisma.sql`e.category = ${filter.category}`);
  return conditions;
}

function andAll(conditions: Prisma.Sql[]): Prisma.Sql {
  return conditions.length ? Prisma.sql`AND ${Prisma.join(conditions, " AND ")}` : Prisma.empty;
}
