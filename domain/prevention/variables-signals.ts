// The prevention variables of signals and summaries: coach sessions, the day's wellness
// diagnosis, ratios across sources and trends, in catalogue order (variables.ts).
import { referenceScore } from "../diagnosis/diagnose.ts";
import { FACTOR_NAMES } from "../diagnosis/model.ts";
import { COACH, COACH_INTENTS, coachIntentStat, coachSlot, DEBT, DEBT_GROUPS, debtSlot, EXPENSE_GROUPS, NEGATIVE_SENTIMENT, TREND_WEEKS, WINDOWS } from "./aggregates.ts";
import { type Define, groupLabel, NaN_, previousText, ratio, type VariableContext as Context, windowText } from "./variable-catalogue.ts";

export function defineSignalVariables(define: Define): void {
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
}
