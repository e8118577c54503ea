// Hand-built households for the diagnosis and prevention tests: the same household as the
// engines' plain input and as database rows, so a test can check a figure by hand and then
// check that the database path gives the same figure.
import type { PrismaClient } from "../generated/prisma/client.ts";
import { COUNTRY_CURRENCY, type Day, DAY_MS, dayOf, type DebtEntry, type Household, type PaymentEntry } from "../domain/household/household.ts";

/** The brief's "as of" day, at 15:00 UTC. */
export const NOW = new Date("2026-05-08T15:00:00.000Z");
export const TODAY: Day = dayOf(NOW);

/** A debt with sensible defaults (amounts in cents). */
export function debt(overrides: Partial<DebtEntry> = {}): DebtEntry {
  return {
    id: "dbt_test",
    issuer: "Banco Pichincha",
    type: "INSTALLMENT",
    status: "CURRENT",
    principal: 100_000,
    balance: 50_000,
    creditLimit: null,
    minimumPayment: 10_000,
    apr: 0.2,
    dueDay: TODAY + 10,
    ...overrides,
  };
}

/** `count` monthly instalments of a debt type due every 30 days before today, the most recent first. */
export function instalments(count: number, status: PaymentEntry["status"] | ((i: number) => PaymentEntry["status"]), overrides: Partial<PaymentEntry> = {}): PaymentEntry[] {
  return Array.from({ length: count }, (_, i) => {
    const s = typeof status === "function" ? status(i) : status;
    const dueDay = TODAY - 5 - 30 * i;
    return {
      debtType: "INSTALLMENT",
      dueDay,
      amountDue: 10_000,
      amountPaid: s === "MISSED" || s === "PENDING" ? 0 : 10_000,
      paidDay: s === "ON_TIME" ? dueDay - 1 : s === "LATE" ? dueDay + 6 : null,
      status: s,
      ...overrides,
    };
  });
}

/**
 * A calm household: 1,000.00 a month of salary, one small instalment loan (100.00 a month)
 * paid on time for a year, a 15.00 purchase every 2.5 days (about 183.00 a month), and an
 * emergency fund of 3,000.00. It scores GREEN and raises no alert.
 */
export function calmHousehold(overrides: Partial<Household> = {}): Household {
  const expenses: Household["expenses"] = [];
  // A year of purchases, one every 2.5 days, 15.00 each, rotating food, groceries, transport.
  for (let i = 0; i < 144; i++) {
    const day = TODAY - Math.floor(i * 2.5);
    expenses.push({ day, category: i % 3 === 0 ? "food" : i % 3 === 1 ? "groceries" : "transport", fixed: false, amount: 1_500, count: 1, max: 1_500 });
  }
  return {
    userId: "USR_CALM",
    country: "EC",
    currency: "USD",
    createdDay: TODAY - 800,
    income: [{ kind: "RECURRING", monthly: 100_000, startedDay: TODAY - 700, endedDay: null }],
    debts: [debt({ id: "dbt_calm_loan" })],
    payments: instalments(12, "ON_TIME"),
    expenses,
    goals: [{ kind: "emergency_fund", status: "ACTIVE", target: 400_000, saved: 300_000, targetDay: TODAY + 200, createdDay: TODAY - 500 }],
    coach: [{ day: TODAY - 20, intent: "savings_plan", sentiment: 0.5, messages: 8 }],
    history: [],
    ...overrides,
  };
}

/**
 * An informal earner: the calm household, but paid only variable income (market stalls and
 * deliveries, 600.00 + 400.00 a month) that has held steady for two years, none of it lost in
 * the last 90 days. Income stability 0.75, the prudent line: variable pay alone is not a risk.
 */
export function informalEarnerHousehold(overrides: Partial<Household> = {}): Household {
  return calmHousehold({
    userId: "USR_INFORMAL",
    income: [
      { kind: "VARIABLE", monthly: 60_000, startedDay: TODAY - 730, endedDay: null },
      { kind: "VARIABLE", monthly: 40_000, startedDay: TODAY - 700, endedDay: null },
    ],
    ...overrides,
  });
}

const money = (cents: number): string => {
  if (!Number.isInteger(cents)) throw new Error(`test amounts in the database must be whole cents, got ${cents}`);
  return (cents / 100).toFixed(2);
};
const dateOf = (day: Day): Date => new Date(day * DAY_MS);

/** Writes a household as rows (one expense row per entry; entries must have count 1). */
export async function insertHousehold(prisma: PrismaClient, household: Household): Promise<void> {
  const { userId, country } = household;
  const currency = COUNTRY_CURRENCY[country];
  await prisma.user.create({ data: { id: userId, country, createdAt: dateOf(household.createdDay) } });
  await prisma.incomeStream.createMany({
    data: household.income.map((stream, i) => ({
      id: `inc_${userId}_${i}`,
      userId,
      country,
      source: stream.kind === "RECURRING" ? "salary" : "gig",
      kind: stream.kind,
      monthlyAmount: money(stream.monthly),
      currency,
      startedAt: dateOf(stream.startedDay),
      endedAt: stream.endedDay === null ? null : dateOf(stream.endedDay),
    })),
  });
  const debtIds = new Map<string, string>();
  await prisma.debt.createMany({
    data: household.debts.map((entry, i) => {
      const id = `${entry.id}_${userId}_${i}`;
      if (!debtIds.has(entry.type)) debtIds.set(entry.type, id);
      return {
        id,
        userId,
        country,
        issuer: entry.issuer,
        type: entry.type,
        principal: money(entry.principal),
        balance: money(entry.balance),
        creditLimit: entry.creditLimit === null ? null : money(entry.creditLimit),
        minimumPayment: money(entry.minimumPayment),
        currency,
        apr: entry.apr.toFixed(4),
        dueDate: dateOf(entry.dueDay),
        status: entry.status,
        openedAt: dateOf(household.createdDay),
      };
    }),
  });
  await prisma.debtPayment.createMany({
    data: household.payments.map((payment) => {
      const debtId = debtIds.get(payment.debtType);
      if (!debtId) throw new Error(`a ${payment.debtType} payment needs a ${payment.debtType} debt`);
      return {
        debtId,
        userId,
        country,
        dueDate: dateOf(payment.dueDay),
        amountDue: money(payment.amountDue),
        amountPaid: money(payment.amountPaid),
        paidAt: payment.paidDay === null ? null : dateOf(payment.paidDay),
        status: payment.status,
      };
    }),
  });
  await prisma.expense.createMany({
    data: household.expenses.map((entry) => {
      if (entry.count !== 1) throw new Error("insert single transactions (count 1)");
      return {
        userId,
        country,
        amount: money(entry.amount),
        currency,
        mcc: entry.fixed ? "6513" : "5812",
        category: entry.category,
        merchant: "Test merchant",
        occurredAt: new Date(entry.day * DAY_MS + 12 * 3_600_000),
      };
    }),
  });
  await prisma.savingsGoal.createMany({
    data: household.goals.map((goal, i) => ({
      id: `gol_${userId}_${i}`,
      userId,
      country,
      kind: goal.kind,
      name: goal.kind,
      targetAmount: money(goal.target),
      currentAmount: money(goal.saved),
      currency,
      targetDate: goal.targetDay === null ? null : dateOf(goal.targetDay),
      status: goal.status,
      createdAt: dateOf(goal.createdDay),
    })),
  });
  await prisma.coachSession.createMany({
    data: household.coach.map((session, i) => ({
      id: `cs_${userId}_${i}`,
      userId,
      country,
      startedAt: new Date(session.day * DAY_MS + 18 * 3_600_000),
      endedAt: new Date(session.day * DAY_MS + 18 * 3_600_000 + 600_000),
      intent: session.intent,
      sentiment: session.sentiment.toFixed(3),
      messageCount: session.messages,
    })),
  });
  await prisma.wellnessSnapshot.createMany({
    data: household.history.map((past) => ({
      id: `snp_${userId}_${past.day}`,
      userId,
      country,
      snapshotDate: dateOf(past.day),
      score: past.score,
      band: past.score >= 70 ? "GREEN" : past.score >= 40 ? "AMBER" : "RED",
      trend30d: 0,
      factors: [],
      actionPlan: [],
      computedAt: dateOf(past.day),
      nextReviewAt: dateOf(past.day + 30),
    })),
  });
}
