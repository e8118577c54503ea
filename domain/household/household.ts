// A household's finances as plain numbers: the one input of the wellness diagnosis and of the
// prevention variables. Pure data, no database types, so both engines are pure functions that
// tests can feed hand-built households.
//
// Conventions:
// - Days are whole UTC days since 1970-01-01 (`Day`); "today" is the UTC day of `now`.
// - Money is in minor units (cents) of the household's currency. Rows in another currency are
//   converted with REFERENCE_RATES when the household is built; amounts in one currency stay
//   exact integers.
import type { Country, DebtStatus, DebtType, GoalStatus, IncomeKind, PaymentStatus } from "../../generated/prisma/enums.ts";

export type Day = number;
export const DAY_MS = 86_400_000;
/** Average days per month (365.25 / 12): turns window sums into monthly amounts. */
export const DAYS_PER_MONTH = 30.4375;

export function dayOf(date: Date): Day {
  return Math.floor(date.getTime() / DAY_MS);
}

export function dateOfDay(day: Day): Date {
  return new Date(day * DAY_MS);
}

export function isoDay(day: Day): string {
  return dateOfDay(day).toISOString().slice(0, 10);
}

/** The same day of the month `months` later (clamped to the month's last day), as a Day. */
export function addMonths(day: Day, months: number): Day {
  const date = dateOfDay(day);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return dayOf(new Date(Date.UTC(year, month, Math.min(date.getUTCDate(), lastDay))));
}

export interface IncomeEntry {
  kind: IncomeKind;
  /** Monthly amount, minor units. */
  monthly: number;
  startedDay: Day;
  /** First day without this income; null while it continues. */
  endedDay: Day | null;
}

export interface DebtEntry {
  id: string;
  issuer: string;
  type: DebtType;
  status: DebtStatus;
  principal: number;
  balance: number;
  /** Revolving credit only (cards, lines); null for instalment debt. */
  creditLimit: number | null;
  minimumPayment: number;
  /** Annual rate as a fraction (0.42 = 42 %). */
  apr: number;
  dueDay: Day;
}

export interface PaymentEntry {
  debtType: DebtType;
  dueDay: Day;
  amountDue: number;
  amountPaid: number;
  paidDay: Day | null;
  status: PaymentStatus;
}

/**
 * Spending on one day in one category: one transaction (count 1) or the aggregate of several
 * (the loader sums per day and category; `max` keeps the largest single transaction).
 */
export interface ExpenseEntry {
  day: Day;
  category: string;
  /** A recurring bill (rent, utilities, telecom, school fees), by merchant category code. */
  fixed: boolean;
  amount: number;
  count: number;
  max: number;
}

export interface GoalEntry {
  kind: string;
  status: GoalStatus;
  target: number;
  saved: number;
  targetDay: Day | null;
  createdDay: Day;
}

export interface CoachEntry {
  day: Day;
  intent: string;
  /** -1 (distressed) .. 1 (confident). */
  sentiment: number;
  messages: number;
}

export interface PastScore {
  day: Day;
  score: number;
}

export interface Household {
  userId: string;
  country: Country;
  /** ISO 4217 code every amount is expressed in. */
  currency: string;
  createdDay: Day;
  income: IncomeEntry[];
  debts: DebtEntry[];
  payments: PaymentEntry[];
  expenses: ExpenseEntry[];
  goals: GoalEntry[];
  coach: CoachEntry[];
  /** Earlier diagnoses (at least the one the 30-day trend compares with, when it exists). */
  history: PastScore[];
}

/** Each tenant's currency: a household's amounts are expressed in it. */
export const COUNTRY_CURRENCY: Record<Country, string> = { EC: "USD", MX: "MXN", PE: "PEN", CO: "COP", CL: "CLP" };

/**
 * Units of each currency per US dollar, used only to put a row in another currency (a USD card
 * held by a Mexican household) on the same footing as the rest of the household for ratios.
 * Reference values, not market quotes: a one-off conversion error of a few per cent moves a
 * ratio by a few per cent of itself, far less than the band widths. Unknown currencies are
 * treated as the household's own.
 */
export const REFERENCE_RATES: Readonly<Record<string, number>> = { USD: 1, MXN: 18.5, PEN: 3.75, COP: 4100, CLP: 950 };

/** Converts minor units of `from` into minor units of `to` (exact when the two are equal). */
export function convert(amount: number, from: string, to: string): number {
  if (from === to) return amount;
  const source = REFERENCE_RATES[from];
  const target = REFERENCE_RATES[to];
  if (source === undefined || target === undefined) return amount;
  return (amount / source) * target;
}

/**
 * Merchant category codes of recurring bills: real-estate rent (6513), utilities (4900),
 * telecom (4814, 4816), schools (8211). Spending volatility is measured without them, because
 * they recur by design and their monthly timing only adds noise to fortnightly totals.
 */
export const FIXED_BILL_MCCS: ReadonlySet<string> = new Set(["6513", "4900", "4814", "4816", "8211"]);

/** Income per month from the streams active on `day` (started on or before it, not yet ended). */
export function monthlyIncomeOn(income: readonly IncomeEntry[], day: Day, kind?: IncomeKind): number {
  let total = 0;
  for (const stream of income) {
    if (stream.startedDay > day || (stream.endedDay !== null && stream.endedDay <= day)) continue;
    if (kind !== undefined && stream.kind !== kind) continue;
    total += stream.monthly;
  }
  return total;
}

/** A debt still being repaid (anything but paid off, with a balance left). */
export function isOpenDebt(debt: DebtEntry): boolean {
  return debt.status !== "PAID_OFF" && debt.balance > 0;
}

const byNumbers = (...keys: number[][]) => {
  for (let i = 0; i < keys[0]!.length; i++) {
    const difference = keys[0]![i]! - keys[1]![i]!;
    if (difference !== 0) return difference;
  }
  return 0;
};
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The household with every list in one fixed order. Sums of converted (non-integer) amounts
 * depend on the order they are added in, in their last bits; computing over the canonical
 * order makes results identical however the rows were read.
 */
export function canonicalHousehold(household: Household): Household {
  return {
    ...household,
    income: [...household.income].sort(
      (a, b) => byNumbers([a.startedDay, a.endedDay ?? Infinity, a.monthly], [b.startedDay, b.endedDay ?? Infinity, b.monthly]) || byText(a.kind, b.kind),
    ),
    debts: [...household.debts].sort((a, b) => byText(a.id, b.id) || byNumbers([a.balance, a.dueDay], [b.balance, b.dueDay])),
    payments: [...household.payments].sort(
      (a, b) =>
        byNumbers([a.dueDay, a.amountDue, a.amountPaid, a.paidDay ?? -1], [b.dueDay, b.amountDue, b.amountPaid, b.paidDay ?? -1]) ||
        byText(a.debtType, b.debtType) ||
        byText(a.status, b.status),
    ),
    expenses: [...household.expenses].sort(
      (a, b) => a.day - b.day || byText(a.category, b.category) || Number(a.fixed) - Number(b.fixed) || byNumbers([a.amount, a.count, a.max], [b.amount, b.count, b.max]),
    ),
    goals: [...household.goals].sort(
      (a, b) => byText(a.kind, b.kind) || byNumbers([a.createdDay, a.target, a.saved], [b.createdDay, b.target, b.saved]) || byText(a.status, b.status),
    ),
    coach: [...household.coach].sort((a, b) => a.day - b.day || byText(a.intent, b.intent) || byNumbers([a.sentiment, a.messages], [b.sentiment, b.messages])),
    history: [...household.history].sort((a, b) => a.day - b.day || a.score - b.score),
  };
}
