// The financial diagnosis as one pure function: the same household and day give the same
// result, field for field.
import { addMonths, canonicalHousehold, type Day, type Household } from "../household/household.ts";
import { actionPlan, type ActionStep } from "./action-plan.ts";
import { measureFactors, type Measurements } from "./measure.ts";
import { type Band, bandOf, FACTOR_NAMES, FACTORS, type FactorName, type FactorValues, round2, scoreOf, subScore } from "./model.ts";

export interface FactorResult {
  name: FactorName;
  weight: number;
  /** In the factor's own unit (docs/wellness.md), two decimals. */
  value: number;
  /** 0-100 points this value earns, one decimal. */
  subScore: number;
}

export interface Diagnosis {
  userId: string;
  /** The snapshot's day. */
  day: Day;
  score: number;
  band: Band;
  /** Score minus the score of the latest diagnosis on or before 30 days ago; 0 without one. */
  trend30d: number;
  /** Heaviest first; weights sum to 1. */
  factors: FactorResult[];
  actionPlan: ActionStep[];
  nextReviewDay: Day;
  values: FactorValues;
  measurements: Measurements;
}

export const TREND_DAYS = 30;

/** RED every two weeks, AMBER monthly, GREEN quarterly: attention where the risk is. */
export function nextReviewDay(band: Band, today: Day): Day {
  if (band === "RED") return today + 14;
  if (band === "AMBER") return addMonths(today, 1);
  return addMonths(today, 3);
}

/** The score to compare with: the latest earlier diagnosis on or before `today - 30`. */
export function referenceScore(household: Household, today: Day): number | undefined {
  let best: { day: Day; score: number } | undefined;
  for (const past of household.history) {
    if (past.day <= today - TREND_DAYS && (best === undefined || past.day > best.day)) best = past;
  }
  return best?.score;
}

/** The diagnosis of a household as of `today` (the household is read in canonical order). */
export function diagnose(input: Household, today: Day): Diagnosis {
  const household = canonicalHousehold(input);
  const { values, measurements } = measureFactors(household, today);
  const score = scoreOf(values);
  const band = bandOf(score);
  const reference = referenceScore(household, today);
  const factors = FACTOR_NAMES.map((name, order) => ({
    name,
    weight: FACTORS[name].weight,
    value: values[name],
    subScore: round2(Math.round(subScore(name, values[name]) * 10) / 10),
    order,
  }))
    .sort((a, b) => b.weight - a.weight || a.order - b.order)
    .map(({ order: _order, ...factor }) => factor);
  return {
    userId: household.userId,
    day: today,
    score,
    band,
    trend30d: reference === undefined ? 0 : score - reference,
    factors,
    actionPlan: actionPlan(values, score, measurements, household.currency),
    nextReviewDay: nextReviewDay(band, today),
    values,
    measurements,
  };
}
