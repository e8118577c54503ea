// Each record kind the app writes: its row from the validated input, and its answer. Every
// update and every payment is found by (id, person) together, so another person's record and
// one that does not exist are the same NOT_FOUND.
import { randomBytes } from "node:crypto";
import type { Debt, DebtPayment, Expense, IncomeStream, SavingsGoal } from "../../generated/prisma/client.ts";
import { RestError } from "../rest/envelope.ts";
import { checkCurrency, type Person, type RecordWrite, type Tx } from "./app-writes.ts";
import type { DebtInput, ExpenseInput, GoalInput, IncomeInput, PaymentInput } from "./app-write-inputs.ts";

const dateOf = (day: string) => new Date(`${day}T00:00:00.000Z`);
const dayOf = (date: Date | null) => (date ? date.toISOString().slice(0, 10) : null);
const newId = (prefix: string) => `${prefix}_${randomBytes(9).toString("hex")}`;

/** Copies the fields present, renamed and converted. */
type Fields = Readonly<Record<string, readonly [column: string, convert: (value: never) => unknown]>>;

function pick(input: object, fields: Fields): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    const field = fields[key];
    if (field && value !== undefined) data[field[0]] = value === null ? null : field[1](value as never);
  }
  return data;
}

const same = (value: never): unknown => value;
const notFound = (what: string, id: string): never => {
  throw new RestError("NOT_FOUND", `No ${what} ${id} for this person`);
};

// Expenses ---------------------------------------------------------------------------------

const EXPENSE_FIELDS = {
  amount: ["amount", same],
  currency: ["currency", same],
  mcc: ["mcc", same],
  category: ["category", same],
  merchant: ["merchant", same],
  occurred_at: ["occurredAt", (value: string) => new Date(value)],
} as const;

export function expenseAnswer(row: Expense): Record<string, unknown> {
  return {
    id: row.id.toString(),
    user_id: row.userId,
    amount: row.amount.toFixed(2),
    currency: row.currency,
    mcc: row.mcc,
    category: row.category,
    merchant: row.merchant,
    occurred_at: row.occurredAt.toISOString(),
  };
}

export async function createExpense(tx: Tx, person: Person, input: ExpenseInput): Promise<RecordWrite> {
  checkCurrency(person, input.currency);
  const row = await tx.expense.create({ data: { ...pick(input, EXPENSE_FIELDS), userId: person.id, country: person.country } as never });
  return { recordId: row.id.toString(), answer: expenseAnswer(row) };
}

export async function updateExpense(tx: Tx, person: Person, id: string, input: Partial<ExpenseInput>): Promise<RecordWrite> {
  checkCurrency(person, input.currency);
  const { count } = await tx.expense.updateMany({ where: { id: BigInt(id), userId: person.id }, data: pick(input, EXPENSE_FIELDS) });
  if (count === 0) notFound("expense", id);
  const row = await tx.expense.findUniqueOrThrow({ where: { id: BigInt(id) } });
  return { recordId: id, answer: expenseAnswer(row) };
}

// Debts -------------------------------------------------------------------------------------

const DEBT_FIELDS = {
  issuer: ["issuer", same],
  type: ["type", same],
  principal: ["principal", same],
  balance: ["balance", same],
  credit_limit: ["creditLimit", same],
  minimum_payment: ["minimumPayment", same],
  currency: ["currency", same],
  apr: ["apr", (value: number) => value.toFixed(4)],
  due_date: ["dueDate", dateOf],
  status: ["status", same],
  opened_at: ["openedAt", dateOf],
} as const;

export function debtAnswer(row: Debt): Record<string, unknown> {
  return {
    id: row.id,
    user_id: row.userId,
    issuer: row.issuer,
    type: row.type,
    principal: row.principal.toFixed(2),
    balance: row.balance.toFixed(2),
    credit_limit: row.creditLimit?.toFixed(2) ?? null,
    minimum_payment: row.minimumPayment.toFixed(2),
    currency: row.currency,
    apr: Number(row.apr),
    due_date: dayOf(row.dueDate),
    status: row.status,
    opened_at: dayOf(row.openedAt),
  };
}

export async function createDebt(tx: Tx, person: Person, input: DebtInput): Promise<RecordWrite> {
  checkCurrency(person, input.currency);
  const row = await tx.debt.create({ data: { ...pick(input, DEBT_FIELDS), id: newId("dbt"), userId: person.id, country: person.country } as never });
  return { recordId: row.id, answer: debtAnswer(row) };
}

export async function updateDebt(tx: Tx, person: Person, id: string, input: Partial<DebtInput>): Promise<RecordWrite> {
  checkCurrency(person, input.currency);
  const { count } = await tx.debt.updateMany({ where: { id, userId: person.id }, data: { ...pick(input, DEBT_FIELDS), updatedAt: new Date() } });
  if (count === 0) notFound("debt", id);
  return { recordId: id, answer: debtAnswer(await tx.debt.findUniqueOrThrow({ where: { id } })) };
}

// Debt payments -----------------------------------------------------------------------------

const PAYMENT_FIELDS = {
  due_date: ["dueDate", dateOf],
  amount_due: ["amountDue", same],
  amount_paid: ["amountPaid", same],
  paid_at: ["paidAt", dateOf],
  status: ["status", same],
} as const;

export function paymentAnswer(row: DebtPayment): Record<string, unknown> {
  return {
    id: row.id.toString(),
    debt_id: row.debtId,
    user_id: row.userId,
    due_date: dayOf(row.dueDate),
    amount_due: row.amountDue.toFixed(2),
    amount_paid: row.amountPaid.toFixed(2),
    paid_at: dayOf(row.paidAt),
    status: row.status,
  };
}

export async function createPayment(tx: Tx, person: Person, debtId: string, input: PaymentInput): Promise<RecordWrite> {
  const debt = await tx.debt.findFirst({ where: { id: debtId, userId: person.id }, select: { id: true } });
  if (!debt) notFound("debt", debtId);
  const row = await tx.debtPayment.create({ data: { ...pick(input, PAYMENT_FIELDS), debtId, userId: person.id, country: person.country } as never });
  return { recordId: row.id.toString(), answer: paymentAnswer(row) };
}

export async function updatePayment(tx: Tx, person: Person, debtId: string, id: string, input: Partial<PaymentInput>): Promise<RecordWrite> {
  const { count } = await tx.debtPayment.updateMany({ where: { id: BigInt(id), debtId, userId: person.id }, data: pick(input, PAYMENT_FIELDS) });
  if (count === 0) notFound("payment", id);
  return { recordId: id, answer: paymentAnswer(await tx.debtPayment.findUniqueOrThrow({ where: { id: BigInt(id) } })) };
}

// Income streams ----------------------------------------------------------------------------

const INCOME_FIELDS = {
  source: ["source", same],
  kind: ["kind", same],
  monthly_amount: ["monthlyAmount", same],
  currency: ["currency", same],
  started_at: ["startedAt", dateOf],
  ended_at: ["endedAt", dateOf],
} as const;

export function incomeAnswer(row: IncomeStream): Record<string, unknown> {
  return {
    id: row.id,
    user_id: row.userId,
    source: row.source,
    kind: row.kind,
    monthly_amount: row.monthlyAmount.toFixed(2),
    currency: row.currency,
    started_at: dayOf(row.startedAt),
    ended_at: dayOf(row.endedAt),
  };
}

function checkPeriod(started: Date, ended: Date | null): void {
  if (ended && ended < started) throw new RestError("BAD_USER_INPUT", "ended_at must not be before started_at");
}

export async function createIncome(tx: Tx, person: Person, input: IncomeInput): Promise<RecordWrite> {
  checkCurrency(person, input.currency);
  checkPeriod(dateOf(input.started_at), input.ended_at ? dateOf(input.ended_at) : null);
  const row = await tx.incomeStream.create({ data: { ...pick(input, INCOME_FIELDS), id: newId("inc"), userId: person.id, country: person.country } as never });
  return { recordId: row.id, answer: incomeAnswer(row) };
}

export async function updateIncome(tx: Tx, person: Person, id: string, input: Partial<IncomeInput>): Promise<RecordWrite> {
  checkCurrency(person, input.currency);
  const { count } = await tx.incomeStream.updateMany({ where: { id, userId: person.id }, data: pick(input, INCOME_FIELDS) });
  if (count === 0) notFound("income stream", id);
  const row = await tx.incomeStream.findUniqueOrThrow({ where: { id } });
  checkPeriod(row.startedAt, row.endedAt); // throws inside the transaction: the update rolls back
  return { recordId: id, answer: incomeAnswer(row) };
}

// Savings goals -----------------------------------------------------------------------------

const GOAL_FIELDS = {
  kind: ["kind", same],
  name: ["name", same],
  target_amount: ["targetAmount", same],
  current_amount: ["currentAmount", same],
  currency: ["currency", same],
  target_date: ["targetDate", dateOf],
  status: ["status", same],
} as const;

export function goalAnswer(row: SavingsGoal): Record<string, unknown> {
  return {
    id: row.id,
    user_id: row.userId,
    kind: row.kind,
    name: row.name,
    target_amount: row.targetAmount.toFixed(2),
    current_amount: row.currentAmount.toFixed(2),
    currency: row.currency,
    target_date: dayOf(row.targetDate),
    status: row.status,
  };
}

export async function createGoal(tx: Tx, person: Person, input: GoalInput): Promise<RecordWrite> {
  checkCurrency(person, input.currency);
  const row = await tx.savingsGoal.create({ data: { ...pick(input, GOAL_FIELDS), id: newId("gol"), userId: person.id, country: person.country } as never });
  return { recordId: row.id, answer: goalAnswer(row) };
}

export async function updateGoal(tx: Tx, person: Person, id: string, input: Partial<GoalInput>): Promise<RecordWrite> {
  checkCurrency(person, input.currency);
  const { count } = await tx.savingsGoal.updateMany({ where: { id, userId: person.id }, data: pick(input, GOAL_FIELDS) });
  if (count === 0) notFound("savings goal", id);
  return { recordId: id, answer: goalAnswer(await tx.savingsGoal.findUniqueOrThrow({ where: { id } })) };
}
