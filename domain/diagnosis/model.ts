// The wellness model: eight factors, each measured in its own unit, mapped to a 0-100
// sub-score by a piecewise-linear curve, and combined with fixed weights into a 0-100 score.
// docs/wellness.md explains every number here; change them together.
//
// The curves share one calibration: the "prudent" limit of each factor (36 % DTI, 30 % card
// utilisation, 3 months of savings, 10 % of income saved, 95 % of instalments on time, ...)
// scores exactly 70, the GREEN threshold, and the "hard" limit (43 % DTI, 50 % utilisation,
// one month of savings, spending all income, 85 % on time, ...) scores exactly 40, the RED
// threshold. A household that sits at every prudent limit scores 70. The limits are our
// calibration, not regulations (docs/wellness.md says where each comes from).

export const FACTOR_NAMES = [
  "debt_to_income",
  "on_time_payment_rate",
  "savings_ratio",
  "liquidity_buffer",
  "credit_utilisation",
  "income_stability",
  "expense_volatility",
  "goal_progress",
] as const;
export type FactorName = (typeof FACTOR_NAMES)[number];
export type FactorValues = Record<FactorName, number>;

/** [value, points] pairs, values ascending. */
export type Curve = readonly (readonly [value: number, points: number])[];

export interface FactorDefinition {
  weight: number;
  /** Which way the value improves. */
  better: "lower" | "higher";
  unit: string;
  /** Values are clamped to this range before scoring and storing. */
  range: readonly [number, number];
  curve: Curve;
}

export const FACTORS: Record<FactorName, FactorDefinition> = {
  debt_to_income: {
    weight: 0.2,
    better: "lower",
    unit: "ratio of monthly debt service to monthly income",
    range: [0, 3],
    curve: [
      [0, 100],
      [0.15, 100],
      [0.36, 70],
      [0.43, 40],
      [0.6, 10],
      [1, 0],
    ],
  },
  on_time_payment_rate: {
    weight: 0.18,
    better: "higher",
    unit: "share of instalments due in the last 365 days paid on time",
    range: [0, 1],
    curve: [
      [0.5, 0],
      [0.85, 40],
      [0.95, 70],
      [1, 100],
    ],
  },
  savings_ratio: {
    weight: 0.14,
    better: "higher",
    unit: "share of monthly income left after spending, instalments and card interest",
    range: [-1, 1],
    curve: [
      [-0.2, 0],
      [0, 40],
      [0.1, 70],
      [0.2, 100],
    ],
  },
  liquidity_buffer: {
    weight: 0.14,
    better: "higher",
    unit: "months of outgoings (spending, instalments, card interest) covered by liquid savings",
    range: [0, 24],
    curve: [
      [0, 0],
      [1, 40],
      [3, 70],
      [6, 100],
    ],
  },
  credit_utilisation: {
    weight: 0.1,
    better: "lower",
    unit: "ratio of revolving balances to credit limits",
    range: [0, 1.5],
    curve: [
      [0, 100],
      [0.1, 100],
      [0.3, 70],
      [0.5, 40],
      [0.9, 0],
    ],
  },
  income_stability: {
    weight: 0.1,
    better: "higher",
    unit: "index 0-1: income kept over 90 days x (0.75 + 0.25 x recurring share)",
    range: [0, 1],
    curve: [
      [0, 0],
      [0.5, 40],
      [0.75, 70],
      [1, 100],
    ],
  },
  expense_volatility: {
    weight: 0.08,
    better: "lower",
    unit: "coefficient of variation of fortnightly day-to-day spending over 84 days",
    range: [0, 3],
    curve: [
      [0, 100],
      [0.15, 100],
      [0.3, 70],
      [0.6, 40],
      [1, 10],
      [1.5, 0],
    ],
  },
  goal_progress: {
    weight: 0.06,
    better: "higher",
    unit: "mean share of target saved over active and achieved goals",
    range: [0, 1],
    curve: [
      [0, 0],
      [0.25, 40],
      [0.5, 70],
      [1, 100],
    ],
  },
};

export type Band = "GREEN" | "AMBER" | "RED";

/** GREEN 70-100, AMBER 40-69, RED 0-39 (see docs/wellness.md, "Bands"). */
export const BAND_THRESHOLDS = { green: 70, amber: 40 } as const;

export function bandOf(score: number): Band {
  if (score >= BAND_THRESHOLDS.green) return "GREEN";
  if (score >= BAND_THRESHOLDS.amber) return "AMBER";
  return "RED";
}

export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** Two decimals, the precision values are stored, shown and scored at. */
export function round2(x: number): number {
  const rounded = Math.round(x * 100) / 100;
  return Object.is(rounded, -0) ? 0 : rounded;
}

/** Points (0-100) a value earns on a curve: linear between anchors, flat beyond the ends. */
export function pointsOn(curve: Curve, value: number): number {
  const first = curve[0]!;
  const last = curve[curve.length - 1]!;
  if (value <= first[0]) return first[1];
  if (value >= last[0]) return last[1];
  for (let i = 1; i < curve.length; i++) {
    const [x1, y1] = curve[i]!;
    if (value <= x1) {
      const [x0, y0] = curve[i - 1]!;
      return y0 + ((value - x0) / (x1 - x0)) * (y1 - y0);
    }
  }
  return last[1];
}

export function subScore(name: FactorName, value: number): number {
  return pointsOn(FACTORS[name].curve, value);
}

/** The value as stored and scored: clamped to the factor's range, two decimals. */
export function normalise(name: FactorName, value: number): number {
  const [lo, hi] = FACTORS[name].range;
  if (Number.isNaN(value)) throw new RangeError(`${name} measured as NaN`);
  return round2(clamp(value, lo, hi));
}

/** Score 0-100: the weighted sum of sub-scores, rounded half up, in a fixed factor order. */
export function scoreOf(values: FactorValues): number {
  let total = 0;
  for (const name of FACTOR_NAMES) total += FACTORS[name].weight * subScore(name, values[name]);
  // 1e-9 absorbs binary noise so that an exact .5 rounds up on every machine.
  return clamp(Math.floor(total + 0.5 + 1e-9), 0, 100);
}

/**
 * The next milestone of a factor: the nearest curve anchor in the improving direction that
 * earns more points than `value` does now; undefined when the factor is already at 100.
 */
export function nextMilestone(name: FactorName, value: number): number | undefined {
  const { curve, better } = FACTORS[name];
  const now = subScore(name, value);
  const candidates = curve.filter(([x, points]) => points > now + 1e-9 && (better === "lower" ? x < value : x > value)).map(([x]) => x);
  if (candidates.length === 0) return undefined;
  return better === "lower" ? Math.max(...candidates) : Math.min(...candidates);
}
