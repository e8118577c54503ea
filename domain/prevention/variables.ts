// The prevention variables: more than a thousand named numbers per person, each generated from
// a documented definition (family x group x window x statistic). docs/prevention-variables.md
// lists them all; `npm run docs:prevention` regenerates it from this catalogue.
//
// A variable is undefined (NaN here, null outside) when its definition has no answer, e.g. a
// mean over no transactions or a change against a window with nothing in it. Money is in
// major units (e.g. dollars, pesos) of the household's country currency.
import { canonicalHousehold, type Household } from "../household/household.ts";
import { type Diagnosis, referenceScore } from "../diagnosis/diagnose.ts";
import { FACTOR_NAMES } from "../diagnosis/model.ts";
import {
  type Aggregates,
  aggregate,
  COACH,
  COACH_INTENTS,
  coachIntentStat,
  coachSlot,
  DEBT,
  DEBT_GROUPS,
  debtSlot,
  EXP,
  EXPENSE_CATEGORIES,
  EXPENSE_GROUPS,
  expSlot,
  GOAL_KINDS,
  NEGATIVE_SENTIMENT,
  PAY,
  paySlot,
  perMonth,
  SPIKE_BASELINE_DAYS,
  SPIKE_WINDOWS,
  TREND_WEEKS,
  UPCOMING_WINDOWS,
  WINDOWS,
} from "./aggregates.ts";

export type VariableFamily = "expenses" | "payments" | "debts" | "income" | "goals" | "coach" | "wellness" | "ratios" | "trends";

export interface VariableDefinition {
  /** Position in the catalogue (and in the value array). */
  index: number;
  name: string;
  family: VariableFamily;
  unit: string;
  /** What it measures, precisely enough to compute it by hand. */
  description: string;
}

interface Context {
  a: Aggregates;
  household: Household;
  diagnosis: Diagnosis;
}

type Compute = (context: Context) => number;

const NaN_ = Number.NaN;
const ratio = (numerator: number, denominator: number): number => (denominator === 0 ? NaN_ : numerator / denominator);
const change = (now: number, before: number): number => (before === 0 ? NaN_ : (now - before) / before);
/** Minor units to major units. */
const major = (minor: number): number => minor / 100;

const definitions: VariableDefinition[] = [];
const computes: Compute[] = [];

function define(name: string, family: VariableFamily, unit: string, description: string, compute: Compute): void {
  definitions.push({ index: definitions.length, name, family, unit, description });
  computes.push(compute);
}

function groupLabel(group: string): string {
  if (group === "total") return "all spending";
  if (group === "fixed") return "fixed bills (rent, utilities, telecom, school fees; by MCC)";
  if (group === "discretionary") return "day-to-day spending (everything but fixed bills)";
  if (group === "other") return `spending in categories outside the catalogue (${EXPENSE_CATEGORIES.join(", ")})`;
  return `${group} spending`;
}

const windowText = (days: number): string => `the last ${days} days (today and the ${days - 1} days before)`;
const previousText = (days: number): string => `the ${days} days before that`;

// ----------------------------------------------------------------------------------------
// Expenses: group x window x statistic

EXPENSE_GROUPS.forEach((group, g) => {
  const label = groupLabel(group);
  WINDOWS.forEach((days, w) => {
    const cur = (stat: number) => (c: Context) => c.a.exp[expSlot(g, w, 0, stat)]!;
    const prev = (stat: number) => (c: Context) => c.a.exp[expSlot(g, w, 1, stat)]!;
    const sum = cur(EXP.sum);
    const count = cur(EXP.count);
    const base = `exp.${group}`;
    define(`${base}.sum.${days}d`, "expenses", "money", `Sum of ${label} in ${windowText(days)}.`, (c) => major(sum(c)));
    define(`${base}.count.${days}d`, "expenses", "count", `Number of transactions of ${label} in ${windowText(days)}.`, count);
    define(`${base}.mean.${days}d`, "expenses", "money", `Mean transaction of ${label} in ${windowText(days)}; undefined without transactions.`, (c) =>
      major(ratio(sum(c), count(c))),
    );
    define(`${base}.max.${days}d`, "expenses", "money", `Largest single transaction of ${label} in ${windowText(days)}; 0 without transactions.`, (c) =>
      major(cur(EXP.max)(c)),
    );
    define(
      `${base}.share.${days}d`,
      "expenses",
      "ratio",
      `Share of all spending in ${windowText(days)} that is ${label}; undefined when nothing was spent.`,
      (c) => ratio(sum(c), c.a.exp[expSlot(EXPENSE_GROUPS.indexOf("total"), w, 0, EXP.sum)]!),
    );
    define(`${base}.days_active.${days}d`, "expenses", "days", `Distinct days with ${label} in ${windowText(days)}.`, cur(EXP.days));
    define(
      `${base}.chg.${days}d`,
      "expenses",
      "ratio",
      `Relative change of the sum of ${label} in ${windowText(days)} against ${previousText(days)}: (now - before) / before; undefined when nothing was spent before.`,
      (c) => change(sum(c), prev(EXP.sum)(c)),
    );
    define(
      `${base}.chg_count.${days}d`,
      "expenses",
      "ratio",
      `Relative change of the number of transactions of ${label} in ${windowText(days)} against ${previousText(days)}; undefined when there were none before.`,
      (c) => change(count(c), prev(EXP.count)(c)),
    );
    define(
      `${base}.to_income.${days}d`,
      "expenses",
      "ratio",
      `${label[0]!.toUpperCase()}${label.slice(1)} in ${windowText(days)}, scaled to a month (x 30.4375 / ${days}), divided by today's monthly income; undefined without income.`,
      (c) => ratio(perMonth(sum(c), days), c.a.income.now),
    );
  });
  SPIKE_WINDOWS.forEach((days, s) => {
    define(
      `exp.${group}.spike.${days}d`,
      "expenses",
      "ratio",
      `Daily rate of ${label} in ${windowText(days)} divided by its daily rate over the ${SPIKE_BASELINE_DAYS} days before the window (fewer when the household's first recorded expense or registration is more recent); 2 means twice the usual pace; undefined without a baseline.`,
      (c) => {
        const covered = c.a.baselineDays[s]!;
        const baseline = c.a.baseline[g * SPIKE_WINDOWS.length + s]!;
        if (covered === 0 || baseline === 0) return NaN_;
        return c.a.exp[expSlot(g, WINDOWS.indexOf(days), 0, EXP.sum)]! / days / (baseline / covered);
      },
    );
  });
});

// ----------------------------------------------------------------------------------------
// Payments: debt type x window x statistic. Window: instalments due in the `w` days before today.

DEBT_GROUPS.forEach((type, t) => {
  const label = type === "all" ? "all debts" : `${type} debts`;
  WINDOWS.forEach((days, w) => {
    const stat = (s: number) => (c: Context) => c.a.pay[paySlot(t, w, s)]!;
    const scope = `instalments of ${label} due in the ${days} days before today`;
    const base = `pay.${type}`;
    define(`${base}.count.${days}d`, "payments", "count", `Number of ${scope}.`, stat(PAY.count));
    define(`${base}.on_time.${days}d`, "payments", "count", `Number of ${scope} paid on time.`, stat(PAY.onTime));
    define(`${base}.late.${days}d`, "payments", "count", `Number of ${scope} paid late.`, stat(PAY.late));
    define(`${base}.missed.${days}d`, "payments", "count", `Number of ${scope} recorded as missed.`, stat(PAY.missed));
    define(`${base}.overdue.${days}d`, "payments", "count", `Number of ${scope} still pending after their due date.`, stat(PAY.overdue));
    define(`${base}.on_time_rate.${days}d`, "payments", "ratio", `Share of ${scope} paid on time; undefined when none fell due.`, (c) =>
      ratio(stat(PAY.onTime)(c), stat(PAY.count)(c)),
    );
    define(`${base}.amount_due.${days}d`, "payments", "money", `Amount due on ${scope}.`, (c) => major(stat(PAY.amountDue)(c)));
    define(`${base}.amount_paid.${days}d`, "payments", "money", `Amount paid on ${scope}.`, (c) => major(stat(PAY.amountPaid)(c)));
    define(`${base}.paid_ratio.${days}d`, "payments", "ratio", `Amount paid / amount due on ${scope}; undefined when nothing was due.`, (c) =>
      ratio(stat(PAY.amountPaid)(c), stat(PAY.amountDue)(c)),
    );
    define(
      `${base}.max_days_late.${days}d`,
      "payments",
      "days",
      `Most days any of the ${scope} was late (late: paid day - due day; missed or pending: today - due day); 0 when all were on time, undefined when none fell due.`,
      (c) => (stat(PAY.count)(c) === 0 ? NaN_ : stat(PAY.maxDaysLate)(c)),
    );
    define(`${base}.mean_days_late.${days}d`, "payments", "days", `Mean days late of the ${scope} that were paid late; undefined when none was.`, (c) =>
      ratio(stat(PAY.lateDays)(c), stat(PAY.late)(c)),
    );
  });
  UPCOMING_WINDOWS.forEach((days, u) => {
    const scope = `open ${label} whose next due date is today or within the next ${days - 1} days`;
    define(`pay.${type}.upcoming_count.${days}d`, "payments", "count", `Number of ${scope}.`, (c) => c.a.upcoming[(t * UPCOMING_WINDOWS.length + u) * 2]!);
    define(`pay.${type}.upcoming_amount.${days}d`, "payments", "money", `Minimum payments of ${scope}.`, (c) =>
      major(c.a.upcoming[(t * UPCOMING_WINDOWS.length + u) * 2 + 1]!),
    );
  });
});

// ----------------------------------------------------------------------------------------
// Debt portfolio today, per debt type

DEBT_GROUPS.forEach((type, t) => {
  const label = type === "all" ? "debts" : `${type} debts`;
  const open = `open ${label} (not paid off, balance above zero)`;
  const stat = (s: number) => (c: Context) => c.a.debt[debtSlot(t, s)]!;
  const base = `debt.${type}`;
  define(`${base}.open_count`, "debts", "count", `Number of ${open}.`, stat(DEBT.open));
  define(`${base}.balance`, "debts", "money", `Outstanding balance of ${open}.`, (c) => major(stat(DEBT.balance)(c)));
  define(`${base}.principal`, "debts", "money", `Original principal of ${open}.`, (c) => major(stat(DEBT.principal)(c)));
  define(`${base}.min_payment`, "debts", "money", `Monthly minimum payments of ${open}.`, (c) => major(stat(DEBT.minPayment)(c)));
  define(`${base}.apr_mean`, "debts", "ratio", `Balance-weighted mean APR of ${open}; undefined without a balance.`, (c) =>
    ratio(stat(DEBT.aprWeighted)(c), stat(DEBT.balance)(c)),
  );
  define(`${base}.apr_max`, "debts", "ratio", `Highest APR among ${open}; undefined without one.`, stat(DEBT.aprMax));
  define(`${base}.utilisation`, "debts", "ratio", `Balance / credit limit over ${open} that have a limit; undefined when none has.`, (c) =>
    ratio(stat(DEBT.revolvingBalance)(c), stat(DEBT.limit)(c)),
  );
  define(`${base}.paydown`, "debts", "ratio", `Share of the principal of ${open} already repaid: 1 - balance / principal; undefined without principal.`, (c) => {
    const principal = stat(DEBT.principal)(c);
    return principal === 0 ? NaN_ : 1 - stat(DEBT.balance)(c) / principal;
  });
  define(`${base}.delinquent_count`, "debts", "count", `Number of ${label} whose status is LATE or DEFAULTED.`, stat(DEBT.delinquent));
  define(`${base}.defaulted_count`, "debts", "count", `Number of ${label} whose status is DEFAULTED.`, stat(DEBT.defaulted));
  define(`${base}.days_to_next_due`, "debts", "days", `Days until the nearest due date among ${open} (0 = today); undefined without one.`, stat(DEBT.nextDue));
});

// ----------------------------------------------------------------------------------------
// Income

define("inc.monthly", "income", "money", "Monthly income from the streams active today.", (c) => major(c.a.income.now));
define("inc.recurring", "income", "money", "Monthly income from RECURRING streams active today.", (c) => major(c.a.income.recurring));
define("inc.variable", "income", "money", "Monthly income from VARIABLE streams active today.", (c) => major(c.a.income.variable));
define("inc.recurring_share", "income", "ratio", "Recurring share of today's monthly income; undefined without income.", (c) =>
  ratio(c.a.income.recurring, c.a.income.now),
);
define("inc.streams_active", "income", "count", "Number of income streams active today.", (c) => c.a.income.streamsActive);
WINDOWS.forEach((days, w) => {
  define(`inc.monthly_${days}d_ago`, "income", "money", `Monthly income from the streams active ${days} days ago.`, (c) => major(c.a.income.before[w]!));
  define(`inc.chg.${days}d`, "income", "ratio", `Relative change of monthly income against ${days} days ago; undefined when there was none then.`, (c) =>
    change(c.a.income.now, c.a.income.before[w]!),
  );
  define(`inc.streams_ended.${days}d`, "income", "count", `Income streams that ended in ${windowText(days)}.`, (c) => c.a.income.ended[w]!);
  define(`inc.streams_started.${days}d`, "income", "count", `Income streams that started in ${windowText(days)}.`, (c) => c.a.income.started[w]!);
});

// ----------------------------------------------------------------------------------------
// Savings goals

define("goal.active_count", "goals", "count", "Number of ACTIVE savings goals.", (c) => c.a.goals.active);
define("goal.achieved_count", "goals", "count", "Number of ACHIEVED savings goals.", (c) => c.a.goals.achieved);
define("goal.abandoned_count", "goals", "count", "Number of ABANDONED savings goals.", (c) => c.a.goals.abandoned);
define("goal.target_total", "goals", "money", "Sum of the targets of goals not abandoned.", (c) => major(c.a.goals.target));
define("goal.saved_total", "goals", "money", "Sum saved towards goals not abandoned.", (c) => major(c.a.goals.saved));
define("goal.progress_mean", "goals", "ratio", "Mean of min(1, saved / target) over goals not abandoned; undefined without one.", (c) =>
  ratio(c.a.goals.progressSum, c.a.goals.counted),
);
define("goal.liquid_savings", "goals", "money", "Savings that could be drawn today: saved in goals not abandoned, retirement excluded.", (c) =>
  major(c.a.goals.liquid),
);
define(
  "goal.behind_schedule_count",
  "goals",
  "count",
  "ACTIVE goals with a target date whose progress is below the share of time elapsed since they were created.",
  (c) => c.a.goals.behindSchedule,
);
define("goal.months_to_nearest_target", "goals", "months", "Months (30.4375 days) until the nearest target date of an ACTIVE goal; undefined without one.", (c) =>
  c.a.goals.nearestTargetDays / 30.4375,
);
define(
  "goal.liquid_months",
  "goals",
  "months",
  "Liquid savings / monthly outgoings (spending averaged over 90 days + instalment payments + card interest): the diagnosis's liquidity buffer, unclamped; undefined without outgoings.",
  (c) => ratio(c.a.goals.liquid, c.diagnosis.measurements.monthlyOutgoings),
);
GOAL_KINDS.forEach((kind, k) => {
  define(`goal.${kind}.saved`, "goals", "money", `Saved towards ${kind} goals not abandoned.`, (c) => major(c.a.goals.byKind[k]!.saved));
  define(`goal.${kind}.target`, "goals", "money", `Targets of ${kind} goals not abandoned.`, (c) => major(c.a.goals.byKind[k]!.target));
  define(`goal.${kind}.progress`, "goals", "ratio", `Saved / target over ${kind} goals not abandoned; undefined without a target.`, (c) =>
    ratio(c.a.goals.byKind[k]!.saved, c.a.goals.byKind[k]!.target),
  );
});

// ----------------------------------------------------------------------------------------
// Coach signals (intent and sentiment only, never text)

WINDOWS.forEach((days, w) => {
  const stat = (s: number) => (c: Context) => c.a.coach[coachSlot(w, 0, s)]!;
  const scope = `coach sessions started in ${windowText(days)}`;
  define(`coach.sessions.${days}d`, "coach", "count", `Number of ${scope}.`, stat(COACH.sessions));
  define(`coach.messages.${days}d`, "coach", "count", `Messages exchanged in ${scope}.`, stat(COACH.messages));
  define(`coach.sentiment_mean.${days}d`, "coach", "sentiment", `Mean sentiment (-1 distressed .. 1 confident) of ${scope}; undefined without one.`, (c) =>
    ratio(stat(COACH.sentimentSum)(c), stat(COACH.sessions)(c)),
  );
  define(`coach.sentiment_min.${days}d`, "coach", "sentiment", `Lowest sentiment of ${scope}; undefined without one.`, stat(COACH.sentimentMin));
  define(`coach.negative_sessions.${days}d`, "coach", "count", `Number of ${scope} with sentiment at or below ${NEGATIVE_SENTIMENT}.`, stat(COACH.negative));
  COACH_INTENTS.forEach((intent, i) => {
    define(`coach.intent.${intent}.${days}d`, "coach", "count", `Number of ${scope} whose intent is ${intent}.`, stat(coachIntentStat(i)));
  });
});
define("coach.days_since_last", "coach", "days", "Days since the latest coach session in the last 365 days; undefined without one.", (c) => c.a.daysSinceCoach);
[30, 90].forEach((days) => {
  const w = WINDOWS.indexOf(days as 30 | 90);
  define(
    `coach.sentiment_chg.${days}d`,
    "coach",
    "sentiment",
    `Mean sentiment of coach sessions in ${windowText(days)} minus that of ${previousText(days)}; undefined when either has no session.`,
    (c) => {
      const now = ratio(c.a.coach[coachSlot(w, 0, COACH.sentimentSum)]!, c.a.coach[coachSlot(w, 0, COACH.sessions)]!);
      const before = ratio(c.a.coach[coachSlot(w, 1, COACH.sentimentSum)]!, c.a.coach[coachSlot(w, 1, COACH.sessions)]!);
      return now - before;
    },
  );
});

// ----------------------------------------------------------------------------------------
// The wellness diagnosis of the same day (docs/wellness.md)

define("wellness.score", "wellness", "points", "Wellness score 0-100.", (c) => c.diagnosis.score);
define("wellness.band_rank", "wellness", "rank", "Wellness band as a number: 0 GREEN, 1 AMBER, 2 RED.", (c) =>
  c.diagnosis.band === "GREEN" ? 0 : c.diagnosis.band === "AMBER" ? 1 : 2,
);
define("wellness.trend_30d", "wellness", "points", "Score change against the diagnosis on or before 30 days ago (0 without one).", (c) => c.diagnosis.trend30d);
define("wellness.score_30d_ago", "wellness", "points", "Score of the latest diagnosis on or before 30 days ago; undefined without one.", (c) =>
  referenceScore(c.household, c.diagnosis.day) ?? NaN_,
);
for (const name of FACTOR_NAMES) {
  define(`wellness.${name}.value`, "wellness", "factor unit", `The ${name} factor's value (docs/wellness.md).`, (c) => c.diagnosis.values[name]);
  define(`wellness.${name}.sub_score`, "wellness", "points", `The ${name} factor's sub-score 0-100.`, (c) => c.diagnosis.factors.find((f) => f.name === name)!.subScore);
}

// ----------------------------------------------------------------------------------------
// Ratios across sources

const ALL = DEBT_GROUPS.indexOf("all");
const balanceOf = (c: Context) => c.a.debt[debtSlot(ALL, DEBT.balance)]!;
define("ratio.debt_service_to_income", "ratios", "ratio", "Monthly minimum payments of open debts / today's monthly income, unclamped; undefined without income.", (c) =>
  ratio(c.diagnosis.measurements.debtService, c.a.income.now),
);
define("ratio.debt_to_annual_income", "ratios", "ratio", "Outstanding balance of open debts / (12 x today's monthly income); undefined without income.", (c) =>
  ratio(balanceOf(c), 12 * c.a.income.now),
);
define("ratio.savings_to_debt", "ratios", "ratio", "Liquid savings / outstanding balance of open debts; undefined without debt.", (c) => ratio(c.a.goals.liquid, balanceOf(c)));
define(
  "ratio.outgoings_to_income",
  "ratios",
  "ratio",
  "(Spending over 90 days scaled to a month + instalment payments + card interest, the diagnosis's outgoings) / today's monthly income; undefined without income.",
  (c) => ratio(c.diagnosis.measurements.monthlyOutgoings, c.a.income.now),
);
define("ratio.debt_service_to_spending", "ratios", "ratio", "Monthly debt service / monthly spending (90-day average); undefined without spending.", (c) =>
  ratio(c.diagnosis.measurements.debtService, c.diagnosis.measurements.monthlySpending),
);
define(
  "ratio.high_cost_debt_share",
  "ratios",
  "ratio",
  "Share of the outstanding balance in PAYDAY debt or at an APR of 50 % or more; undefined without debt. (Microcredit is not high-cost by type: in Ecuador and Colombia its rate is capped well below that.)",
  (c) => {
    let high = 0;
    for (const debt of c.household.debts) {
      if (debt.status === "PAID_OFF" || debt.balance <= 0) continue;
      if (debt.type === "PAYDAY" || debt.apr >= 0.5) high += debt.balance;
    }
    return ratio(high, balanceOf(c));
  },
);
define("ratio.revolving_share", "ratios", "ratio", "Share of the outstanding balance on revolving credit (debts with a limit); undefined without debt.", (c) =>
  ratio(c.a.debt[debtSlot(ALL, DEBT.revolvingBalance)]!, balanceOf(c)),
);
define("ratio.liquidity_days", "ratios", "days", "Days of outgoings (spending + instalment payments + card interest) liquid savings would cover; undefined without outgoings.", (c) =>
  ratio(c.a.goals.liquid, c.diagnosis.measurements.monthlyOutgoings / 30.4375),
);

// ----------------------------------------------------------------------------------------
// Trends

EXPENSE_GROUPS.forEach((group, g) => {
  define(
    `trend.exp.${group}.slope_12w`,
    "trends",
    "ratio per week",
    `Least-squares slope of weekly sums of ${groupLabel(group)} over the last ${TREND_WEEKS} weeks (week 1 = today and the 6 days before), divided by their mean: the relative change per week; undefined when nothing was spent.`,
    (c) => {
      let mean = 0;
      for (let k = 0; k < TREND_WEEKS; k++) mean += c.a.weekly[g * TREND_WEEKS + k]!;
      mean /= TREND_WEEKS;
      if (mean === 0) return NaN_;
      const xMean = (TREND_WEEKS - 1) / 2;
      let covariance = 0;
      let variance = 0;
      for (let k = 0; k < TREND_WEEKS; k++) {
        const x = TREND_WEEKS - 1 - k; // time runs forward: the oldest week is x = 0
        covariance += (x - xMean) * (c.a.weekly[g * TREND_WEEKS + k]! - mean);
        variance += (x - xMean) * (x - xMean);
      }
      return covariance / variance / mean;
    },
  );
});
define(
  "trend.pay.late_share.chg_90d",
  "trends",
  "ratio",
  "Share of instalments not paid on time among those due in the 90 days before today, minus the same share for those due 91-365 days before; undefined when either period has none.",
  (c) => {
    const [recent, recentLate, older, olderLate] = c.a.lateShare;
    return ratio(recentLate, recent) - ratio(olderLate, older);
  },
);

// ----------------------------------------------------------------------------------------

export const VARIABLES: readonly VariableDefinition[] = definitions;
export const VARIABLE_INDEX: ReadonlyMap<string, number> = new Map(definitions.map((definition) => [definition.name, definition.index]));

if (VARIABLE_INDEX.size !== VARIABLES.length) throw new Error("prevention variable names are not unique");

/**
 * Every variable for one household, in catalogue order; NaN where a variable is undefined.
 * `diagnosis` is the household's diagnosis of the same day (its day is the variables' today).
 */
export function computeVariables(input: Household, diagnosis: Diagnosis): Float64Array {
  const household = canonicalHousehold(input);
  const context: Context = { a: aggregate(household, diagnosis.day), household, diagnosis };
  const values = new Float64Array(computes.length);
  for (let i = 0; i < computes.length; i++) values[i] = computes[i]!(context);
  return values;
}

/** The value of one named variable, null when undefined. Throws for an unknown name. */
export function variable(values: Float64Array, name: string): number | null {
  const index = VARIABLE_INDEX.get(name);
  if (index === undefined) throw new RangeError(`unknown prevention variable ${name}`);
  const value = values[index]!;
  return Number.isNaN(value) ? null : value;
}
