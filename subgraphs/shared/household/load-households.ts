// Loads households for a batch of users with a fixed number of statements, however many users
// the batch holds: one per table (eight), each reading every user of the batch at once.
// Rows come in no particular order; the engines put each household in a canonical order
// before computing (canonicalHousehold), so results do not depend on it.
import { Prisma, type PrismaClient } from "../../../generated/prisma/client.ts";
import type { Country, DebtStatus, DebtType, GoalStatus, IncomeKind, PaymentStatus } from "../../../generated/prisma/enums.ts";
import {
  convert,
  COUNTRY_CURRENCY,
  type Day,
  DAY_MS,
  type ExpenseEntry,
  FIXED_BILL_MCCS,
  type Household,
} from "../../../domain/household/household.ts";

export interface LoadOptions {
  /** Expenses of the last `expenseDays` days, today included. */
  expenseDays: number;
  /** Instalments due in the last `paymentDays` days, and every later one. */
  paymentDays: number;
  /** Coach sessions of the last `coachDays` days; 0 reads none (the diagnosis does not use them). */
  coachDays: number;
  /** Read the latest earlier diagnosis on or before this day (the trend's reference). */
  referenceDay: Day;
  /**
   * Set when `userIds` is a keyset page: every user whose id lies in [first, last] is in it.
   * Rows are then selected by id range, which PostgreSQL reads several times faster than a
   * thousand separate index probes.
   */
  idRange?: readonly [first: string, last: string];
}

/** At most this many statements per `loadHouseholds` call, whatever the batch size. */
export const LOAD_STATEMENTS = 8;

interface UserRow {
  id: string;
  country: Country;
  createdDay: number;
}
interface IncomeRow {
  userId: string;
  kind: IncomeKind;
  monthly: number;
  currency: string;
  startedDay: number;
  endedDay: number | null;
}
interface DebtRow {
  userId: string;
  id: string;
  issuer: string;
  type: DebtType;
  status: DebtStatus;
  principal: number;
  balance: number;
  creditLimit: number | null;
  minimumPayment: number;
  currency: string;
  apr: number;
  dueDay: number;
}
interface PaymentRow {
  userId: string;
  debtType: DebtType;
  currency: string;
  dueDay: number;
  amountDue: number;
  amountPaid: number;
  paidDay: number | null;
  status: PaymentStatus;
}
interface ExpenseRow {
  userId: string;
  day: number;
  category: string;
  fixed: boolean;
  currency: string;
  amount: number;
}
interface GoalRow {
  userId: string;
  kind: string;
  status: GoalStatus;
  currency: string;
  target: number;
  saved: number;
  targetDay: number | null;
  createdDay: number;
}
interface CoachRow {
  userId: string;
  day: number;
  intent: string;
  sentiment: number;
  messages: number;
}
interface HistoryRow {
  userId: string;
  day: number;
  score: number;
}

function groupBy<Row extends { userId: string }>(rows: readonly Row[]): Map<string, Row[]> {
  const byUser = new Map<string, Row[]>();
  for (const row of rows) {
    const list = byUser.get(row.userId);
    if (list) list.push(row);
    else byUser.set(row.userId, [row]);
  }
  return byUser;
}

/** `{ idRange }` for a keyset page of user ids (sorted, contiguous among all users); `{}` otherwise. */
export function keysetRange(userIds: readonly string[], keysetPage: boolean | undefined): Pick<LoadOptions, "idRange"> {
  const first = userIds[0];
  const last = userIds[userIds.length - 1];
  return keysetPage && first !== undefined && last !== undefined ? { idRange: [first, last] } : {};
}

/** One entry per day, category and fixed/day-to-day: amounts summed, transactions counted, largest kept. */
function sumPerDay(rows: readonly ExpenseRow[], to: (amount: number, currency: string) => number): ExpenseEntry[] {
  const entries = new Map<string, ExpenseEntry>();
  for (const row of rows) {
    const amount = to(row.amount, row.currency);
    const key = `${row.day}\u0000${row.category}\u0000${row.fixed}`;
    const entry = entries.get(key);
    if (entry) {
      entry.amount += amount;
      entry.count++;
      if (amount > entry.max) entry.max = amount;
    } else entries.set(key, { day: row.day, category: row.category, fixed: row.fixed, amount, count: 1, max: amount });
  }
  return [...entries.values()];
}

/**
 * The households of `userIds` as of `today` (users that do not exist are left out), in the
 * order of `userIds`. Amounts are converted into each household's country currency.
 */
export async function loadHouseholds(prisma: PrismaClient, userIds: readonly string[], today: Day, options: LoadOptions): Promise<Household[]> {
  if (userIds.length === 0) return [];
  const ids = [...userIds];
  const dayStart = (daysBack: number): Date => new Date((today - daysBack + 1) * DAY_MS);
  const expensesFrom = dayStart(options.expenseDays);
  const coachFrom = dayStart(options.coachDays);
  const until = new Date((today + 1) * DAY_MS);
  const fixedMccs = [...FIXED_BILL_MCCS];
  const epoch = "1970-01-01";
  const range = options.idRange;
  const of = (column: string): Prisma.Sql =>
    range ? Prisma.sql`${Prisma.raw(column)} BETWEEN ${range[0]} AND ${range[1]}` : Prisma.sql`${Prisma.raw(column)} = ANY(${ids}::text[])`;

  const [users, income, debts, payments, expenses, goals, coach, history] = await Promise.all([
    prisma.$queryRaw<UserRow[]>`
      SELECT id, country::text AS country, ((created_at AT TIME ZONE 'UTC')::date - ${epoch}::date) AS "createdDay"
      FROM app_user WHERE ${of("id")}`,
    prisma.$queryRaw<IncomeRow[]>`
      SELECT user_id AS "userId", kind::text AS kind, (monthly_amount * 100)::float8 AS monthly, currency,
             (started_at - ${epoch}::date) AS "startedDay", (ended_at - ${epoch}::date) AS "endedDay"
      FROM income_stream WHERE ${of("user_id")}`,
    prisma.$queryRaw<DebtRow[]>`
      SELECT user_id AS "userId", id, issuer, type::text AS type, status::text AS status,
             (principal * 100)::float8 AS principal, (balance * 100)::float8 AS balance,
             (credit_limit * 100)::float8 AS "creditLimit", (minimum_payment * 100)::float8 AS "minimumPayment",
             currency, apr::float8 AS apr, (due_date - ${epoch}::date) AS "dueDay"
      FROM debt WHERE ${of("user_id")}`,
    prisma.$queryRaw<PaymentRow[]>`
      SELECT p.user_id AS "userId", d.type::text AS "debtType", d.currency, (p.due_date - ${epoch}::date) AS "dueDay",
             (p.amount_due * 100)::float8 AS "amountDue", (p.amount_paid * 100)::float8 AS "amountPaid",
             (p.paid_at - ${epoch}::date) AS "paidDay", p.status::text AS status
      FROM debt_payment p JOIN debt d ON d.id = p.debt_id AND ${of("d.user_id")}
      WHERE ${of("p.user_id")} AND p.due_date >= ${dayStart(options.paymentDays)}::date`,
    // Single transactions, summed per day and category below: grouping in SQL sorts on text
    // keys and was several times slower than reading the rows.
    prisma.$queryRaw<ExpenseRow[]>`
      SELECT user_id AS "userId", ((occurred_at AT TIME ZONE 'UTC')::date - ${epoch}::date) AS day, category,
             (mcc::text = ANY(${fixedMccs}::text[])) AS fixed, currency, (amount * 100)::float8 AS amount
      FROM expense
      WHERE ${of("user_id")} AND occurred_at >= ${expensesFrom} AND occurred_at < ${until}`,
    prisma.$queryRaw<GoalRow[]>`
      SELECT user_id AS "userId", kind, status::text AS status, currency,
             (target_amount * 100)::float8 AS target, (current_amount * 100)::float8 AS saved,
             (target_date - ${epoch}::date) AS "targetDay", ((created_at AT TIME ZONE 'UTC')::date - ${epoch}::date) AS "createdDay"
      FROM savings_goal WHERE ${of("user_id")}`,
    options.coachDays > 0
      ? prisma.$queryRaw<CoachRow[]>`
          SELECT user_id AS "userId", ((started_at AT TIME ZONE 'UTC')::date - ${epoch}::date) AS day, intent,
                 sentiment::float8 AS sentiment, message_count AS messages
          FROM coach_session
          WHERE ${of("user_id")} AND started_at >= ${coachFrom} AND started_at < ${until}`
      : Promise.resolve([] as CoachRow[]),
    prisma.$queryRaw<HistoryRow[]>`
      SELECT DISTINCT ON (user_id) user_id AS "userId", (snapshot_date - ${epoch}::date) AS day, score
      FROM wellness_snapshot
      WHERE ${of("user_id")} AND snapshot_date <= ${new Date(options.referenceDay * DAY_MS)}::date
      ORDER BY user_id, snapshot_date DESC`,
  ]);

  const incomeBy = groupBy(income);
  const debtsBy = groupBy(debts);
  const paymentsBy = groupBy(payments);
  const expensesBy = groupBy(expenses);
  const goalsBy = groupBy(goals);
  const coachBy = groupBy(coach);
  const historyBy = groupBy(history);
  const usersById = new Map(users.map((user) => [user.id, user]));

  const households: Household[] = [];
  for (const id of ids) {
    const user = usersById.get(id);
    if (!user) continue;
    const currency = COUNTRY_CURRENCY[user.country];
    const to = (amount: number, from: string): number => convert(amount, from, currency);
    households.push({
      userId: id,
      country: user.country,
      currency,
      createdDay: user.createdDay,
      income: (incomeBy.get(id) ?? []).map((row) => ({
        kind: row.kind,
        monthly: to(row.monthly, row.currency),
        startedDay: row.startedDay,
        endedDay: row.endedDay,
      })),
      debts: (debtsBy.get(id) ?? []).map((row) => ({
        id: row.id,
        issuer: row.issuer,
        type: row.type,
        status: row.status,
        principal: to(row.principal, row.currency),
        balance: to(row.balance, row.currency),
        creditLimit: row.creditLimit === null ? null : to(row.creditLimit, row.currency),
        minimumPayment: to(row.minimumPayment, row.currency),
        apr: row.apr,
        dueDay: row.dueDay,
      })),
      payments: (paymentsBy.get(id) ?? []).map((row) => ({
        debtType: row.debtType,
        dueDay: row.dueDay,
        amountDue: to(row.amountDue, row.currency),
        amountPaid: to(row.amountPaid, row.currency),
        paidDay: row.paidDay,
        status: row.status,
      })),
      expenses: sumPerDay(expensesBy.get(id) ?? [], to),
      goals: (goalsBy.get(id) ?? []).map((row) => ({
        kind: row.kind,
        status: row.status,
        target: to(row.target, row.currency),
        saved: to(row.saved, row.currency),
        targetDay: row.targetDay,
        createdDay: row.createdDay,
      })),
      coach: (coachBy.get(id) ?? []).map((row) => ({ day: row.day, intent: row.intent, sentiment: row.sentiment, messages: row.messages })),
      history: (historyBy.get(id) ?? []).map((row) => ({ day: row.day, score: row.score })),
    });
  }
  return households;
}
