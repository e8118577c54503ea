// An import from start to end: the file read as CSV, its rows planned (domain/imports), the
// expenses written all at once with a key per row so a second import of the file adds nothing,
// then the person's diagnosis and prevention rules run on what is now known, as after any other
// change to their expenses. The REST route (given this by the runtime) and `npm run import` share it.
import { createHash } from "node:crypto";
import { COUNTRY_CURRENCY } from "../domain/household/household.ts";
import { ImportPersonNotFound, ImportRefused, type ImportOutcome, type ImportRequest } from "../domain/imports/outcome.ts";
import { planImport, type PlannedExpense } from "../domain/imports/plan.ts";
import { CsvSyntaxError, parseCsvTable } from "../platform/csv-records.ts";
import type { PrismaClient } from "../platform/database/database.ts";
import { evaluateUser } from "../subgraphs/alerts/prevention/evaluate.ts";
import { insertImportedExpenses, type ImportedExpenseRow } from "../subgraphs/expenses/imports.ts";
import { diagnoseUser } from "../subgraphs/wellness/diagnosis/service.ts";

/** Most rows one file may hold. */
export const MAX_IMPORT_ROWS = 20_000;

/**
 * The row's key: the person, the app, the row's normalized content and how many rows alike came
 * before it in the file (two coffees of the same price on one day are two expenses, and stay two).
 */
function importKeys(userId: string, format: string, expenses: readonly PlannedExpense[]): string[] {
  const seen = new Map<string, number>();
  return expenses.map((expense) => {
    const occurrence = seen.get(expense.content) ?? 0;
    seen.set(expense.content, occurrence + 1);
    return createHash("sha256").update([userId, format, expense.content, String(occurrence)].join("\u001e")).digest("hex");
  });
}

/** Noon UTC of the day: the same calendar day in every Latin American time zone. */
const occurredAt = (day: string) => new Date(`${day}T12:00:00.000Z`);

export async function importExpenses(prisma: PrismaClient, request: ImportRequest): Promise<ImportOutcome> {
  const now = request.now ?? new Date();
  let table;
  try {
    table = parseCsvTable(request.csv);
  } catch (error) {
    if (error instanceof CsvSyntaxError) throw new ImportRefused([{ line: error.line ?? 1, reason: `not readable as CSV: ${error.message}` }]);
    throw error;
  }
  if (table.rows.length > MAX_IMPORT_ROWS) throw new ImportRefused([{ line: table.rows[MAX_IMPORT_ROWS]!.line, reason: `a file holds at most ${MAX_IMPORT_ROWS} rows: split it` }]);
  const person = await prisma.user.findUnique({ where: { id: request.userId }, select: { id: true, country: true } });
  if (!person) throw new ImportPersonNotFound(`No person ${request.userId}`);
  const plan = planImport(request.format, table.header, table.rows, { defaultCurrency: COUNTRY_CURRENCY[person.country], decimalComma: table.delimiter === ";" });
  if (plan.bad.length > 0) throw new ImportRefused(plan.bad);
  const keys = importKeys(person.id, request.format, plan.expenses);
  const rows: ImportedExpenseRow[] = plan.expenses.map((expense, index) => ({
    importKey: keys[index]!,
    amount: expense.amount,
    currency: expense.currency,
    mcc: expense.mcc,
    category: expense.category,
    merchant: expense.merchant,
    occurredAt: occurredAt(expense.day),
  }));
  const imported = await insertImportedExpenses(prisma, person.id, person.country, rows);
  const byCategory: Record<string, number> = {};
  for (const expense of plan.expenses) byCategory[expense.category] = (byCategory[expense.category] ?? 0) + 1;
  let diagnosis: ImportOutcome["diagnosis"] = null;
  let alertsRaised: string[] = [];
  if (imported > 0) {
    // The diagnosis announces itself (wellness.diagnosed), and prevention's consumer evaluates
    // the person again; evaluating here too means alerts follow at once, workers running or not
    // (cool-downs make the second evaluation raise nothing twice).
    const diagnosed = await diagnoseUser(prisma, person.id, now);
    if (diagnosed) diagnosis = { snapshotDate: diagnosed.snapshot.snapshotDate.toISOString().slice(0, 10), score: diagnosed.snapshot.score, band: diagnosed.snapshot.band };
    alertsRaised = (await evaluateUser(prisma, person.id, now)).raised.map((alert) => alert.type);
  }
  return {
    format: request.format,
    userId: person.id,
    rows: plan.rows,
    imported,
    alreadyImported: rows.length - imported,
    skipped: plan.skipped,
    byCategory,
    unmappedCategories: plan.unmapped,
    diagnosis,
    alertsRaised,
  };
}
