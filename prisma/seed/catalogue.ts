// The synthetic households' vocabulary: countries, debt types, expense categories, what a
// country's profile holds (its data: country-profiles.ts), purchase and debt shapes, goals,
// coach intents and alert types. Amounts here are in major units of the local currency.
import { WeightedTable } from "./prng.ts";

export const COUNTRIES = ["EC", "MX", "PE", "CO", "CL"] as const;
export type CountryCode = (typeof COUNTRIES)[number];

export const DEBT_TYPES = [
  "CREDIT_CARD",
  "INSTALLMENT",
  "PERSONAL_LOAN",
  "MORTGAGE",
  "AUTO_LOAN",
  "MICROCREDIT",
  "PAYDAY",
] as const;
export type DebtTypeCode = (typeof DEBT_TYPES)[number];

export const EXPENSE_CATEGORIES = [
  "food",
  "groceries",
  "transport",
  "utilities",
  "health",
  "education",
  "entertainment",
  "clothing",
  "housing",
  "telecom",
] as const;
export type ExpenseCategory = (typeof EXPENSE_CATEGORIES)[number];

export interface Merchant {
  name: string;
  /** ISO 18245 merchant category code, four digits. */
  mcc: string;
}

export interface Issuer {
  name: string;
  /** Debt products this issuer plausibly sells. */
  types: readonly DebtTypeCode[];
}

type AprTable = Record<DebtTypeCode, readonly [min: number, max: number]>;

export interface CountryProfile {
  code: CountryCode;
  currency: string;
  /** Share of the synthetic population (Kamina is Ecuadorian: Ecuador is heaviest). */
  weight: number;
  /** Fixed UTC offset in hours used for local times of day (no DST tables needed). */
  utcOffsetHours: number;
  /** Median net monthly salary, local currency. */
  medianMonthlyIncome: number;
  /** Local currency units per US dollar of purchasing power, for pricing purchases. */
  priceScale: number;
  /** Smallest step prices are rounded to, in cents (COP and CLP have no cents in practice). */
  priceStepCents: number;
  /** Smallest step computed amounts (balances, instalments) are rounded to, in cents. */
  amountStepCents: number;
  issuers: readonly Issuer[];
  /** APR as a fraction, per debt type; reflects local caps (EC, CO) or their absence (MX, PE). */
  apr: AprTable;
  merchants: Record<ExpenseCategory, readonly Merchant[]>;
  travelGoal: string;
  employers: readonly string[];
}

/** Typical purchase size per category in US dollars of purchasing power: [median, log-spread]. */
export const PURCHASE_SIZE: Record<ExpenseCategory, readonly [median: number, sigma: number]> = {
  food: [7, 0.55],
  groceries: [32, 0.6],
  transport: [6, 0.8],
  utilities: [32, 0.35],
  health: [16, 0.8],
  education: [35, 0.7],
  entertainment: [11, 0.5],
  clothing: [38, 0.5],
  housing: [24, 0.7],
  telecom: [22, 0.3],
};

/** Relative frequency of day-to-day purchases by category (bills are generated separately). */
export const PURCHASE_MIX = new WeightedTable<ExpenseCategory>([
  ["food", 0.27],
  ["groceries", 0.24],
  ["transport", 0.2],
  ["health", 0.06],
  ["entertainment", 0.09],
  ["clothing", 0.06],
  ["education", 0.04],
  ["housing", 0.04],
]);

/** Loan sizes as multiples of monthly income, and terms in months. */
export const DEBT_SHAPE: Record<DebtTypeCode, { size: readonly [number, number]; termMonths: readonly [number, number] }> = {
  CREDIT_CARD: { size: [0.8, 3.5], termMonths: [0, 0] },
  INSTALLMENT: { size: [0.3, 1.8], termMonths: [6, 24] },
  PERSONAL_LOAN: { size: [1.5, 9], termMonths: [12, 60] },
  MORTGAGE: { size: [35, 110], termMonths: [180, 300] },
  AUTO_LOAN: { size: [8, 25], termMonths: [36, 72] },
  MICROCREDIT: { size: [0.4, 3], termMonths: [6, 24] },
  PAYDAY: { size: [0.2, 0.5], termMonths: [1, 3] },
};

export const DEBT_TYPE_MIX = new WeightedTable<DebtTypeCode>([
  ["CREDIT_CARD", 0.36],
  ["INSTALLMENT", 0.2],
  ["PERSONAL_LOAN", 0.15],
  ["MICROCREDIT", 0.09],
  ["AUTO_LOAN", 0.07],
  ["MORTGAGE", 0.05],
  ["PAYDAY", 0.08],
]);

export const GOAL_KINDS = ["emergency_fund", "education", "home", "travel", "retirement"] as const;
export type GoalKind = (typeof GOAL_KINDS)[number];

export function goalName(kind: GoalKind, profile: CountryProfile): string {
  switch (kind) {
    case "emergency_fund":
      return "Fondo de emergencia";
    case "education":
      return "Educación de los hijos";
    case "home":
      return "Entrada para vivienda propia";
    case "travel":
      return profile.travelGoal;
    case "retirement":
      return "Jubilación tranquila";
  }
}

/** Goal targets as multiples of monthly income. */
export const GOAL_SIZE: Record<GoalKind, readonly [number, number]> = {
  emergency_fund: [2, 6],
  education: [4, 15],
  home: [15, 40],
  travel: [1, 4],
  retirement: [20, 60],
};

export const COACH_INTENTS = ["debt_stress", "budgeting_help", "savings_plan", "payment_reminder", "income_loss"] as const;
export type CoachIntent = (typeof COACH_INTENTS)[number];

export const ALERT_TYPES = ["missed_due_date", "expense_spike_food", "dti_above_limit", "income_drop", "savings_depleted"] as const;
export type AlertType = (typeof ALERT_TYPES)[number];
