// USR_42891, the user the brief's examples are about: a Mexican user (the consent example
// says MX) whose debt export shows a Banco Pichincha card and a Diners Club instalment
// plan in USD exactly as the brief prints them, whose latest diagnosis is 64 / AMBER /
// -3 with the brief's three leading factors, and who has an open missed-due-date alert
// with the brief's webhook payload. Dates are relative to `now`: seeded with now =
// 2026-05-08 the debts fall due on 2026-05-25 and 2026-05-18 and the next review is on
// 2026-06-08, as in the brief. The rest of the household is generated as for anyone else,
// from a fixed stream, so the demo user is the same whatever the seed.
import type { FactorValues } from "../../domain/diagnosis/model.ts";
import { addMonths, type Day, DAY_MS, dayInMonth, dayStartMs, firstOfMonth, parts } from "./calendar.ts";
import { COUNTRY_PROFILES } from "./catalogue.ts";
import { coachTranscript } from "./coach-texts.ts";
import { demoSnapshots, type FactorWeights, valuesForScore } from "./demo-wellness.ts";
import { generateFinances } from "./household.ts";
import { rowId } from "./household-context.ts";
import { cohortTags, DEMO_USER_INDEX, householdInput, type PopulationContext } from "./population.ts";
import { hash32, Rng } from "./prng.ts";
import type { AlertRow, CoachSessionRow, DebtPaymentRow, DebtRow, Household, IncomeRow, PaymentStatusCode, SnapshotRow } from "./rows.ts";

export const DEMO_USER_ID = "USR_42891";

/** The brief's diagnosis: the first three factors are printed there; the rest complete it. */
export const DEMO_WEIGHTS: FactorWeights = {
  debt_to_income: 0.34,
  expense_volatility: 0.21,
  savings_ratio: 0.18,
  liquidity_buffer: 0.08,
  on_time_payment_rate: 0.07,
  credit_utilisation: 0.05,
  income_stability: 0.04,
  goal_progress: 0.03,
};

export const DEMO_VALUES: FactorValues = {
  debt_to_income: 0.51,
  expense_volatility: 0.18,
  savings_ratio: 0.04,
  liquidity_buffer: 1.8,
  on_time_payment_rate: 0.83, // 10 of the last 12 instalments on time
  credit_utilisation: 0.5, // 1,240.55 of a 2,500.00 limit
  income_stability: 0.85,
  goal_progress: 0.12, // 3,600 of a 30,000 MXN emergency fund
};

export const DEMO_SCORE = 64;
/** Score on the first of the previous month; 64 - 67 = the brief's trend of -3. */
const PREVIOUS_MONTH_SCORE = 67;
/** Scores by months before the current month, oldest last: a slow climb, then a slip. */
const HISTORY: readonly number[] = [65, PREVIOUS_MONTH_SCORE, 68, 66, 63, 61, 60, 58, 59, 56, 55, 53, 52, 50];

function monthsBefore(today: Day, day: Day): number {
  const a = parts(firstOfMonth(today));
  const b = parts(day);
  return (a.year - b.year) * 12 + (a.month - b.month);
}

interface DemoDebtPlan {
  debt: DebtRow;
  lateOffset: number;
  amounts: (offset: number) => number;
}

function demoDebts(userId: string, ids: { index: number; idKey: number }, today: Day): DemoDebtPlan[] {
  const card: DebtRow = {
    id: rowId("dbt", ids, 0),
    userId,
    country: "MX",
    issuer: "Banco Pichincha",
    type: "CREDIT_CARD",
    principal: 115_000,
    balance: 124_055,
    creditLimit: 250_000,
    minimumPayment: 6_203, // 5 % of the balance
    currency: "USD",
    apr: 0.42,
    dueDate: today + 17,
    status: "CURRENT",
    openedAt: today - 730,
    updatedAt: dayStartMs(today - 1) + 14 * 3600 * 1000,
  };
  // 1,500.00 over 12 months at 31 %: 147.46 a month leaves 800.00 after six instalments.
  const instalment = 14_746;
  const diners: DebtRow = {
    id: rowId("dbt", ids, 1),
    userId,
    country: "MX",
    issuer: "Diners Club",
    type: "INSTALLMENT",
    principal: 150_000,
    balance: 80_000,
    creditLimit: null,
    minimumPayment: instalment,
    currency: "USD",
    apr: 0.31,
    dueDate: today + 10,
    status: "CURRENT",
    openedAt: addMonths(today + 10, -7) + 3,
    updatedAt: dayStartMs(today - 1) + 14 * 3600 * 1000,
  };
  const cardDues = [5_890, 6_120, 6_040, 6_310, 6_180, 6_203];
  return [
    { debt: card, lateOffset: -4, amounts: (offset) => cardDues[offset + 6] ?? card.minimumPayment },
    { debt: diners, lateOffset: -1, amounts: () => instalment },
  ];
}

function demoPayments(plans: DemoDebtPlan[], today: Day): DebtPaymentRow[] {
  const rows: DebtPaymentRow[] = [];
  for (const { debt, lateOffset, amounts } of plans) {
    const dueDay = parts(debt.dueDate).day;
    for (let offset = -6; offset <= 0; offset++) {
      const due = dayInMonth(debt.dueDate, offset, dueDay);
      const amountDue = amounts(offset);
      let status: PaymentStatusCode = "ON_TIME";
      let paidAt: Day | null = due - 2;
      if (offset === 0) {
        status = "PENDING";
        paidAt = null;
      } else if (offset === lateOffset) {
        status = "LATE";
        paidAt = Math.min(today - 1, due + 12);
      }
      rows.push({
        debtId: debt.id,
        userId: debt.userId,
        country: debt.country,
        dueDate: due,
        amountDue,
        amountPaid: status === "PENDING" ? 0 : amountDue,
        paidAt,
        status,
      });
    }
  }
  return rows;
}

export function generateDemoHousehold(context: PopulationContext): Household {
  const { today } = context;
  const rng = new Rng(hash32(DEMO_USER_ID, "demo"));
  const input = { ...householdInput(context, DEMO_USER_INDEX, "MX"), forceFoodSpike: true };
  if (input.userId !== DEMO_USER_ID) throw new Error(`demo user id mapped to ${input.userId}`);
  const finances = generateFinances(input, rng);
  const profile = COUNTRY_PROFILES.MX;

  const incomeStreams: IncomeRow[] = [
    {
      id: rowId("inc", input, 0),
      userId: DEMO_USER_ID,
      country: "MX",
      source: "salary:Grupo Bimbo",
      kind: "RECURRING",
      monthlyAmount: 1_850_000,
      currency: profile.currency,
      startedAt: today - 1100,
      endedAt: null,
    },
    {
      id: rowId("inc", input, 1),
      userId: DEMO_USER_ID,
      country: "MX",
      source: "freelance",
      kind: "VARIABLE",
      monthlyAmount: 320_000,
      currency: profile.currency,
      startedAt: today - 300,
      endedAt: null,
    },
  ];
  const plans = demoDebts(DEMO_USER_ID, input, today);
  const debts = plans.map((plan) => plan.debt);
  const debtPayments = demoPayments(plans, today);
  const createdAt = dayStartMs(today - 400) + 16 * 3600 * 1000;
  const goals: Household["goals"] = [
    {
      id: rowId("gol", input, 0),
      userId: DEMO_USER_ID,
      country: "MX",
      kind: "emergency_fund",
      name: "Fondo de emergencia",
      targetAmount: 3_000_000,
      currentAmount: 360_000,
      currency: profile.currency,
      targetDate: addMonths(firstOfMonth(today), 12),
      status: "ACTIVE",
      createdAt: createdAt + 3 * DAY_MS,
    },
  ];
  const sessions: [number, CoachSessionRow["intent"], number, number][] = [
    [40, "debt_stress", -0.42, 18],
    [21, "budgeting_help", 0.12, 11],
    [6, "payment_reminder", 0.31, 6],
  ];
  const coachSessions: CoachSessionRow[] = sessions.map(([daysAgo, intent, sentiment, messages], i) => {
    const startedAt = dayStartMs(today - daysAgo) + (20 - profile.utcOffsetHours) * 3600 * 1000 - DAY_MS;
    return {
      id: rowId("cs", input, i),
      userId: DEMO_USER_ID,
      country: "MX",
      startedAt,
      endedAt: startedAt + messages * 50_000,
      intent,
      sentiment,
      messageCount: messages,
    };
  });
  const firstSession = coachSessions[0] as CoachSessionRow;
  const transcripts = [{ sessionId: firstSession.id, country: "MX" as const, text: coachTranscript("debt_stress", rng) }];

  const snapshots: SnapshotRow[] = demoSnapshots({
    ids: input,
    userId: DEMO_USER_ID,
    country: "MX",
    today,
    weights: DEMO_WEIGHTS,
    valuesAt: (day) => (day === today ? DEMO_VALUES : valuesForScore(DEMO_VALUES, DEMO_WEIGHTS, targetScore(today, day))),
    scoreAt: (day, computed) => (day === today ? computed : targetScore(today, day)),
    rng,
  });

  const dinersMissed = dayInMonth(today + 10, -1, parts(today + 10).day);
  const alertAt = Math.min(dayStartMs(today - 1), dayStartMs(dinersMissed + 3)) + (15 - profile.utcOffsetHours) * 3600 * 1000 + 20 * 60 * 1000;
  const alerts: AlertRow[] = [
    {
      id: rowId("alr", input, 0),
      userId: DEMO_USER_ID,
      country: "MX",
      type: "missed_due_date",
      riskBand: "RED",
      severity: "HIGH",
      contributingFactors: ["missed_due_date", "expense_spike_food"],
      suggestedAction: "soft_outreach_v2",
      ruleId: "pv_missed_due_date_v3",
      status: "OPEN",
      createdAt: alertAt,
      acknowledgedAt: null,
      resolvedAt: null,
    },
  ];

  const signals = { ...finances.signals, activeIncome: 2_170_000, recurringIncome: 1_850_000, referenceIncome: 2_170_000, incomeDropDay: null };
  const demoFinances = { ...finances, householdSize: 3, createdAt, incomeStreams, debts, debtPayments, goals, signals };
  return {
    user: {
      id: DEMO_USER_ID,
      country: "MX",
      nationalIdDigest: finances.nationalIdDigest,
      householdSize: 3,
      cohortTags: cohortTags(demoFinances, DEMO_VALUES),
      createdAt,
    },
    consent: null,
    consentEvents: [],
    snapshots,
    goals,
    debts,
    debtPayments,
    expenses: finances.expenses,
    incomeStreams,
    coachSessions,
    transcripts,
    alerts,
  };
}

function targetScore(today: Day, day: Day): number {
  return HISTORY[monthsBefore(today, day)] ?? HISTORY[HISTORY.length - 1] ?? 50;
}
