// The rows the generator produces, one interface per table. Money is held as integer cents
// (never a float) and written as exact `numeric` text; days are `Day` numbers and instants
// epoch milliseconds, both rendered to text only when a batch is written.
import type { Day } from "./calendar.ts";
import type { CountryCode } from "./catalogue.ts";

export type Cents = number;

export interface UserRow {
  id: string;
  country: CountryCode;
  nationalIdDigest: string | null;
  householdSize: number;
  createdAt: number;
}

export interface ConsentRow {
  id: string;
  clientId: string;
  userId: string;
  country: CountryCode;
  status: "AUTHORISED";
  scopes: readonly string[];
  consentTextVersion: string;
  createdAt: number;
  authorisedAt: number;
  expiresAt: number | null;
}

export interface ConsentEventRow {
  consentId: string;
  status: "AWAITING_AUTHORISATION" | "AUTHORISED";
  reason: string | null;
  at: number;
}

export interface Factor {
  name: string;
  weight: number;
  value: number;
}

export interface ActionStep {
  code: string;
  title: string;
  expectedScoreDelta: number;
}

export type Band = "GREEN" | "AMBER" | "RED";

export interface SnapshotRow {
  id: string;
  userId: string;
  country: CountryCode;
  snapshotDate: Day;
  score: number;
  band: Band;
  trend30d: number;
  factors: Factor[];
  actionPlan: ActionStep[];
  computedAt: number;
  nextReviewAt: Day;
}

/** One calendar year of a person's daily scores: `scores[i]` is day-of-year i + 1; holes are days without one. */
export interface DailyScoresRow {
  userId: string;
  country: CountryCode;
  year: number;
  scores: (number | undefined)[];
}

export interface GoalRow {
  id: string;
  userId: string;
  country: CountryCode;
  kind: string;
  name: string;
  targetAmount: Cents;
  currentAmount: Cents;
  currency: string;
  targetDate: Day | null;
  status: "ACTIVE" | "ACHIEVED" | "ABANDONED";
  createdAt: number;
}

export type DebtStatusCode = "CURRENT" | "LATE" | "DEFAULTED" | "PAID_OFF";

export interface DebtRow {
  id: string;
  userId: string;
  country: CountryCode;
  issuer: string;
  type: string;
  principal: Cents;
  balance: Cents;
  creditLimit: Cents | null;
  minimumPayment: Cents;
  currency: string;
  /** Fraction, four decimals at most. */
  apr: number;
  dueDate: Day;
  status: DebtStatusCode;
  openedAt: Day;
  updatedAt: number;
}

export type PaymentStatusCode = "ON_TIME" | "LATE" | "MISSED" | "PENDING";

export interface DebtPaymentRow {
  debtId: string;
  userId: string;
  country: CountryCode;
  dueDate: Day;
  amountDue: Cents;
  amountPaid: Cents;
  paidAt: Day | null;
  status: PaymentStatusCode;
}

export interface ExpenseRow {
  userId: string;
  country: CountryCode;
  amount: Cents;
  currency: string;
  mcc: string;
  category: string;
  merchant: string;
  occurredAt: number;
}

export interface IncomeRow {
  id: string;
  userId: string;
  country: CountryCode;
  source: string;
  kind: "RECURRING" | "VARIABLE";
  monthlyAmount: Cents;
  currency: string;
  startedAt: Day;
  endedAt: Day | null;
}

export interface CoachSessionRow {
  id: string;
  userId: string;
  country: CountryCode;
  startedAt: number;
  endedAt: number;
  intent: string;
  /** -1..1, three decimals at most. */
  sentiment: number;
  messageCount: number;
}

export interface TranscriptRow {
  sessionId: string;
  country: CountryCode;
  text: string;
}

/** A transcript as stored: `text` sealed with the tenant's data key (platform/encryption). */
export interface SealedTranscriptRow extends TranscriptRow {
  dataKeyId: string;
}

export interface AlertRow {
  id: string;
  userId: string;
  country: CountryCode;
  type: string;
  riskBand: Band;
  severity: "LOW" | "MEDIUM" | "HIGH" | "CRITICAL";
  contributingFactors: string[];
  suggestedAction: string;
  ruleId: string | null;
  status: "OPEN" | "ACKNOWLEDGED" | "RESOLVED";
  createdAt: number;
  acknowledgedAt: number | null;
  resolvedAt: number | null;
}

/** Everything one user owns. */
export interface Household {
  user: UserRow;
  consent: ConsentRow | null;
  consentEvents: ConsentEventRow[];
  snapshots: SnapshotRow[];
  dailyScores: DailyScoresRow[];
  goals: GoalRow[];
  debts: DebtRow[];
  debtPayments: DebtPaymentRow[];
  expenses: ExpenseRow[];
  incomeStreams: IncomeRow[];
  coachSessions: CoachSessionRow[];
  transcripts: TranscriptRow[];
  alerts: AlertRow[];
}

/** Rounds cents to a multiple of `step` (half away from zero); exact for integers. */
export function roundCents(cents: number, step: number): Cents {
  const rounded = Math.round(Math.abs(cents) / step) * step;
  return cents < 0 ? -rounded : rounded;
}

/** Integer cents as exact decimal text: 124055 -> "1240.55". */
export function formatCents(cents: Cents): string {
  const negative = cents < 0;
  const abs = Math.abs(cents);
  const whole = Math.floor(abs / 100);
  const fraction = abs - whole * 100;
  return `${negative ? "-" : ""}${whole}.${fraction < 10 ? "0" : ""}${fraction}`;
}
