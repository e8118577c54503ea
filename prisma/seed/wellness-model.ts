// The wellness index the seed data carries: eight factors measured from a household, each
// mapped to a 0..1 "health" and combined with per-user weights (two decimals, summing to
// exactly 1) into a 0..100 score. Bands: GREEN >= 70, AMBER 40-69, RED < 40.
import type { Rng } from "./prng.ts";
import type { ActionStep, Band, Factor } from "./rows.ts";

export const FACTOR_NAMES = [
  "debt_to_income",
  "expense_volatility",
  "savings_ratio",
  "liquidity_buffer",
  "on_time_payment_rate",
  "credit_utilisation",
  "income_stability",
  "goal_progress",
] as const;
export type FactorName = (typeof FACTOR_NAMES)[number];
export type FactorValues = Record<FactorName, number>;
export type FactorWeights = Record<FactorName, number>;

/** Population-level importance before each user's personalisation; sums to 1. */
const BASE_WEIGHTS: FactorWeights = {
  debt_to_income: 0.22,
  expense_volatility: 0.12,
  savings_ratio: 0.12,
  liquidity_buffer: 0.1,
  on_time_payment_rate: 0.16,
  credit_utilisation: 0.1,
  income_stability: 0.1,
  goal_progress: 0.08,
};

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

export function score(values: FactorValues, weights: FactorWeights): number {
  let total = 0;
  for (const name of FACTOR_NAMES) total += weights[name] * health(name, values[name]);
  return Math.max(0, Math.min(100, Math.round(total * 100)));
}

export function bandOf(value: number): Band {
  if (value >= 70) return "GREEN";
  if (value >= 40) return "AMBER";
  return "RED";
}

/** Rounds to two decimals without binary noise (0.1 + 0.2 -> 0.3). */
export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/**
 * Per-user weights: the base weights jittered, then apportioned in whole hundredths
 * (largest remainder) so that they sum to exactly 1.00 with at least 0.02 each.
 */
export function personalWeights(rng: Rng): FactorWeights {
  const raw = FACTOR_NAMES.map((name) => BASE_WEIGHTS[name] * rng.logNormal(0.3));
  const total = raw.reduce((a, b) => a + b, 0);
  const free = 100 - 2 * FACTOR_NAMES.length;
  const exact = raw.map((w) => (w / total) * free);
  const hundredths = exact.map((x) => Math.floor(x));
  let remaining = free - hundredths.reduce((a, b) => a + b, 0);
  const order = exact
    .map((x, i) => ({ i, remainder: x - Math.floor(x) }))
    .sort((a, b) => b.remainder - a.remainder || a.i - b.i);
  for (const { i } of order) {
    if (remaining === 0) break;
    hundredths[i] = (hundredths[i] ?? 0) + 1;
    remaining--;
  }
  const weights = {} as FactorWeights;
  FACTOR_NAMES.forEach((name, i) => {
    weights[name] = ((hundredths[i] ?? 0) + 2) / 100;
  });
  return weights;
}

/** Factor names heaviest first (ties in declaration order). */
export function factorOrder(weights: FactorWeights): FactorName[] {
  return FACTOR_NAMES.map((name, i) => ({ name, i }))
    .sort((a, b) => weights[b.name] - weights[a.name] || a.i - b.i)
    .map(({ name }) => name);
}

/** Factors as stored: heaviest first, values rounded to two decimals. */
export function factorList(values: FactorValues, weights: FactorWeights, order = factorOrder(weights)): Factor[] {
  return order.map((name) => ({ name, weight: weights[name], value: round2(values[name]) }));
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
export function actionPlan(values: FactorValues, weights: FactorWeights): ActionStep[] {
  return FACTOR_NAMES.map((name, i) => ({
    name,
    i,
    gain: weights[name] * (1 - health(name, values[name])) * 100 * 0.6,
  }))
    .sort((a, b) => b.gain - a.gain || a.i - b.i)
    .slice(0, 3)
    .map(({ name, gain }) => ({ ...ACTIONS[name], expectedScoreDelta: Math.max(1, Math.round(gain)) }));
}
