// The ranked action plan: for each factor below 100 points, the next milestone on its curve,
// what reaching it means in the household's own money, and the score it would give, computed
// by re-scoring with that one factor moved to the milestone and everything else unchanged.
import { FACTOR_NAMES, FACTORS, type FactorName, type FactorValues, nextMilestone, scoreOf } from "./model.ts";
import type { Measurements } from "./measure.ts";

export interface ActionStep {
  code: string;
  /** What to do, in the household's language and money. */
  title: string;
  /** Score change if the step is taken (whole points, at least 1). */
  expectedScoreDelta: number;
  factor: FactorName;
  /** The factor value the step aims for (a curve anchor). */
  targetValue: number;
}

/** At most this many steps: a short list a person can act on. */
export const ACTION_PLAN_LENGTH = 3;

function money(minorUnits: number, currency: string): string {
  return `${Math.max(0, Math.round(minorUnits / 100))} ${currency}`;
}

function percent(fraction: number): string {
  return `${Math.round(fraction * 100)} %`;
}

interface StepText {
  code: string;
  title: string;
}

function describe(name: FactorName, value: number, target: number, m: Measurements, currency: string): StepText {
  switch (name) {
    case "debt_to_income": {
      const reduceBy = m.debtService - target * m.monthlyIncome;
      return {
        code: "reduce_debt_payments",
        title: `Baja tus pagos mensuales de deuda en ${money(reduceBy, currency)} (al ${percent(target)} de tu ingreso): refinancia o consolida primero la deuda de mayor tasa`,
      };
    }
    case "on_time_payment_rate": {
      if (target >= 1 || m.instalmentsDue === 0) {
        return { code: "pay_on_time", title: "Paga todas tus cuotas a tiempo durante los próximos 12 meses: activa recordatorios 3 días antes de cada vencimiento" };
      }
      const streak = Math.max(1, Math.ceil((target * m.instalmentsDue - m.instalmentsOnTime) / (1 - target)));
      return {
        code: "pay_on_time",
        title: `Paga a tiempo tus próximas ${streak} cuotas (llegarías al ${percent(target)} de pagos puntuales): activa recordatorios 3 días antes de cada vencimiento`,
      };
    }
    case "savings_ratio": {
      const cut = (target - value) * m.monthlyIncome;
      return {
        code: "spend_less_than_income",
        title: `Reduce tu gasto mensual en ${money(cut, currency)} para que te quede el ${percent(target)} de tu ingreso cada mes`,
      };
    }
    case "liquidity_buffer": {
      const outgoings = m.monthlyOutgoings;
      const add = target * outgoings - m.liquidSavings;
      return {
        code: "build_emergency_fund",
        title: `Suma ${money(add, currency)} a tu fondo de emergencia para cubrir ${target} ${target === 1 ? "mes" : "meses"} de gastos`,
      };
    }
    case "credit_utilisation": {
      const payDown = m.revolvingBalance - target * m.revolvingLimit;
      return {
        code: "reduce_card_utilisation",
        title: `Abona ${money(payDown, currency)} a tus tarjetas para usar como máximo el ${percent(target)} de tu cupo`,
      };
    }
    case "income_stability":
      return {
        code: "stabilise_income",
        title: "Separa un colchón para los meses de ingreso bajo y registra todos tus ingresos variables para planificar con ellos",
      };
    case "expense_volatility":
      return {
        code: "smooth_spending",
        title: `Fija un tope quincenal de ${money(m.fortnightlySpending, currency)} para tus gastos variables y evita los picos de gasto`,
      };
    case "goal_progress": {
      if (m.goalsCounted === 0) {
        return { code: "create_savings_goal", title: "Crea una meta de ahorro (por ejemplo, un fondo de emergencia) y haz tu primer aporte" };
      }
      const add = target * m.goalsTarget - m.goalsSaved;
      return {
        code: "fund_savings_goals",
        title: `Aporta ${money(add, currency)} a tus metas de ahorro para llegar al ${percent(target)} de avance`,
      };
    }
  }
}

export function actionPlan(values: FactorValues, score: number, measurements: Measurements, currency: string): ActionStep[] {
  const steps: (ActionStep & { order: number })[] = [];
  FACTOR_NAMES.forEach((name, order) => {
    const target = nextMilestone(name, values[name]);
    if (target === undefined) return;
    const delta = scoreOf({ ...values, [name]: target }) - score;
    if (delta < 1) return;
    steps.push({ ...describe(name, values[name], target, measurements, currency), expectedScoreDelta: delta, factor: name, targetValue: target, order });
  });
  return steps
    .sort((a, b) => b.expectedScoreDelta - a.expectedScoreDelta || FACTORS[b.factor].weight - FACTORS[a.factor].weight || a.order - b.order)
    .slice(0, ACTION_PLAN_LENGTH)
    .map(({ order: _order, ...step }) => step);
}
