// The prevention variables of money flows and stocks: expenses, payments, debts, income and
// savings goals, in catalogue order (variables.ts).
import {
  DEBT,
  DEBT_GROUPS,
  debtSlot,
  EXP,
  EXPENSE_GROUPS,
  expSlot,
  GOAL_KINDS,
  PAY,
  paySlot,
  perMonth,
  SPIKE_BASELINE_DAYS,
  SPIKE_WINDOWS,
  UPCOMING_WINDOWS,
  WINDOWS,
} from "./aggregates.ts";
import { change, type Define, groupLabel, major, NaN_, previousText, ratio, type VariableContext as Context, windowText } from "./variable-catalogue.ts";

export function defineMoneyVariables(define: Define): void {
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
}
