import { Prisma, type PrismaClient } from "../../generated/prisma/client.ts";
import type { Country, DebtStatus, DebtType } from "../../generated/prisma/enums.ts";
import { queryRows } from "../../platform/database/prepared-reads.ts";
import { ColumnChoice } from "../shared/column-choice.ts";

export interface DebtRow {
  id: string;
  userId: string;
  issuer: string;
  type: DebtType;
  /**
   * Amounts and the rate are exact decimal text as Prisma's Decimal writes it (`trim_scale(…)::text`:
   * 12.50 reads "12.5"), which the Decimal scalar sends as it is; only a summary's arithmetic
   * builds Decimals, and only for the fields asked for.
   */
  principal: string;
  balance: string;
  creditLimit: string | null;
  minimumPayment: string;
  currency: string;
  apr: string;
  dueDate: Date;
  status: DebtStatus;
  openedAt: Date;
  missedPayments: number;
}

export interface DebtSummary {
  totals: { currency: string; balance: Prisma.Decimal; minimumPayment: Prisma.Decimal }[];
  openCount: number;
  overdueCount: number;
  weightedApr: number | null;
  nextDueDate: Date | null;
}

/** A debt's columns as DebtRow names them, from `debt d` (and its missed payments, `missed`). */
const DEBT_SQL: Readonly<Record<keyof DebtRow, Prisma.Sql>> = {
  id: Prisma.sql`d.id`,
  userId: Prisma.sql`d.user_id AS "userId"`,
  issuer: Prisma.sql`d.issuer`,
  type: Prisma.sql`d.type::text AS type`,
  principal: Prisma.sql`trim_scale(d.principal)::text AS principal`,
  balance: Prisma.sql`trim_scale(d.balance)::text AS balance`,
  creditLimit: Prisma.sql`trim_scale(d.credit_limit)::text AS "creditLimit"`,
  minimumPayment: Prisma.sql`trim_scale(d.minimum_payment)::text AS "minimumPayment"`,
  currency: Prisma.sql`d.currency`,
  apr: Prisma.sql`trim_scale(d.apr)::text AS apr`,
  dueDate: Prisma.sql`d.due_date AS "dueDate"`,
  status: Prisma.sql`d.status::text AS status`,
  openedAt: Prisma.sql`d.opened_at AS "openedAt"`,
  missedPayments: Prisma.sql`(SELECT count(*) FROM debt_payment p WHERE p.debt_id = d.id AND p.status = 'MISSED' AND p.due_date >= CURRENT_DATE - INTERVAL '6 months')::int AS "missedPayments"`,
};

/** What `User.debts` reads of each debt; `status` also for its argument. */
export const DEBT_COLUMNS = new ColumnChoice<keyof DebtRow>(DEBT_SQL, {}, ["userId", "status"]);

/** What `User.debtSummary` reads of each debt (OpenDebtsSummary): PAID_OFF ones are left out by status. */
export const SUMMARY_COLUMNS = new ColumnChoice<keyof DebtRow>(
  DEBT_SQL,
  {
    openCount: [],
    overdueCount: [],
    totals: ["currency", "balance", "minimumPayment"],
    weightedApr: ["apr", "balance"],
    nextDueDate: ["dueDate"],
  },
  ["userId", "status"],
);

export class DebtsService {
  constructor(
    private readonly prisma: PrismaClient,
    /** The viewer's tenants: every query is confined to them. */
    private readonly tenant: readonly Country[],
  ) {}

  /**
   * Debts of these users, in one statement; `columns` (DEBT_COLUMNS, SUMMARY_COLUMNS) are what the
   * rows hold, the instalments missed in the last 6 months counted only when asked for.
   */
  debts(userIds: readonly string[], columns: readonly (keyof DebtRow)[]): Promise<DebtRow[]> {
    return queryRows<DebtRow>(this.prisma, Prisma.sql`
      SELECT ${DEBT_COLUMNS.sql(columns)}
      FROM debt d
      WHERE d.user_id = ANY(${[...userIds]}::text[]) AND d.country::text = ANY(${[...this.tenant]}::text[])
      ORDER BY d.user_id, d.due_date, d.id`);
  }
}

/** The summary over a person's open debts; null without any debt. */
export function summarise(debts: readonly DebtRow[]): DebtSummary | null {
  return debts.length === 0 ? null : new OpenDebtsSummary(debts.filter((debt) => debt.status !== "PAID_OFF"));
}

/**
 * Each figure is worked out when it is read (GraphQL reads only the fields asked for): a page
 * that asks for `openCount` does no Decimal arithmetic.
 */
class OpenDebtsSummary implements DebtSummary {
  constructor(private readonly open: readonly DebtRow[]) {}

  get openCount(): number {
    return this.open.length;
  }

  get overdueCount(): number {
    return this.open.filter((debt) => debt.status === "LATE" || debt.status === "DEFAULTED").length;
  }

  get totals(): DebtSummary["totals"] {
    const totals = new Map<string, { currency: string; balance: Prisma.Decimal; minimumPayment: Prisma.Decimal }>();
    for (const debt of this.open) {
      const total = totals.get(debt.currency) ?? { currency: debt.currency, balance: new Prisma.Decimal(0), minimumPayment: new Prisma.Decimal(0) };
      total.balance = total.balance.plus(debt.balance);
      total.minimumPayment = total.minimumPayment.plus(debt.minimumPayment);
      totals.set(debt.currency, total);
    }
    return [...totals.values()].sort((a, b) => a.currency.localeCompare(b.currency));
  }

  get weightedApr(): number | null {
    let weightedAprNumerator = new Prisma.Decimal(0);
    let balanceSum = new Prisma.Decimal(0);
    for (const debt of this.open) {
      weightedAprNumerator = weightedAprNumerator.plus(new Prisma.Decimal(debt.apr).times(debt.balance));
      balanceSum = balanceSum.plus(debt.balance);
    }
    return balanceSum.isZero() ? null : weightedAprNumerator.div(balanceSum).toDecimalPlaces(4).toNumber();
  }

  get nextDueDate(): Date | null {
    const dueDates = this.open.map((debt) => debt.dueDate.getTime());
    return dueDates.length ? new Date(Math.min(...dueDates)) : null;
  }
}
