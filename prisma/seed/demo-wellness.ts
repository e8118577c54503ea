// USR_42891's wellness history as the brief illustrates it: personal weights (0.34 / 0.21 /
// 0.18 for the three factors the brief prints), each factor mapped to a 0..1 "health", and
// the weighted sum giving 64. The engine (domain/diagnosis) has fixed weights and other
// curves, and scores the same values lower, so only the demo user is scored here: every
// other household is diagnosed by the engine (wellness-engine.ts), and running the demo
// user's diagnosis gives the engine's own result.
import { addMonths, type Day, dayStartMs, firstOfMonth } from "./calendar.ts";
import type { CountryCode } from "./catalogue.ts";
import { bandOf, FACTOR_NAMES, type FactorName, type FactorValues, round2 } from "../../domain/diagnosis/model.ts";
import { shifted, snapshotDates } from "./diagnosis.ts";
import { type HouseholdInput, rowId } from "./household-context.ts";
import type { Rng } from "./prng.ts";
import type { ActionStep, Factor, SnapshotRow } from "./rows.ts";

export type FactorWeights = Record<FactorName, number>;

const clamp01 = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);

/** How healthy a raw factor value is, 0 (worst) to 1 (best). */
export function health(name: FactorName, value: number): number {
  switch (name) {
    case "debt_to_income": // monthly debt service / monthly income
      return clamp01(1 - value / 1.5);
    case "expense_volatility": // coefficient of variation of weekly spending
      return clamp01(1 - value / 0.8);
    case "savings_ratio": // share of monthly income left after spending and debt service
      return clamp01(0.25 + value * 3.75);
    case "liquidity_buffer": // months of outgoings covered by liquid savings
      return clamp01(value / 3);
    case "on_time_payment_rate":
      return clamp01(value);
    case "credit_utilisation": // revolving balance / limit; up to 30 % is healthy
      return value <= 0.3 ? 1 : clamp01(1 - (value - 0.3) / 0.7);
    case "income_stability":
    case "goal_progress":
      return clamp01(value);
  }
}

/** 0..100: the weighted sum of the factors' health. */
export function score(values: FactorValues, weights: FactorWeights): number {
  let total = 0;
  for (const name of FACTOR_NAMES) total += weights[name] * health(name, values[name]);
  return Math.max(0, Math.min(100, Math.round(total * 100)));
}

/** Factors as stored: heaviest first, values rounded to two decimals. */
function factorList(values: FactorValues, weights: FactorWeights): Factor[] {
  return FACTOR_NAMES.map((name, i) => ({ name, i }))
    .sort((a, b) => weights[b.name] - weights[a.name] || a.i - b.i)
    .map(({ name }) => ({ name, weight: weights[name], value: round2(values[name]) }));
}

const ACTIONS: Record<FactorName, { code: string; title: string }> = {
  debt_to_income: { code: "consolidate_debt", title: "Consolida tus deudas de mayor tasa en un solo pago" },
  expense_volatility: { code: "weekly_spending_cap", title: "Fija un tope semanal para tus gastos variables" },
  savings_ratio: { code: "automate_savings", title: "Programa un ahorro automático el día de pago" },
  liquidity_buffer: { code: "build_emergency_fund", title: "Reúne un fondo de emergencia de tres meses de gastos" },
  on_time_payment_rate: { code: "set_payment_reminders", title: "Activa recordatorios tres días antes de cada vencimiento" },
  credit_utilisation: { code: "reduce_card_utilisation", title: "Baja el uso de tus tarjetas por debajo del 30 %" },
  income_stability: { code: "stabilise_income", title: "Registra tus ingresos variables y separa un colchón para meses bajos" },
  goal_progress: { code: "review_goal_plan", title: "Ajusta el aporte mensual a tus metas de ahorro" },
};

/** The three steps that would lift the score most, ranked; each worth at least one point. */
function actionPlan(values: FactorValues, weights: FactorWeights): ActionStep[] {
  return FACTOR_NAMES.map((name, i) => ({
    name,
    i,
    gain: weights[name] * (1 - health(name, values[name])) * 100 * 0.6,
  }))
    .sort((a, b) => b.gain - a.gain || a.i - b.i)
    .slice(0, 3)
    .map(({ name, gain }) => ({ ...ACTIONS[name], expectedScoreDelta: Math.max(1, Math.round(gain)) }));
}

function rounded(values: FactorValues): FactorValues {
  const out = {} as FactorValues;
  for (const name of FACTOR_NAMES) out[name] = round2(values[name]);
  return out;
}

/**
 * Factor values near `base` whose score is `target`: every factor is moved the same number
 * of steps in its better (or worse) direction until the score matches, so that the demo
 * user's history tells the brief's story while staying internally consistent.
 */
export function valuesForScore(base: FactorValues, weights: FactorWeights, target: number): FactorValues {
  let lo = -40;
  let hi = 40;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (score(rounded(shifted(base, mid)), weights) < target) lo = mid;
    else hi = mid;
  }
  return rounded(shifted(base, hi));
}

export interface DemoSnapshotInput {
  ids: Pick<HouseholdInput, "index" | "idKey">;
  userId: string;
  country: CountryCode;
  today: Day;
  weights: FactorWeights;
  /** Factor values for each snapshot date (including the unstored reference month). */
  valuesAt: (day: Day) => FactorValues;
  /** Overrides the computed score for a date (the brief's history). */
  scoreAt?: (day: Day, computed: number) => number;
  rng: Rng;
}

/** Twelve monthly snapshots and today's, on the same dates and ids as everyone else's. */
export function demoSnapshots(input: DemoSnapshotInput): SnapshotRow[] {
  const { stored, reference } = snapshotDates(input.today);
  const scores = new Map<Day, number>();
  const values = new Map<Day, FactorValues>();
  for (const day of [reference, ...stored]) {
    const v = rounded(input.valuesAt(day));
    values.set(day, v);
    const computed = score(v, input.weights);
    scores.set(day, input.scoreAt ? input.scoreAt(day, computed) : computed);
  }
  return stored.map((day, i) => {
    const v = values.get(day) as FactorValues;
    const value = scores.get(day) ?? 0;
    const previous = scores.get(firstOfMonth(day, -1)) ?? value;
    return {
      id: rowId("snp", input.ids, i),
      userId: input.userId,
      country: input.country,
      snapshotDate: day,
      score: value,
      band: bandOf(value),
      trend30d: value - previous,
      factors: factorList(v, input.weights),
      actionPlan: actionPlan(v, input.weights),
      computedAt: dayStartMs(day) + input.rng.int(60, 3600) * 1000,
      nextReviewAt: addMonths(day, 1),
    };
  });
}
