// What a generated household's history looks like to the diagnosis engine: the dates of a
// year of monthly wellness snapshots plus today's, the walk of factor values behind them (the
// engine scores both: wellness-engine.ts), and prevention alerts for users under stress.
import { FACTOR_NAMES, type FactorName, type FactorValues } from "../../domain/diagnosis/model.ts";
import { type Day, DAY_MS, dayStartMs, firstOfMonth } from "./calendar.ts";
import type { AlertType, CountryCode } from "./catalogue.ts";
import { COUNTRY_PROFILES } from "./country-profiles.ts";
import type { Finances } from "./household.ts";
import { type HouseholdInput, localInstant, rowId } from "./household-context.ts";
import type { Rng } from "./prng.ts";
import type { AlertRow, Band, SnapshotRow } from "./rows.ts";

const clamp = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);

/** Month-to-month wobble of each factor, and the direction in which it improves. */
const MOVEMENT: Record<FactorName, { step: number; better: 1 | -1; range: readonly [number, number] }> = {
  debt_to_income: { step: 0.03, better: -1, range: [0, 3] },
  expense_volatility: { step: 0.03, better: -1, range: [0, 2] },
  savings_ratio: { step: 0.025, better: 1, range: [-1, 0.8] },
  liquidity_buffer: { step: 0.15, better: 1, range: [0, 24] },
  on_time_payment_rate: { step: 0.03, better: 1, range: [0, 1] },
  credit_utilisation: { step: 0.04, better: -1, range: [0, 1.05] },
  income_stability: { step: 0.02, better: 1, range: [0, 1] },
  goal_progress: { step: 0.03, better: 1, range: [0, 1] },
};

/**
 * The order in which the walk draws each factor's noise: MOVEMENT's. It fixes which random
 * number each factor gets, so reordering MOVEMENT changes every seeded history.
 */
const WALK_ORDER = Object.keys(MOVEMENT) as FactorName[];

/** Moves every factor `shift` steps in its "better" direction. */
export function shifted(values: FactorValues, shift: number): FactorValues {
  const out = {} as FactorValues;
  for (const name of FACTOR_NAMES) {
    const { step, better, range } = MOVEMENT[name];
    out[name] = clamp(values[name] + better * step * shift, range[0], range[1]);
  }
  return out;
}

/** The dates a user has snapshots for: the twelve firsts of month before today, and today. */
export function snapshotDates(today: Day): { stored: Day[]; reference: Day } {
  const firsts: Day[] = [];
  const newest = firstOfMonth(today) === today ? -1 : 0;
  for (let offset = newest - 11; offset <= newest; offset++) firsts.push(firstOfMonth(today, offset));
  // One more month back, unstored, gives the oldest snapshot its 30-day trend.
  return { stored: [...firsts, today], reference: firstOfMonth(today, newest - 12) };
}

/**
 * A random walk backwards from today's values: a user drifting towards stress looked
 * healthier a year ago, one recovering looked worse. Past income loss shows up too.
 */
export function historyWalk(now: FactorValues, today: Day, rng: Rng, stress: number, incomeDropDay: Day | null) {
  const { stored, reference } = snapshotDates(today);
  const descending = [...stored, reference].sort((a, b) => b - a);
  const trajectory = clamp(rng.normal(0.35 - 0.7 * stress, 0.6), -1.5, 1.5);
  const walk = new Map<Day, FactorValues>();
  let current = now;
  let previousDay = today;
  for (const day of descending) {
    if (day !== today) {
      const months = (previousDay - day) / 30.44;
      const next = {} as FactorValues;
      for (const name of WALK_ORDER) {
        const { step, better, range } = MOVEMENT[name];
        const drift = -better * step * trajectory * months;
        const noise = rng.normal(0, step * Math.sqrt(months));
        next[name] = clamp(current[name] + drift + noise, range[0], range[1]);
      }
      current = next;
      previousDay = day;
    }
    walk.set(day, current);
  }
  return (day: Day): FactorValues => {
    const v = walk.get(day) ?? now;
    if (incomeDropDay === null || day >= incomeDropDay) return v;
    return {
      ...v,
      income_stability: clamp(v.income_stability + 0.25, 0, 1),
      debt_to_income: v.debt_to_income * 0.75,
      savings_ratio: clamp(v.savings_ratio + 0.08, -1, 0.8),
    };
  };
}

const ACTION_BY_TYPE: Record<AlertType, string> = {
  missed_due_date: "payment_reminder_nudge",
  expense_spike_food: "budget_coaching_nudge",
  dti_above_limit: "debt_consolidation_review",
  income_drop: "hardship_review",
  savings_depleted: "emergency_fund_nudge",
};

interface Trigger {
  type: AlertType;
  day: Day;
  severity: AlertRow["severity"];
}

export function buildAlerts(
  ids: Pick<HouseholdInput, "index" | "idKey">,
  finances: Finances,
  userId: string,
  country: CountryCode,
  values: FactorValues,
  latest: SnapshotRow,
  today: Day,
  rng: Rng,
): AlertRow[] {
  if (latest.band === "GREEN") return [];
  const triggers: Trigger[] = [];
  const recentMiss = finances.debtPayments
    .filter((p) => p.status === "MISSED" && p.dueDate >= today - 60)
    .reduce<Day | null>((latestDay, p) => (latestDay === null || p.dueDate > latestDay ? p.dueDate : latestDay), null);
  const defaulted = finances.debts.some((d) => d.status === "DEFAULTED");
  if (recentMiss !== null) {
    triggers.push({ type: "missed_due_date", day: Math.min(today - 1, recentMiss + rng.int(1, 3)), severity: defaulted ? "CRITICAL" : "HIGH" });
  }
  const spike = finances.signals.foodSpikeDay;
  if (spike !== null) triggers.push({ type: "expense_spike_food", day: Math.min(today - 1, spike + rng.int(2, 5)), severity: "MEDIUM" });
  if (values.debt_to_income > 0.5) {
    triggers.push({ type: "dti_above_limit", day: today - rng.int(1, 25), severity: values.debt_to_income > 0.8 ? "HIGH" : "MEDIUM" });
  }
  const drop = finances.signals.incomeDropDay;
  if (drop !== null && drop >= today - 90) triggers.push({ type: "income_drop", day: Math.min(today - 1, drop + rng.int(3, 10)), severity: "HIGH" });
  if (values.liquidity_buffer < 0.25 && values.savings_ratio < 0) {
    triggers.push({ type: "savings_depleted", day: today - rng.int(1, 40), severity: "MEDIUM" });
  }
  // AMBER users see only some of what fires for RED users.
  const fired = latest.band === "RED" ? triggers : triggers.filter(() => rng.chance(0.45));
  const chosen = fired.slice(0, 3);
  const profile = COUNTRY_PROFILES[country];
  const alerts: AlertRow[] = chosen.map((trigger, i) => {
    const riskBand: Band = latest.band === "RED" || trigger.severity === "CRITICAL" ? "RED" : "AMBER";
    return {
      id: rowId("alr", ids, i),
      userId,
      country,
      type: trigger.type,
      riskBand,
      severity: trigger.severity,
      contributingFactors: [trigger.type, ...fired.filter((t) => t !== trigger).map((t) => t.type)].slice(0, 3),
      suggestedAction:
        trigger.severity === "CRITICAL" ? "payment_plan_offer" : riskBand === "RED" ? "soft_outreach_v2" : ACTION_BY_TYPE[trigger.type],
      ruleId: `pv_${trigger.type}_v3`,
      status: "OPEN",
      createdAt: localInstant(profile, trigger.day, rng.int(8, 20), rng.int(0, 59), rng.int(0, 59), today),
      acknowledgedAt: null,
      resolvedAt: null,
    };
  });
  // Some stressed users also have an older alert that was handled, for outcome reporting.
  if (rng.chance(0.3)) {
    const type = rng.pick(["missed_due_date", "expense_spike_food", "dti_above_limit", "savings_depleted"] as const);
    const createdAt = dayStartMs(today - rng.int(45, 170)) + rng.int(13, 23) * 3600 * 1000;
    const resolved = rng.chance(0.7);
    const acknowledgedAt = createdAt + rng.int(1, 72) * 3600 * 1000;
    alerts.push({
      id: rowId("alr", ids, alerts.length),
      userId,
      country,
      type,
      riskBand: "AMBER",
      severity: type === "missed_due_date" ? "HIGH" : "MEDIUM",
      contributingFactors: [type],
      suggestedAction: ACTION_BY_TYPE[type],
      ruleId: `pv_${type}_v3`,
      status: resolved ? "RESOLVED" : "ACKNOWLEDGED",
      createdAt,
      acknowledgedAt,
      resolvedAt: resolved ? acknowledgedAt + rng.int(2, 20) * DAY_MS : null,
    });
  }
  return alerts;
}
