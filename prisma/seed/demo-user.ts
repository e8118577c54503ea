// USR_42891, the user the brief's examples are about: a Mexican user (the brief's consent
// request says MX, and every snippet, test and the contract suite send it as written). Its
// debts are the brief's two in shape (a credit card at 42 % falling due on the 25th, an
// instalment plan at 31 % due on the 18th, nothing else) but Mexican: BBVA México and
// Banorte, in MXN; the brief's Banco Pichincha and Diners Club in USD belong to an Ecuadorian
// person, and a Mexican one holding them was the inconsistency. Its records are built so that
// the engine (domain/diagnosis) measures the brief's three factor values (debt_to_income 0.51,
// expense_volatility 0.18, savings_ratio 0.04) and scores 64 / AMBER, with -3 against the month
// before: the seeded snapshot is the engine's own diagnosis of these rows, so running it again
// gives the same answer. The brief's weights (0.34 / 0.21 / 0.18) are not reproduced: the
// engine's weights are the same for everyone (docs/wellness.md). It has an open
// missed-due-date alert with the brief's webhook payload. Dates are relative to `now`: seeded
// with now = 2026-05-08 the debts fall due on 2026-05-25 and 2026-05-18 and the next review is
// on 2026-06-08, as in the brief. The expenses are generated as for anyone else, from a fixed
// stream, then scaled to the person's budget, so the demo user is the same whatever the seed.
import { diagnose } from "../../domain/diagnosis/diagnose.ts";
import { FACTOR_NAMES, type FactorValues, normalise, scoreOf } from "../../domain/diagnosis/model.ts";
import { DAYS_PER_MONTH, FIXED_BILL_MCCS } from "../../domain/household/household.ts";
import { addMonths, type Day, DAY_MS, dayInMonth, dayStartMs, firstOfMonth, parts } from "./calendar.ts";
import type { CountryCode } from "./catalogue.ts";
import { COUNTRY_PROFILES } from "./country-profiles.ts";
import { coachTranscript } from "./coach-texts.ts";
import { shifted } from "./diagnosis.ts";
import { generateFinances } from "./household.ts";
import { rowId } from "./household-context.ts";
import { DEMO_USER_INDEX, householdInput, type PopulationContext } from "./population.ts";
import { dailyScores } from "./daily-history.ts";
import { hash32, Rng } from "./prng.ts";
import type { AlertRow, CoachSessionRow, DebtPaymentRow, DebtRow, ExpenseRow, GoalRow, Household, IncomeRow, PaymentStatusCode } from "./rows.ts";
import { engineSnapshots, householdFromFinances } from "./wellness-engine.ts";

export const DEMO_USER_ID = "USR_42891";
export const DEMO_COUNTRY: CountryCode = "MX";

/** The brief's diagnosis: score, and the three factor values it prints. */
export const DEMO_SCORE = 64;
export const DEMO_FACTOR_VALUES = { debt_to_income: 0.51, expense_volatility: 0.18, savings_ratio: 0.04 } as const;
/** Score on the first of this month and of the previous one: 64 - 67 = the brief's trend of -3, whichever the reference. */
const PREVIOUS_SCORE = 67;
/** Scores by months before the current month, oldest last: a slow climb, then a slip. */
const HISTORY: readonly number[] = [PREVIOUS_SCORE, PREVIOUS_SCORE, 68, 66, 63, 61, 60, 58, 59, 56, 55, 53, 52, 50];

/** Monthly income: a salary and some freelance work (MXN cents). */
const SALARY = 980_000;
const FREELANCE = 160_000;
const INCOME = SALARY + FREELANCE;
/** What the rest of the person's finances measure; with the brief's three values they score 64. */
const LIQUIDITY_MONTHS = 4.5;
const GOAL_PROGRESS = 0.5;

function monthsBefore(today: Day, day: Day): number {
  const a = parts(firstOfMonth(today));
  const b = parts(day);
  return (a.year - b.year) * 12 + (a.month - b.month);
}

interface DemoDebtPlan {
  debt: DebtRow;
  lateOffset: number | null;
  amounts: (offset: number) => number;
}

/** Monthly payment of `principal` over `months` at `apr` (annuity), and what is left after `paid` of them. */
function annuity(principal: number, apr: number, months: number, paid: number): { payment: number; left: number } {
  const r = apr / 12;
  const payment = Math.round((principal * r) / (1 - (1 + r) ** -months));
  const left = Math.round(payment * ((1 - (1 + r) ** -(months - paid)) / r));
  return { payment, left };
}

function demoDebts(userId: string, ids: { index: number; idKey: number }, today: Day): DemoDebtPlan[] {
  // A quarter of the limit used: the card is not the problem, the loan's instalment is.
  const card: DebtRow = {
    id: rowId("dbt", ids, 0),
    userId,
    country: DEMO_COUNTRY,
    issuer: "BBVA México",
    type: "CREDIT_CARD",
    principal: 1_150_000,
    balance: 1_248_055,
    creditLimit: 5_000_000,
    minimumPayment: 62_403, // 5 % of the balance
    currency: "MXN",
    apr: 0.42,
    dueDate: today + 17,
    status: "CURRENT",
    openedAt: today - 730,
    updatedAt: dayStartMs(today - 1) + 14 * 3600 * 1000,
  };
  // 53,000.00 over 12 months at 31 %: six instalments paid, six left.
  const loan = annuity(5_300_000, 0.31, 12, 6);
  const banorte: DebtRow = {
    id: rowId("dbt", ids, 1),
    userId,
    country: DEMO_COUNTRY,
    issuer: "Banorte",
    type: "INSTALLMENT",
    principal: 5_300_000,
    balance: loan.left,
    creditLimit: null,
    minimumPayment: loan.payment,
    currency: "MXN",
    apr: 0.31,
    dueDate: today + 10,
    status: "CURRENT",
    openedAt: addMonths(today + 10, -7) + 3,
    updatedAt: dayStartMs(today - 1) + 14 * 3600 * 1000,
  };
  const cardDues = [57_210, 59_480, 60_950, 61_870, 62_010, 62_403];
  return [
    // Every card payment on time; last month's loan instalment paid late (the missed-due-date alert).
    { debt: card, lateOffset: null, amounts: (offset) => cardDues[offset + 6] ?? card.minimumPayment },
    { debt: banorte, lateOffset: -1, amounts: () => loan.payment },
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
      } else if (lateOffset !== null && offset === lateOffset) {
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
  const input = { ...householdInput(context, DEMO_USER_INDEX, DEMO_COUNTRY), forceFoodSpike: true };
  if (input.userId !== DEMO_USER_ID) throw new Error(`demo user id mapped to ${input.userId}`);
  const finances = generateFinances(input, rng);
  const profile = COUNTRY_PROFILES.MX;

  const incomeStreams: IncomeRow[] = [
    {
      id: rowId("inc", input, 0),
      userId: DEMO_USER_ID,
      country: DEMO_COUNTRY,
      source: "salary:Grupo Bimbo",
      kind: "RECURRING",
      monthlyAmount: SALARY,
      currency: profile.currency,
      startedAt: today - 1100,
      endedAt: null,
    },
    {
      id: rowId("inc", input, 1),
      userId: DEMO_USER_ID,
      country: DEMO_COUNTRY,
      source: "freelance",
      kind: "VARIABLE",
      monthlyAmount: FREELANCE,
      currency: profile.currency,
      startedAt: today - 300,
      endedAt: null,
    },
  ];
  const plans = demoDebts(DEMO_USER_ID, input, today);
  const debts = plans.map((plan) => plan.debt);
  const debtPayments = demoPayments(plans, today);
  const createdAt = dayStartMs(today - 400) + 16 * 3600 * 1000;
  // What the debts take out of a month beside spending, as the engine counts it (the card's interest, the loan's instalment).
  const { debtOutgoings } = diagnose(householdFromFinances(input, { ...finances, createdAt, incomeStreams, debts, debtPayments, expenses: [], goals: [] }), today).measurements;
  // Spending that leaves the brief's 4 % of income after the debts, as volatile as the brief says.
  const expenses = budgetedExpenses(finances.expenses, today, Math.round(INCOME * (1 - DEMO_FACTOR_VALUES.savings_ratio) - debtOutgoings), DEMO_FACTOR_VALUES.expense_volatility);
  const draft = householdFromFinances(input, { ...finances, createdAt, incomeStreams, debts, debtPayments, expenses, goals: [] });
  const outgoings = diagnose(draft, today).measurements.monthlyOutgoings;
  const saved = Math.round(LIQUIDITY_MONTHS * outgoings);
  const goals: GoalRow[] = [
    {
      id: rowId("gol", input, 0),
      userId: DEMO_USER_ID,
      country: DEMO_COUNTRY,
      kind: "emergency_fund",
      name: "Fondo de emergencia",
      targetAmount: Math.round(saved / GOAL_PROGRESS / 100) * 100,
      currentAmount: saved,
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
      country: DEMO_COUNTRY,
      startedAt,
      endedAt: startedAt + messages * 50_000,
      intent,
      sentiment,
      messageCount: messages,
    };
  });
  const firstSession = coachSessions[0] as CoachSessionRow;
  const transcripts = [{ sessionId: firstSession.id, country: DEMO_COUNTRY, text: coachTranscript("debt_stress", rng) }];

  const rows = { ...finances, createdAt, incomeStreams, debts, debtPayments, expenses, goals };
  const diagnosis = diagnose(householdFromFinances(input, rows), today);
  assertBriefDiagnosis(diagnosis.score, diagnosis.values);
  const snapshots = engineSnapshots({
    ids: input,
    userId: DEMO_USER_ID,
    country: DEMO_COUNTRY,
    today,
    diagnosis,
    valuesAt: (day) => valuesScoring(diagnosis.values, targetScore(today, day)),
    rng,
  });
  const previous = snapshots.find((snapshot) => snapshot.snapshotDate === firstOfMonth(today, -1));
  if (previous && previous.score !== PREVIOUS_SCORE) throw new Error(`the demo user's previous month scores ${previous.score}, not ${PREVIOUS_SCORE}`);

  const loanMissed = dayInMonth(today + 10, -1, parts(today + 10).day);
  const alertAt = Math.min(dayStartMs(today - 1), dayStartMs(loanMissed + 3)) + (15 - profile.utcOffsetHours) * 3600 * 1000 + 20 * 60 * 1000;
  const alerts: AlertRow[] = [
    {
      id: rowId("alr", input, 0),
      userId: DEMO_USER_ID,
      country: DEMO_COUNTRY,
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

  return {
    user: {
      id: DEMO_USER_ID,
      country: DEMO_COUNTRY,
      nationalIdDigest: finances.nationalIdDigest,
      householdSize: 3,
      createdAt,
    },
    consent: null,
    consentEvents: [],
    snapshots,
    dailyScores: dailyScores(snapshots, today, new Rng(hash32(DEMO_USER_ID, "daily"))),
    goals,
    debts,
    debtPayments,
    expenses,
    incomeStreams,
    coachSessions,
    transcripts,
    alerts,
  };
}

function targetScore(today: Day, day: Day): number {
  return HISTORY[monthsBefore(today, day)] ?? HISTORY[HISTORY.length - 1] ?? 50;
}

/** The diagnosis the brief prints, or the seed stops: a change to the engine or to these rows must be a decision. */
function assertBriefDiagnosis(score: number, values: FactorValues): void {
  const off = Object.entries(DEMO_FACTOR_VALUES).filter(([name, value]) => values[name as keyof FactorValues] !== value);
  if (score !== DEMO_SCORE || off.length > 0) {
    throw new Error(`the demo user's rows diagnose as ${score} (${off.map(([name]) => `${name} ${values[name as keyof FactorValues]}`).join(", ")}), not the brief's ${DEMO_SCORE}`);
  }
}

/**
 * Factor values near `base` that the engine scores `target`: every factor moved the same number of
 * steps in its better (or worse) direction, the history walk's way.
 */
function valuesScoring(base: FactorValues, target: number): FactorValues {
  const scored = (shift: number) => {
    const values = shifted(base, shift);
    for (const name of FACTOR_NAMES) values[name] = normalise(name, values[name]);
    return values;
  };
  let lo = -40;
  let hi = 40;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (scoreOf(scored(mid)) < target) lo = mid;
    else hi = mid;
  }
  return scored(hi);
}

/**
 * The generated expenses scaled to a monthly budget, with their fortnightly day-to-day spending
 * pulled towards (or pushed from) its mean until its coefficient of variation is `volatility`:
 * the same merchants, days and spikes, the person's own amounts.
 */
function budgetedExpenses(expenses: readonly ExpenseRow[], today: Day, monthly: number, volatility: number): ExpenseRow[] {
  const dayOf = (expense: ExpenseRow) => Math.floor(expense.occurredAt / DAY_MS);
  const start = today - 84; // six fortnights, as measure.ts counts them
  const slotOf = (expense: ExpenseRow) => {
    const day = dayOf(expense);
    return !FIXED_BILL_MCCS.has(expense.mcc) && day > start && day <= today ? Math.floor((day - start - 1) / 14) : -1;
  };
  const sums = new Array<number>(6).fill(0);
  for (const expense of expenses) {
    const slot = slotOf(expense);
    if (slot >= 0) sums[slot] = (sums[slot] ?? 0) + expense.amount;
  }
  const mean = sums.reduce((a, b) => a + b, 0) / 6;
  const cv = Math.sqrt(sums.reduce((a, b) => a + (b - mean) ** 2, 0) / 6) / mean;
  const stretch = cv > 0 ? volatility / cv : 1;
  const smoothed = expenses.map((expense) => {
    const slot = slotOf(expense);
    const sum = sums[slot] ?? 0;
    return slot < 0 || sum === 0 ? expense : { ...expense, amount: (expense.amount * (mean + stretch * (sum - mean))) / sum };
  });
  let spent = 0;
  for (const expense of smoothed) {
    const day = dayOf(expense);
    if (day > today - 90 && day <= today) spent += expense.amount;
  }
  const scale = monthly / ((spent * DAYS_PER_MONTH) / 90);
  return smoothed.map((expense) => ({ ...expense, amount: Math.max(1, Math.round(expense.amount * scale)) }));
}
