// Generates one synthetic household's finances: income streams, debts and their payment
// history, 90 days of card transactions, savings goals and coach sessions. A single
// "stress" level (0 calm .. 1 distressed) drives every part coherently, so that a user
// with maxed-out cards also tends to pay late, save little and talk to the coach about it.
import { createHmac } from "node:crypto";
import { type Day, dayStartMs } from "./calendar.ts";
import type { CountryCode } from "./catalogue.ts";
import { COUNTRY_PROFILES } from "./country-profiles.ts";
import { generateCoach } from "./coach.ts";
import { generateDebts } from "./debts.ts";
import { generateExpenses } from "./expenses.ts";
import { generateGoals } from "./goals.ts";
import type { HouseholdInput } from "./household-context.ts";
import { generateIncome } from "./income.ts";
import { type Rng, WeightedTable } from "./prng.ts";
import type { Cents, CoachSessionRow, DebtPaymentRow, DebtRow, ExpenseRow, GoalRow, IncomeRow, TranscriptRow } from "./rows.ts";
import { roundCents } from "./rows.ts";

export interface HouseholdSignals {
  stress: number;
  /** Monthly income before any recent loss, in cents. */
  referenceIncome: Cents;
  /** Income from streams still active today, in cents per month. */
  activeIncome: Cents;
  recurringIncome: Cents;
  incomeDropDay: Day | null;
  foodSpikeDay: Day | null;
  /** Cash and emergency savings that could be drawn today, in cents. */
  liquidSavings: Cents;
}

export interface Finances {
  householdSize: number;
  createdAt: number;
  nationalIdDigest: string | null;
  incomeStreams: IncomeRow[];
  debts: DebtRow[];
  debtPayments: DebtPaymentRow[];
  expenses: ExpenseRow[];
  goals: GoalRow[];
  coachSessions: CoachSessionRow[];
  transcripts: TranscriptRow[];
  signals: HouseholdSignals;
}

const PERSONAS = new WeightedTable([
  ["steady", 0.36],
  ["stretched", 0.4],
  ["distressed", 0.24],
] as const);

const HOUSEHOLD_SIZES = new WeightedTable([
  [1, 0.2],
  [2, 0.25],
  [3, 0.25],
  [4, 0.18],
  [5, 0.08],
  [6, 0.04],
] as const);

function drawStress(rng: Rng): number {
  const persona = PERSONAS.pick(rng);
  if (persona === "steady") return rng.float(0, 0.35);
  if (persona === "stretched") return rng.float(0.3, 0.7);
  return rng.float(0.65, 1);
}

function syntheticNationalId(country: CountryCode, rng: Rng): string {
  const digits = (n: number): string => Array.from({ length: n }, () => String(rng.int(0, 9))).join("");
  switch (country) {
    case "EC":
      return `17${digits(8)}`; // cédula, Pichincha province prefix
    case "MX":
      return `CURP${digits(14)}`;
    case "PE":
      return `DNI${digits(8)}`;
    case "CO":
      return `CC${digits(10)}`;
    case "CL":
      return `RUN${digits(8)}`;
  }
}

export function generateFinances(input: HouseholdInput, rng: Rng): Finances {
  const profile = COUNTRY_PROFILES[input.country];
  const { today } = input;
  const stress = drawStress(rng);
  const householdSize: number = HOUSEHOLD_SIZES.pick(rng);
  const createdAt = dayStartMs(today - rng.int(20, 900)) + rng.int(0, 86_399) * 1000;
  const nationalIdDigest = rng.chance(0.75)
    ? createHmac("sha256", input.digestKey).update(syntheticNationalId(input.country, rng)).digest("hex")
    : null;

  const income = generateIncome(input, profile, rng, stress);
  const { debts, payments } = generateDebts(input, profile, rng, stress, income.referenceIncome);
  const renter = !debts.some((d) => d.type === "MORTGAGE") && rng.chance(0.5);
  const { expenses, foodSpikeDay } = generateExpenses(input, profile, rng, stress, income.referenceIncome, householdSize, renter);
  const goals = generateGoals(input, profile, rng, stress, income.referenceIncome, createdAt);

  const lateDebts = debts.filter((d) => d.status === "LATE" || d.status === "DEFAULTED").length;
  const coach = generateCoach(
    input,
    profile,
    rng,
    stress,
    {
      debt_stress: 0.5 * stress + 0.3 * lateDebts,
      budgeting_help: 0.35,
      savings_plan: 0.1 + 0.3 * (1 - stress) + 0.1 * goals.length,
      payment_reminder: 0.15 + 0.1 * debts.length,
      income_loss: income.incomeDropDay === null ? 0.03 : 0.8,
    },
    createdAt,
  );

  let emergency = 0;
  for (const goal of goals) if (goal.kind === "emergency_fund" && goal.status !== "ABANDONED") emergency += goal.currentAmount;
  const cash = roundCents(income.referenceIncome * rng.float(0.1, 3) * (1 - stress) * (1 - stress), profile.amountStepCents);

  return {
    householdSize,
    createdAt,
    nationalIdDigest,
    incomeStreams: income.streams,
    debts,
    debtPayments: payments,
    expenses,
    goals,
    coachSessions: coach.sessions,
    transcripts: coach.transcripts,
    signals: {
      stress,
      referenceIncome: income.referenceIncome,
      activeIncome: income.activeIncome,
      recurringIncome: income.recurringIncome,
      incomeDropDay: income.incomeDropDay,
      foodSpikeDay,
      liquidSavings: emergency + cash,
    },
  };
}
