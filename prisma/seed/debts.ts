// A household's debts (local issuers, APRs realistic for the type and country, balances
// from the amortisation schedule) and six months of their instalments: on time, late,
// missed, and the next one pending.
import { addMonths, DAY_MS, type Day, dayInMonth, dayStartMs } from "./calendar.ts";
import { type CountryProfile, DEBT_SHAPE, DEBT_TYPE_MIX, type DebtTypeCode } from "./catalogue.ts";
import { clamp, type HouseholdInput, PAYMENT_WINDOW_DAYS, rowId } from "./household-context.ts";
import type { Rng } from "./prng.ts";
import { type Cents, type DebtPaymentRow, type DebtRow, type DebtStatusCode, type PaymentStatusCode, roundCents } from "./rows.ts";

function annuityPayment(principal: number, apr: number, months: number): number {
  const r = apr / 12;
  if (months <= 0) return principal;
  if (r === 0) return principal / months;
  return (principal * r) / (1 - Math.pow(1 + r, -months));
}

function remainingBalance(principal: number, apr: number, payment: number, paidMonths: number): number {
  const r = apr / 12;
  const growth = Math.pow(1 + r, paidMonths);
  return Math.max(0, principal * growth - (r === 0 ? payment * paidMonths : (payment * (growth - 1)) / r));
}

/** The `dayOfMonth` occurrence on or after `from`. */
function nextOccurrence(from: Day, dayOfMonth: number): Day {
  for (let offset = 0; ; offset++) {
    const day = dayInMonth(from, offset, dayOfMonth);
    if (day >= from) return day;
  }
}

/** The `dayOfMonth` occurrence on or before `from`. */
function previousOccurrence(from: Day, dayOfMonth: number): Day {
  for (let offset = 0; ; offset--) {
    const day = dayInMonth(from, offset, dayOfMonth);
    if (day <= from) return day;
  }
}

export function generateDebts(
  input: HouseholdInput,
  profile: CountryProfile,
  rng: Rng,
  stress: number,
  income: number,
): { debts: DebtRow[]; payments: DebtPaymentRow[] } {
  const { today } = input;
  const count = clamp(1 + Math.floor(stress * 3 + rng.next() * 1.8), 1, 5);
  const debts: DebtRow[] = [];
  const payments: DebtPaymentRow[] = [];
  const amountStep = profile.amountStepCents;
  const limitStep = Math.max(100, profile.priceStepCents) * 100; // whole hundreds (or 10,000s) of units
  let hasMortgage = false;
  for (let k = 0; k < count; k++) {
    let type: DebtTypeCode = DEBT_TYPE_MIX.pick(rng);
    const affordsSecured = income > profile.medianMonthlyIncome * 100 * 0.8;
    if ((type === "MORTGAGE" && (hasMortgage || !affordsSecured)) || (type === "AUTO_LOAN" && !affordsSecured)) {
      type = "CREDIT_CARD";
    }
    if (type === "MORTGAGE") hasMortgage = true;
    const issuers = profile.issuers.filter((issuer) => issuer.types.includes(type));
    const issuer = rng.pick(issuers.length > 0 ? issuers : profile.issuers);
    const [aprLow, aprHigh] = profile.apr[type];
    const apr = Math.round(rng.float(aprLow, aprHigh) * 10_000) / 10_000;
    const shape = DEBT_SHAPE[type];
    const size = income * rng.float(shape.size[0], shape.size[1]) * (0.5 + 0.6 * stress);
    const dueDay = rng.int(1, 28);
    const status: DebtStatusCode = rng.weighted([
      ["CURRENT", 0.9 - 0.25 * stress],
      ["LATE", 0.02 + 0.3 * stress * stress],
      ["DEFAULTED", 0.004 + 0.1 * stress * stress * stress],
      ["PAID_OFF", 0.07 * (1 - stress)],
    ] as const);

    let principal: number;
    let balance: number;
    let creditLimit: number | null = null;
    let minimumPayment: number;
    let openedAt: Day;
    let termMonths = 0;
    let paidOffDay: Day | null = null;
    let installment: number;
    if (type === "CREDIT_CARD") {
      creditLimit = Math.max(limitStep, roundCents(size, limitStep));
      const utilisation = status === "PAID_OFF" ? 0 : clamp(0.05 + 0.85 * stress + rng.normal(0, 0.15), 0.02, 1.02);
      balance = roundCents(creditLimit * utilisation, amountStep);
      principal = roundCents(balance * rng.float(0.86, 0.97), amountStep);
      minimumPayment = balance === 0 ? 0 : Math.min(balance, Math.max(roundCents(balance * 0.05, amountStep), 1000 * profile.priceScale));
      minimumPayment = roundCents(minimumPayment, amountStep);
      installment = minimumPayment > 0 ? minimumPayment : roundCents(creditLimit * rng.float(0.02, 0.08), amountStep);
      openedAt = today - rng.int(120, 3000);
    } else {
      termMonths = rng.int(shape.termMonths[0], shape.termMonths[1]);
      principal = roundCents(size, Math.max(amountStep, limitStep / 10));
      const payment = annuityPayment(principal, apr, termMonths);
      installment = roundCents(payment, amountStep);
      const elapsed = status === "PAID_OFF" ? termMonths + rng.int(0, 12) : rng.int(0, Math.max(0, termMonths - 1));
      openedAt = addMonths(today, -(elapsed + 1)) - rng.int(0, 20);
      const paidMonths = status === "PAID_OFF" ? termMonths : Math.min(elapsed, termMonths);
      balance = status === "PAID_OFF" ? 0 : roundCents(remainingBalance(principal, apr, payment, paidMonths), amountStep);
      if (balance === 0 && status !== "PAID_OFF") balance = roundCents(payment, amountStep);
      minimumPayment = status === "PAID_OFF" ? 0 : Math.min(balance, roundCents(payment, amountStep));
      if (status === "PAID_OFF") paidOffDay = previousOccurrence(addMonths(openedAt, termMonths), dueDay);
    }

    let dueDate: Day;
    if (status === "LATE") dueDate = previousOccurrence(today - rng.int(1, 30), dueDay);
    else if (status === "DEFAULTED") dueDate = previousOccurrence(today - rng.int(95, 170), dueDay);
    else if (status === "PAID_OFF") dueDate = paidOffDay ?? previousOccurrence(today - rng.int(1, 60), dueDay);
    else dueDate = nextOccurrence(today, dueDay);
    if (dueDate <= openedAt) openedAt = dueDate - rng.int(20, 40);

    const debt: DebtRow = {
      id: rowId("dbt", input, k),
      userId: input.userId,
      country: input.country,
      issuer: issuer.name,
      type,
      principal,
      balance,
      creditLimit,
      minimumPayment,
      currency: profile.currency,
      apr,
      dueDate,
      status,
      openedAt,
      updatedAt: dayStartMs(today - rng.int(1, 10)) + rng.int(0, DAY_MS / 1000 - 1) * 1000,
    };
    debts.push(debt);
    appendPayments(debt, dueDay, termMonths, installment, input, profile, rng, stress, payments);
  }
  return { debts, payments };
}

function appendPayments(
  debt: DebtRow,
  dueDay: number,
  termMonths: number,
  regular: Cents,
  input: HouseholdInput,
  profile: CountryProfile,
  rng: Rng,
  stress: number,
  out: DebtPaymentRow[],
): void {
  const { today } = input;
  const windowStart = today - PAYMENT_WINDOW_DAYS;
  const lastInstallment = termMonths > 0 ? addMonths(debt.openedAt, termMonths) : Number.POSITIVE_INFINITY;
  let pendingAdded = false;
  const lateP = 0.03 + 0.28 * stress * stress;
  const missedP = 0.005 + 0.07 * stress * stress * stress;
  for (let offset = -7; offset <= 1; offset++) {
    const due = dayInMonth(today, offset, dueDay);
    if (due <= debt.openedAt || due < windowStart || due > lastInstallment + 3) continue;
    if (debt.status === "PAID_OFF" && due > debt.dueDate) continue;
    if (due >= today) {
      // Only the next instalment of a debt still being serviced is on the books as pending.
      if (!pendingAdded && (debt.status === "CURRENT" || debt.status === "LATE")) {
        out.push(payment(debt, due, Math.min(regular, debt.balance), 0, null, "PENDING"));
        pendingAdded = true;
      }
      continue;
    }
    let amountDue = regular;
    if (debt.type === "CREDIT_CARD") amountDue = roundCents(regular * rng.float(0.85, 1.15), profile.amountStepCents);
    if (amountDue <= 0) continue;
    let status: PaymentStatusCode;
    if ((debt.status === "DEFAULTED" && due >= debt.dueDate) || (debt.status === "LATE" && due === debt.dueDate)) {
      status = "MISSED";
    } else {
      const boost = debt.status === "LATE" || debt.status === "DEFAULTED" ? 2 : 1;
      const roll = rng.next();
      status = roll < missedP * boost ? "MISSED" : roll < (missedP + lateP) * boost ? "LATE" : "ON_TIME";
    }
    let paidAt: Day | null = null;
    let amountPaid = 0;
    if (status === "ON_TIME") {
      paidAt = Math.max(debt.openedAt + 1, due - rng.int(0, 5));
      amountPaid = amountDue;
      if (debt.type === "CREDIT_CARD" && rng.chance(0.3 * (1 - stress))) {
        amountPaid = roundCents(amountDue * rng.float(1.2, 3), profile.amountStepCents);
      }
    } else if (status === "LATE") {
      paidAt = due + rng.int(2, 25);
      if (paidAt >= today) {
        status = "MISSED";
        paidAt = null;
      } else {
        amountPaid = rng.chance(0.3) ? roundCents(amountDue * rng.float(0.5, 0.9), profile.amountStepCents) : amountDue;
      }
    }
    out.push(payment(debt, due, amountDue, amountPaid, paidAt, status));
  }
}

function payment(
  debt: DebtRow,
  dueDate: Day,
  amountDue: Cents,
  amountPaid: Cents,
  paidAt: Day | null,
  status: PaymentStatusCode,
): DebtPaymentRow {
  return { debtId: debt.id, userId: debt.userId, country: debt.country, dueDate, amountDue, amountPaid, paidAt, status };
}
