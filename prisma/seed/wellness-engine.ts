// The seed's generated households diagnosed by the real engine (subgraphs/wellness/diagnosis):
// today's snapshot is exactly what `runDiagnosis` computes from the same rows on the seed day,
// and the year of history is the engine's score of the synthetic history walk. The demo user's
// rows are built so that the engine gives the brief's figures (demo-user.ts).
import { COUNTRY_CURRENCY, convert, FIXED_BILL_MCCS, type Household } from "../../domain/household/household.ts";
import { actionPlan } from "../../domain/diagnosis/action-plan.ts";
import { type Diagnosis, nextReviewDay } from "../../domain/diagnosis/diagnose.ts";
import { bandOf, FACTOR_NAMES, FACTORS, type FactorValues, normalise, round2, scoreOf, subScore } from "../../domain/diagnosis/model.ts";
import { DAY_MS, type Day, dayStartMs, firstOfMonth } from "./calendar.ts";
import type { CountryCode } from "./catalogue.ts";
import { snapshotDates } from "./diagnosis.ts";
import type { Finances } from "./household.ts";
import { type HouseholdInput, rowId } from "./household-context.ts";
import type { Rng } from "./prng.ts";
import type { SnapshotRow } from "./rows.ts";

/** The engine's input for a generated household: the rows as the database will hold them. */
export function householdFromFinances(input: Pick<HouseholdInput, "userId" | "country">, finances: Finances): Household {
  const currency = COUNTRY_CURRENCY[input.country];
  const to = (amount: number, from: string): number => convert(amount, from, currency);
  const debtTypes = new Map(finances.debts.map((debt) => [debt.id, debt.type]));
  return {
    userId: input.userId,
    country: input.country,
    currency,
    createdDay: Math.floor(finances.createdAt / DAY_MS),
    income: finances.incomeStreams.map((stream) => ({
      kind: stream.kind,
      monthly: to(stream.monthlyAmount, stream.currency),
      startedDay: stream.startedAt,
      endedDay: stream.endedAt,
    })),
    debts: finances.debts.map((debt) => ({
      id: debt.id,
      issuer: debt.issuer,
      type: debt.type as Household["debts"][number]["type"],
      status: debt.status,
      principal: to(debt.principal, debt.currency),
      balance: to(debt.balance, debt.currency),
      creditLimit: debt.creditLimit === null ? null : to(debt.creditLimit, debt.currency),
      minimumPayment: to(debt.minimumPayment, debt.currency),
      apr: debt.apr,
      dueDay: debt.dueDate,
    })),
    payments: finances.debtPayments.map((payment) => ({
      debtType: (debtTypes.get(payment.debtId) ?? "INSTALLMENT") as Household["payments"][number]["debtType"],
      dueDay: payment.dueDate,
      amountDue: payment.amountDue,
      amountPaid: payment.amountPaid,
      paidDay: payment.paidAt,
      status: payment.status,
    })),
    expenses: finances.expenses.map((expense) => {
      const amount = to(expense.amount, expense.currency);
      return { day: Math.floor(expense.occurredAt / DAY_MS), category: expense.category, fixed: FIXED_BILL_MCCS.has(expense.mcc), amount, count: 1, max: amount };
    }),
    goals: finances.goals.map((goal) => ({
      kind: goal.kind,
      status: goal.status,
      target: to(goal.targetAmount, goal.currency),
      saved: to(goal.currentAmount, goal.currency),
      targetDay: goal.targetDate,
      createdDay: Math.floor(goal.createdAt / DAY_MS),
    })),
    coach: finances.coachSessions.map((session) => ({
      day: Math.floor(session.startedAt / DAY_MS),
      intent: session.intent,
      sentiment: session.sentiment,
      messages: session.messageCount,
    })),
    history: [],
  };
}

export interface EngineSnapshotInput {
  ids: Pick<HouseholdInput, "index" | "idKey">;
  userId: string;
  country: CountryCode;
  today: Day;
  /** The engine's diagnosis of today's rows. */
  diagnosis: Diagnosis;
  /** Factor values on the earlier snapshot dates (the synthetic history walk). */
  valuesAt: (day: Day) => FactorValues;
  rng: Rng;
}

/**
 * Twelve monthly snapshots and today's, the demo user's included (demo-user.ts). Earlier ones score the walk's values with the engine's model;
 * their action plans use today's amounts (the walk has no amounts). The trend of each is
 * against the first of the month before, the history's own cadence.
 */
export function engineSnapshots(input: EngineSnapshotInput): SnapshotRow[] {
  const { diagnosis, today } = input;
  const { stored, reference } = snapshotDates(today);
  const values = new Map<Day, FactorValues>();
  const scores = new Map<Day, number>();
  for (const day of [reference, ...stored]) {
    const walked = input.valuesAt(day);
    const v = {} as FactorValues;
    for (const name of FACTOR_NAMES) v[name] = day === today ? diagnosis.values[name] : normalise(name, walked[name]);
    values.set(day, v);
    scores.set(day, day === today ? diagnosis.score : scoreOf(v));
  }
  const currency = COUNTRY_CURRENCY[input.country];
  return stored.map((day, i) => {
    const v = values.get(day) as FactorValues;
    const score = scores.get(day) ?? 0;
    const previous = scores.get(firstOfMonth(day, -1)) ?? score;
    const band = bandOf(score);
    const isToday = day === today;
    return {
      id: rowId("snp", input.ids, i),
      userId: input.userId,
      country: input.country,
      snapshotDate: day,
      score,
      band,
      trend30d: score - previous,
      factors: isToday
        ? diagnosis.factors
        : [...FACTOR_NAMES]
            .sort((a, b) => FACTORS[b].weight - FACTORS[a].weight || FACTOR_NAMES.indexOf(a) - FACTOR_NAMES.indexOf(b))
            .map((name) => ({ name, weight: FACTORS[name].weight, value: v[name], subScore: round2(Math.round(subScore(name, v[name]) * 10) / 10) })),
      actionPlan: isToday ? diagnosis.actionPlan : actionPlan(v, score, diagnosis.measurements, currency),
      computedAt: dayStartMs(day) + input.rng.int(60, 3600) * 1000,
      nextReviewAt: isToday ? diagnosis.nextReviewDay : nextReviewDay(band, day),
    };
  });
}
