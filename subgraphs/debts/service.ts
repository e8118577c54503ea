import { Prisma, type PrismaClient } from "../../generated/prisma/client.ts";
import type { Country, DebtStatus, DebtType } from "../../generated/prisma/enums.ts";
import { queryRows } from "../../platform/database/prepared-reads.ts";

export interface DebtRow {
  id: string;
  userId: string;
  issuer: string;
  type: DebtType;
  principal: Prisma.Decimal;
  balance: Prisma.Decimal;
  creditLimit: Prisma.Decimal | null;
  minimumPayment: Prisma.Decimal;
  currency: string;
  apr: Prisma.Decimal;
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

export class DebtsService {
  constructor(
    private readonly prisma: PrismaClient,
    /** The viewer's tenants: every query is confined to them. */
    private readonly tenant: readonly Country[],
  ) {}

  /** Debts of these users with their missed instalments of the last 6 months, in one statement. */
  debts(userIds: readonly string[]): Promise<DebtRow[]> {
    return queryRows<DebtRow>(this.prisma, Prisma.sql`
      SELECT d.id, d.user_id AS "userId", d.issuer, d.type::text AS type, d.principal, d.balance,
             d.credit_limit AS "creditLimit", d.minimum_payment AS "minimumPayment", d.currency, d.apr,
             d.due_date AS "dueDate", d.status::text AS status, d.opened_at AS "openedAt",
             COALESCE(missed.count, 0)::int AS "missedPayments"
      FROM debt d
      LEFT JOIN LATERAL (
        SELECT count(*) AS count FROM debt_payment p
        WHERE p.debt_id = d.id AND p.status = 'MISSED' AND p.due_date >= CURRENT_DATE - INTERVAL '6 months'
      ) missed ON true
      WHERE d.user_id = ANY(${[...userIds]}::text[]) AND d.country::text = ANY(${[...this.tenant]}::text[])
      ORDER BY d.user_id, d.due_date, d.id`);
  }
}

export function summarise(debts: readonly DebtRow[]): DebtSummary | null {
  if (debts.length === 0) return null;
  const open = debts.filter((debt) => debt.status !== "PAID_OFF");
  const totals = new Map<string, { currency: string; balance: Prisma.Decimal; minimumPayment: Prisma.Decimal }>();
  let weightedAprNumerator = new Prisma.Decimal(0);
  let balanceSum = new Prisma.Decimal(0);
  for (const debt of open) {
    const total = totals.get(debt.currency) ?? { currency: debt.currency, balance: new Prisma.Decimal(0), minimumPayment: new Prisma.Decimal(0) };
    total.balance = total.balance.plus(debt.balance);
    total.minimumPayment = total.minimumPayment.plus(debt.minimumPayment);
    totals.set(debt.currency, total);
    weightedAprNumerator = weightedAprNumerator.plus(debt.apr.times(debt.balance));
    balanceSum = balanceSum.plus(debt.balance);
  }
  const dueDates = open.map((debt) => debt.dueDate.getTime());
  return {
    totals: [...totals.values()].sort((a, b) => a.currency.localeCompare(b.currency)),
    openCount: open.length,
    overdueCount: open.filter((debt) => debt.status === "LATE" || debt.status === "DEFAULTED").length,
    weightedApr: balanceSum.isZero() ? null : weightedAprNumerator.div(balanceSum).toDecimalPlaces(4).toNumber(),
    nextDueDate: dueDates.length ? new Date(Math.min(...dueDates)) : null,
  };
}
