// One pass over a household's rows that fills every aggregate the prevention variables are
// read from. The variables (variables.ts) are then plain lookups and ratios of these numbers.
import { DebtType } from "../../generated/prisma/enums.ts";
import { type Day, DAYS_PER_MONTH, type Household, isOpenDebt, monthlyIncomeOn } from "../household/household.ts";

/** The app's expense categories; anything else is counted as `other`. */
export const EXPENSE_CATEGORIES = ["food", "groceries", "transport", "utilities", "health", "education", "entertainment", "clothing", "housing", "telecom"] as const;
/** Categories, then `other`, then the three cross-category groups. */
export const EXPENSE_GROUPS = [...EXPENSE_CATEGORIES, "other", "total", "fixed", "discretionary"] as const;
export type ExpenseGroup = (typeof EXPENSE_GROUPS)[number];
export const WINDOWS = [7, 30, 90, 365] as const;
export type Window = (typeof WINDOWS)[number];
/** Windows whose spending is compared with the 90 days before them (spikes). */
export const SPIKE_WINDOWS = [7, 30] as const;
export const SPIKE_BASELINE_DAYS = 90;
export const TREND_WEEKS = 12;

/** Debt types in the order of the schema, then `all`. */
export const DEBT_GROUPS = [...Object.values(DebtType).map((type) => type.toLowerCase()), "all"] as const;
export const UPCOMING_WINDOWS = [7, 30] as const;

export const GOAL_KINDS = ["emergency_fund", "education", "home", "travel", "retirement"] as const;
export const COACH_INTENTS = ["debt_stress", "budgeting_help", "savings_plan", "payment_reminder", "income_loss"] as const;
/** A coach session at or below this sentiment counts as negative. */
export const NEGATIVE_SENTIMENT = -0.3;

const CATEGORY_INDEX = new Map<string, number>(EXPENSE_CATEGORIES.map((name, i) => [name, i]));
const OTHER = EXPENSE_GROUPS.indexOf("other");
const TOTAL = EXPENSE_GROUPS.indexOf("total");
const FIXED = EXPENSE_GROUPS.indexOf("fixed");
const DISCRETIONARY = EXPENSE_GROUPS.indexOf("discretionary");
const G = EXPENSE_GROUPS.length;
const W = WINDOWS.length;
const T = DEBT_GROUPS.length;
const ALL_DEBTS = T - 1;
const DEBT_TYPE_INDEX = new Map<string, number>(Object.values(DebtType).map((type, i) => [type, i]));

/** Expense statistics per group, window and period (0 = the window, 1 = the window before it). */
export const EXP = { sum: 0, count: 1, max: 2, days: 3 } as const;
const EXP_STATS = 4;
export function expSlot(group: number, window: number, period: 0 | 1, stat: number): number {
  return ((group * W + window) * 2 + period) * EXP_STATS + stat;
}

export const PAY = {
  count: 0,
  onTime: 1,
  late: 2,
  missed: 3,
  overdue: 4,
  amountDue: 5,
  amountPaid: 6,
  maxDaysLate: 7,
  lateDays: 8,
} as const;
const PAY_STATS = 9;
export function paySlot(type: number, window: number, stat: number): number {
  return (type * W + window) * PAY_STATS + stat;
}

export const DEBT = {
  open: 0,
  balance: 1,
  principal: 2,
  minPayment: 3,
  aprWeighted: 4,
  aprMax: 5,
  revolvingBalance: 6,
  limit: 7,
  delinquent: 8,
  nextDue: 9,
  defaulted: 10,
} as const;
const DEBT_STATS = 11;
export function debtSlot(type: number, stat: number): number {
  return type * DEBT_STATS + stat;
}

export const COACH = { sessions: 0, messages: 1, sentimentSum: 2, sentimentMin: 3, negative: 4 } as const;
const COACH_STATS = 5 + COACH_INTENTS.length;
export function coachSlot(window: number, period: 0 | 1, stat: number): number {
  return (window * 2 + period) * COACH_STATS + stat;
}
export function coachIntentStat(intent: number): number {
  return 5 + intent;
}

export interface Aggregates {
  today: Day;
  /** Expense sums in minor units. */
  exp: Float64Array;
  /** Per group and spike window: spending in the baseline days before the window. */
  baseline: Float64Array;
  /** Days of history the baseline covers per spike window (0 when none). */
  baselineDays: number[];
  /** Per group, TREND_WEEKS weekly sums; index 0 is the current week (days 0-6 ago). */
  weekly: Float64Array;
  pay: Float64Array;
  /** Per debt group and upcoming window: [count, amount]. */
  upcoming: Float64Array;
  debt: Float64Array;
  coach: Float64Array;
  /** Days since the latest coach session in the loaded history; NaN when none. */
  daysSinceCoach: number;
  income: { now: number; recurring: number; variable: number; streamsActive: number; before: number[]; ended: number[]; started: number[] };
  goals: {
    active: number;
    achieved: number;
    abandoned: number;
    target: number;
    saved: number;
    progressSum: number;
    counted: number;
    liquid: number;
    behindSchedule: number;
    nearestTargetDays: number;
    byKind: { saved: number; target: number }[];
  };
  /** Instalment counts for the late-share trend: [recent due, recent not on time, older due, older not on time]. */
  lateShare: [number, number, number, number];
}

export function aggregate(household: Household, today: Day): Aggregates {
  const exp = new Float64Array(G * W * 2 * EXP_STATS);
  const lastDay = new Float64Array(G * W * 2).fill(-1);
  const baseline = new Float64Array(G * SPIKE_WINDOWS.length);
  const weekly = new Float64Array(G * TREND_WEEKS);
  const expenses = [...household.expenses].sort((a, b) => a.day - b.day);
  const groups = [0, TOTAL, 0];
  for (const e of expenses) {
    const age = today - e.day;
    if (age < 0) continue;
    groups[0] = CATEGORY_INDEX.get(e.category) ?? OTHER;
    groups[2] = e.fixed ? FIXED : DISCRETIONARY;
    for (let w = 0; w < W; w++) {
      const size = WINDOWS[w]!;
      const period = age < size ? 0 : age < 2 * size ? 1 : -1;
      if (period === -1) continue;
      for (const g of groups) {
        const base = expSlot(g, w, period, 0);
        exp[base + EXP.sum]! += e.amount;
        exp[base + EXP.count]! += e.count;
        if (e.max > exp[base + EXP.max]!) exp[base + EXP.max] = e.max;
        const dayIndex = (g * W + w) * 2 + period;
        if (lastDay[dayIndex] !== e.day) {
          lastDay[dayIndex] = e.day;
          exp[base + EXP.days]! += 1;
        }
      }
    }
    SPIKE_WINDOWS.forEach((size, s) => {
      if (age >= size && age < size + SPIKE_BASELINE_DAYS) for (const g of groups) baseline[g * SPIKE_WINDOWS.length + s]! += e.amount;
    });
    const week = Math.floor(age / 7);
    if (week < TREND_WEEKS) for (const g of groups) weekly[g * TREND_WEEKS + week]! += e.amount;
  }
  // A baseline only covers days the household was recording expenses: from its first recorded
  // expense (or its registration, if later) on.
  const recordingFrom = Math.max(household.createdDay, expenses[0]?.day ?? today);
  const baselineDays = SPIKE_WINDOWS.map((size) => Math.max(0, Math.min(SPIKE_BASELINE_DAYS, today - size - recordingFrom + 1)));

  // Instalments due in the `w` days before today: [today - w, today - 1].
  const pay = new Float64Array(T * W * PAY_STATS);
  const lateShare: [number, number, number, number] = [0, 0, 0, 0];
  for (const p of household.payments) {
    const age = today - p.dueDay;
    if (age < 1) continue;
    const notOnTime = p.status !== "ON_TIME";
    if (age <= 90) {
      lateShare[0]++;
      if (notOnTime) lateShare[1]++;
    } else if (age <= 365) {
      lateShare[2]++;
      if (notOnTime) lateShare[3]++;
    }
    const type = DEBT_TYPE_INDEX.get(p.debtType) ?? ALL_DEBTS;
    const daysLate =
      p.status === "LATE" ? (p.paidDay ?? today) - p.dueDay : p.status === "MISSED" || p.status === "PENDING" ? today - p.dueDay : 0;
    for (let w = 0; w < W; w++) {
      if (age > WINDOWS[w]!) continue;
      for (const t of type === ALL_DEBTS ? [ALL_DEBTS] : [type, ALL_DEBTS]) {
        const base = paySlot(t, w, 0);
        pay[base + PAY.count]! += 1;
        if (p.status === "ON_TIME") pay[base + PAY.onTime]! += 1;
        else if (p.status === "LATE") {
          pay[base + PAY.late]! += 1;
          pay[base + PAY.lateDays]! += daysLate;
        } else if (p.status === "MISSED") pay[base + PAY.missed]! += 1;
        else pay[base + PAY.overdue]! += 1;
        pay[base + PAY.amountDue]! += p.amountDue;
        pay[base + PAY.amountPaid]! += p.amountPaid;
        if (daysLate > pay[base + PAY.maxDaysLate]!) pay[base + PAY.maxDaysLate] = daysLate;
      }
    }
  }

  const debt = new Float64Array(T * DEBT_STATS);
  for (let t = 0; t < T; t++) {
    debt[debtSlot(t, DEBT.aprMax)] = Number.NaN;
    debt[debtSlot(t, DEBT.nextDue)] = Number.NaN;
  }
  const upcoming = new Float64Array(T * UPCOMING_WINDOWS.length * 2);
  for (const d of household.debts) {
    const type = DEBT_TYPE_INDEX.get(d.type) ?? ALL_DEBTS;
    const open = isOpenDebt(d);
    for (const t of type === ALL_DEBTS ? [ALL_DEBTS] : [type, ALL_DEBTS]) {
      if (d.status === "LATE" || d.status === "DEFAULTED") debt[debtSlot(t, DEBT.delinquent)]! += 1;
      if (d.status === "DEFAULTED") debt[debtSlot(t, DEBT.defaulted)]! += 1;
      if (!open) continue;
      debt[debtSlot(t, DEBT.open)]! += 1;
      debt[debtSlot(t, DEBT.balance)]! += d.balance;
      debt[debtSlot(t, DEBT.principal)]! += d.principal;
      debt[debtSlot(t, DEBT.minPayment)]! += d.minimumPayment;
      debt[debtSlot(t, DEBT.aprWeighted)]! += d.apr * d.balance;
      const aprMax = debt[debtSlot(t, DEBT.aprMax)]!;
      if (Number.isNaN(aprMax) || d.apr > aprMax) debt[debtSlot(t, DEBT.aprMax)] = d.apr;
      if (d.creditLimit !== null && d.creditLimit > 0) {
        debt[debtSlot(t, DEBT.revolvingBalance)]! += d.balance;
        debt[debtSlot(t, DEBT.limit)]! += d.creditLimit;
      }
      const untilDue = d.dueDay - today;
      if (untilDue >= 0) {
        const nextDue = debt[debtSlot(t, DEBT.nextDue)]!;
        if (Number.isNaN(nextDue) || untilDue < nextDue) debt[debtSlot(t, DEBT.nextDue)] = untilDue;
      }
      UPCOMING_WINDOWS.forEach((size, u) => {
        if (untilDue >= 0 && untilDue < size) {
          upcoming[(t * UPCOMING_WINDOWS.length + u) * 2]! += 1;
          upcoming[(t * UPCOMING_WINDOWS.length + u) * 2 + 1]! += d.minimumPayment;
        }
      });
    }
  }

  const coach = new Float64Array(W * 2 * COACH_STATS);
  for (let w = 0; w < W; w++) for (const period of [0, 1] as const) coach[coachSlot(w, period, COACH.sentimentMin)] = Number.NaN;
  let daysSinceCoach = Number.NaN;
  for (const session of household.coach) {
    const age = today - session.day;
    if (age < 0) continue;
    if (Number.isNaN(daysSinceCoach) || age < daysSinceCoach) daysSinceCoach = age;
    const intent = (COACH_INTENTS as readonly string[]).indexOf(session.intent);
    for (let w = 0; w < W; w++) {
      const size = WINDOWS[w]!;
      const period = age < size ? 0 : age < 2 * size ? 1 : -1;
      if (period === -1) continue;
      const slot = (stat: number) => coachSlot(w, period, stat);
      coach[slot(COACH.sessions)]! += 1;
      coach[slot(COACH.messages)]! += session.messages;
      coach[slot(COACH.sentimentSum)]! += session.sentiment;
      const min = coach[slot(COACH.sentimentMin)]!;
      if (Number.isNaN(min) || session.sentiment < min) coach[slot(COACH.sentimentMin)] = session.sentiment;
      if (session.sentiment <= NEGATIVE_SENTIMENT) coach[slot(COACH.negative)]! += 1;
      if (intent >= 0) coach[slot(coachIntentStat(intent))]! += 1;
    }
  }

  const now = monthlyIncomeOn(household.income, today);
  const recurring = monthlyIncomeOn(household.income, today, "RECURRING");
  let streamsActive = 0;
  const ended = WINDOWS.map(() => 0);
  const started = WINDOWS.map(() => 0);
  for (const stream of household.income) {
    if (stream.startedDay <= today && (stream.endedDay === null || stream.endedDay > today)) streamsActive++;
    WINDOWS.forEach((size, w) => {
      if (stream.endedDay !== null && stream.endedDay <= today && stream.endedDay > today - size) ended[w]!++;
      if (stream.startedDay <= today && stream.startedDay > today - size) started[w]!++;
    });
  }

  const goals: Aggregates["goals"] = {
    active: 0,
    achieved: 0,
    abandoned: 0,
    target: 0,
    saved: 0,
    progressSum: 0,
    counted: 0,
    liquid: 0,
    behindSchedule: 0,
    nearestTargetDays: Number.NaN,
    byKind: GOAL_KINDS.map(() => ({ saved: 0, target: 0 })),
  };
  for (const goal of household.goals) {
    if (goal.status === "ACTIVE") goals.active++;
    else if (goal.status === "ACHIEVED") goals.achieved++;
    else goals.abandoned++;
    if (goal.status !== "ABANDONED" && goal.kind !== "retirement") goals.liquid += goal.saved;
    if (goal.status === "ABANDONED") continue;
    goals.counted++;
    goals.target += goal.target;
    goals.saved += goal.saved;
    const progress = goal.target > 0 ? Math.min(1, goal.saved / goal.target) : 1;
    goals.progressSum += progress;
    const kind = (GOAL_KINDS as readonly string[]).indexOf(goal.kind);
    if (kind >= 0) {
      goals.byKind[kind]!.saved += goal.saved;
      goals.byKind[kind]!.target += goal.target;
    }
    if (goal.status === "ACTIVE" && goal.targetDay !== null) {
      const span = goal.targetDay - goal.createdDay;
      const elapsed = span > 0 ? Math.min(1, Math.max(0, (today - goal.createdDay) / span)) : 1;
      if (progress < elapsed) goals.behindSchedule++;
      const left = goal.targetDay - today;
      if (left >= 0 && (Number.isNaN(goals.nearestTargetDays) || left < goals.nearestTargetDays)) goals.nearestTargetDays = left;
    }
  }

  return {
    today,
    exp,
    baseline,
    baselineDays,
    weekly,
    pay,
    upcoming,
    debt,
    coach,
    daysSinceCoach,
    income: {
      now,
      recurring,
      variable: now - recurring,
      streamsActive,
      before: WINDOWS.map((size) => monthlyIncomeOn(household.income, today - size)),
      ended,
      started,
    },
    goals,
    lateShare,
  };
}

/** Spending over `days` days expressed per month. */
export function perMonth(sum: number, days: number): number {
  return (sum * DAYS_PER_MONTH) / days;
}
