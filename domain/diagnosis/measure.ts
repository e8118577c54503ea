// Measures the eight factors from a household, as of a day. Every formula, window and edge
// case here is written out in docs/wellness.md ("Factors").
import {
  DAYS_PER_MONTH,
  type Day,
  type DebtEntry,
  type Household,
  isOpenDebt,
  monthlyIncomeOn,
} from "../household/household.ts";
import { FACTOR_NAMES, type FactorValues, normalise } from "./model.ts";

/** Spending is averaged over this many days (less for a household registered more recently). */
export const SPENDING_WINDOW_DAYS = 90;
/** Volatility: six fortnights. */
export const VOLATILITY_PERIODS = 6;
export const VOLATILITY_PERIOD_DAYS = 14;
export const PAYMENT_WINDOW_DAYS = 365;
export const INCOME_LOOKBACK_DAYS = 90;
/** A household registered for less than this is still measured over this many days. */
const MIN_SPENDING_DAYS = 30;

/**
 * income_stability of income that is all variable and none of it lost: the prudent line (70
 * points). A steady earner paid only variable income, as informal workers in the region are,
 * is not at risk for that alone; losing income is what moves the index down (docs/wellness.md).
 */
export const VARIABLE_INCOME_STABILITY = 0.75;

function isRevolving(debt: DebtEntry): debt is DebtEntry & { creditLimit: number } {
  return debt.creditLimit !== null && debt.creditLimit > 0;
}

/** A month's interest on a revolving balance at its APR. */
function revolvingFinanceCharge(debt: DebtEntry): number {
  return (debt.balance * debt.apr) / 12;
}

/** The amounts behind the factor values, for explanations and action steps (minor units). */
export interface Measurements {
  monthlyIncome: number;
  recurringIncome: number;
  incomeBefore: number;
  /** Minimum payments of open debts: the obligation debt_to_income measures. */
  debtService: number;
  /**
   * What debt service takes out of the month beside spending: instalment debts' minimum
   * payments, and revolving credit's finance charge only (balance x APR / 12, at most its
   * minimum payment). The rest of a card's payment repays purchases that are already in the
   * expenses, so counting it again would count them twice.
   */
  debtOutgoings: number;
  monthlySpending: number;
  /** Monthly spending + debtOutgoings: what savings_ratio and liquidity_buffer set against income and savings. */
  monthlyOutgoings: number;
  /** Mean fortnightly day-to-day spending (fixed bills excluded). */
  fortnightlySpending: number;
  liquidSavings: number;
  revolvingBalance: number;
  revolvingLimit: number;
  instalmentsDue: number;
  instalmentsOnTime: number;
  goalsCounted: number;
  goalsTarget: number;
  goalsSaved: number;
}

export interface FactorMeasurement {
  /** Raw values (unclamped, unrounded). */
  raw: FactorValues;
  /** Clamped to each factor's range and rounded to two decimals: what is stored and scored. */
  values: FactorValues;
  measurements: Measurements;
}

/** Goals whose money counts as liquid: anything not abandoned, except retirement savings. */
function isLiquidGoal(kind: string, status: string): boolean {
  return status !== "ABANDONED" && kind !== "retirement";
}

export function measureFactors(household: Household, today: Day): FactorMeasurement {
  const income = monthlyIncomeOn(household.income, today);
  const recurring = monthlyIncomeOn(household.income, today, "RECURRING");
  const incomeBefore = monthlyIncomeOn(household.income, today - INCOME_LOOKBACK_DAYS);

  let debtService = 0;
  let debtOutgoings = 0;
  let revolvingBalance = 0;
  let revolvingLimit = 0;
  for (const debt of household.debts) {
    if (!isOpenDebt(debt)) continue;
    debtService += debt.minimumPayment;
    if (isRevolving(debt)) {
      revolvingBalance += debt.balance;
      revolvingLimit += debt.creditLimit;
      debtOutgoings += Math.min(debt.minimumPayment, revolvingFinanceCharge(debt));
    } else {
      debtOutgoings += debt.minimumPayment;
    }
  }

  // Spending: window (today - days, today], shortened to the household's age (at least 30 days).
  const spendingDays = Math.max(MIN_SPENDING_DAYS, Math.min(SPENDING_WINDOW_DAYS, today - household.createdDay + 1));
  const volatilityStart = today - VOLATILITY_PERIODS * VOLATILITY_PERIOD_DAYS; // exclusive
  const fortnights = new Array<number>(VOLATILITY_PERIODS).fill(0);
  let spent = 0;
  for (const expense of household.expenses) {
    if (expense.day > today) continue;
    if (expense.day > today - spendingDays) spent += expense.amount;
    if (!expense.fixed && expense.day > volatilityStart) {
      const slot = Math.floor((expense.day - volatilityStart - 1) / VOLATILITY_PERIOD_DAYS);
      fortnights[slot] = (fortnights[slot] ?? 0) + expense.amount;
    }
  }
  const monthlySpending = (spent * DAYS_PER_MONTH) / spendingDays;
  const mean = fortnights.reduce((a, b) => a + b, 0) / VOLATILITY_PERIODS;
  const variance = fortnights.reduce((a, b) => a + (b - mean) * (b - mean), 0) / VOLATILITY_PERIODS;
  const volatility = mean > 0 ? Math.sqrt(variance) / mean : 0;

  // Instalments due in the 365 days before today (today's are still payable); pending ones
  // whose due day has passed count as not on time.
  let due = 0;
  let onTime = 0;
  for (const payment of household.payments) {
    if (payment.dueDay >= today || payment.dueDay < today - PAYMENT_WINDOW_DAYS) continue;
    due++;
    if (payment.status === "ON_TIME") onTime++;
  }

  let liquidSavings = 0;
  let goalsCounted = 0;
  let goalsTarget = 0;
  let goalsSaved = 0;
  let progressSum = 0;
  for (const goal of household.goals) {
    if (isLiquidGoal(goal.kind, goal.status)) liquidSavings += goal.saved;
    if (goal.status === "ABANDONED") continue;
    goalsCounted++;
    goalsTarget += goal.target;
    goalsSaved += goal.saved;
    progressSum += goal.target > 0 ? Math.min(1, goal.saved / goal.target) : 1;
  }

  const outgoings = monthlySpending + debtOutgoings;
  const retained = incomeBefore > 0 ? Math.min(1, income / incomeBefore) : income > 0 ? 1 : 0;
  const recurringShare = income > 0 ? recurring / income : 0;

  const raw: FactorValues = {
    // No income with debts to service is the worst case; no income and no debts is no burden.
    debt_to_income: income > 0 ? debtService / income : debtService > 0 ? Infinity : 0,
    on_time_payment_rate: due === 0 ? 1 : onTime / due,
    savings_ratio: income > 0 ? (income - outgoings) / income : outgoings > 0 ? -Infinity : 0,
    liquidity_buffer: outgoings > 0 ? liquidSavings / outgoings : liquidSavings > 0 ? Infinity : 0,
    credit_utilisation: revolvingLimit > 0 ? revolvingBalance / revolvingLimit : 0,
    income_stability: retained * (VARIABLE_INCOME_STABILITY + (1 - VARIABLE_INCOME_STABILITY) * recurringShare),
    expense_volatility: volatility,
    goal_progress: goalsCounted === 0 ? 0 : progressSum / goalsCounted,
  };
  const values = {} as FactorValues;
  // Infinite ratios (no income, no outgoings) land on the end of the factor's range.
  for (const name of FACTOR_NAMES) values[name] = normalise(name, raw[name]);
  return {
    raw,
    values,
    measurements: {
      monthlyIncome: income,
      recurringIncome: recurring,
      incomeBefore,
      debtService,
      debtOutgoings,
      monthlySpending,
      monthlyOutgoings: outgoings,
      fortnightlySpending: mean,
      liquidSavings,
      revolvingBalance,
      revolvingLimit,
      instalmentsDue: due,
      instalmentsOnTime: onTime,
      goalsCounted,
      goalsTarget,
      goalsSaved,
    },
  };
}
