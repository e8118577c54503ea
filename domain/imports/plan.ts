// What an export file means, row by row: the expenses it holds, the rows that are not expenses
// (transfers, income, refunds: skipped and said why), and the rows that cannot be read (bad, by
// line, with the reason). Each app's layout is its published export:
//   Monefy      date,account,category,amount,currency,converted amount,currency,description
//               (dates in the phone's locale, day first; money out is negative; transfers are
//               rows whose category is `To 'Account'` / `From 'Account'`)
//   YNAB        "Account","Flag","Date","Payee","Category Group/Category","Category Group",
//               "Category","Memo","Outflow","Inflow","Cleared" (MM/DD/YYYY; amounts with the
//               budget's currency symbol; a transfer's payee is `Transfer : Account`; a split's
//               parts are rows whose memo starts `Split (1/2)`)
//   Goodbudget  Date,Envelope,Account,Name,Notes,Amount,Status,Details (MM/DD/YYYY; money out
//               is negative; a split's Details lists `Envelope|amount` parts joined by `||`)
//   Mint        "Date","Description","Original Description","Amount","Transaction Type",
//               "Category","Account Name","Labels","Notes" (M/D/YYYY; amounts positive, the
//               type says debit or credit; transfers and card payments are categories)
// Pure: rows in, a plan out; the caller parses the CSV and writes.
import { mapCategory, type ImportCategory } from "./category-map.ts";
import type { ImportFormat } from "./format.ts";
import { decimalOf, parseAmount, parseDay, type DateOrder, type ParsedAmount } from "./values.ts";

export interface SourceRow {
  /** The file line the row starts on. */
  line: number;
  cells: string[];
}

export interface PlannedExpense {
  line: number;
  /** The calendar day, `YYYY-MM-DD`. */
  day: string;
  /** Money out, positive, two decimals. */
  amount: string;
  currency: string;
  category: ImportCategory;
  mcc: string;
  merchant: string;
  /** The app's own category (envelope, category group), as written. */
  sourceCategory: string;
  /** The row's meaning in one normalized string: two rows alike are told apart by their occurrence. */
  content: string;
}

export interface RowNote {
  line: number;
  reason: string;
}

export interface ImportPlan {
  format: ImportFormat;
  rows: number;
  expenses: PlannedExpense[];
  skipped: RowNote[];
  bad: RowNote[];
  /** Source categories the map does not know (imported as `other`). */
  unmapped: string[];
}

export interface PlanOptions {
  /** The person's currency, for files that write none or only `$`. */
  defaultCurrency: string;
  /** The file's delimiter was `;`: its locale writes decimal commas. */
  decimalComma: boolean;
}

/** A row's outcome, as a format reads it. */
type RowOutcome = { expenses: Omit<PlannedExpense, "line" | "content" | "category" | "mcc">[]; categoryNames?: string[] } | { skip: string } | { bad: string };

interface Layout {
  /** Column keys and the header names each may have (case and spacing ignored). */
  columns: Record<string, readonly string[]>;
  required: readonly string[];
  read(row: Cells, options: PlanOptions): RowOutcome;
}

/** A row's cells by column key; an absent column reads as empty. */
type Cells = (key: string) => string;

const MAX_MERCHANT = 200;

const normal = (text: string) => text.trim().replace(/\s+/g, " ");

function currencyOf(amount: ParsedAmount, written: string, options: PlanOptions): string | { bad: string } {
  const code = written.trim().toUpperCase();
  if (code !== "") return /^[A-Z]{3}$/.test(code) ? code : { bad: `currency "${written.trim()}" is not an ISO 4217 code` };
  return amount.currency ?? options.defaultCurrency;
}

function expenseOf(day: string, cents: bigint, currency: string, merchant: string, sourceCategory: string) {
  return { day, amount: decimalOf(cents), currency, merchant: normal(merchant).slice(0, MAX_MERCHANT) || normal(sourceCategory) || "(no description)", sourceCategory: normal(sourceCategory) };
}

function dayOrBad(cell: string, order: DateOrder, expected: string): string | { bad: string } {
  return parseDay(cell, order) ?? { bad: cell.trim() === "" ? "the date is empty" : `date "${cell.trim()}" is not a date (${expected})` };
}

function amountOrBad(cell: string, options: PlanOptions, column = "amount"): ParsedAmount | { bad: string } {
  return parseAmount(cell, options.decimalComma) ?? { bad: cell.trim() === "" ? `the ${column} is empty` : `${column} "${cell.trim()}" is not an amount` };
}

const isBad = (value: unknown): value is { bad: string } => typeof value === "object" && value !== null && "bad" in value;

const LAYOUTS: Record<ImportFormat, Layout> = {
  monefy: {
    columns: { date: ["date", "fecha"], account: ["account", "cuenta"], category: ["category", "categoría", "categoria"], amount: ["amount", "importe", "monto"], currency: ["currency", "moneda", "divisa"], description: ["description", "descripción", "descripcion", "nota"] },
    required: ["date", "category", "amount"],
    read(row, options) {
      const category = normal(row("category"));
      // Monefy writes a transfer as two rows, one per account: `To 'Card'` and `From 'Cash'`.
      if (/^(to|from|a|de)\s+['"‘’«].*['"‘’»]$/i.test(category)) return { skip: `a transfer between accounts (${category})` };
      const day = dayOrBad(row("date"), "dmy", "dd/MM/yyyy as Monefy writes it, or yyyy-MM-dd");
      if (isBad(day)) return day;
      const amount = amountOrBad(row("amount"), options);
      if (isBad(amount)) return amount;
      if (amount.cents === 0n) return { skip: "a zero amount" };
      if (amount.cents > 0n) return { skip: `income, not an expense (${category || "no category"})` };
      const currency = currencyOf(amount, row("currency"), options);
      if (isBad(currency)) return currency;
      return { expenses: [expenseOf(day, -amount.cents, currency, row("description"), category)], categoryNames: [category] };
    },
  },
  ynab: {
    columns: {
      date: ["date"],
      payee: ["payee"],
      groupAndCategory: ["category group/category", "category"],
      group: ["category group", "master category"],
      category: ["category", "sub category"],
      memo: ["memo"],
      outflow: ["outflow"],
      inflow: ["inflow"],
      account: ["account"],
    },
    required: ["date", "payee", "outflow", "inflow"],
    read(row, options) {
      const payee = normal(row("payee"));
      if (/^transfer\s*:/i.test(payee)) return { skip: `a transfer between accounts (${payee})` };
      const day = dayOrBad(row("date"), "mdy", "MM/DD/YYYY as YNAB writes it, or YYYY-MM-DD");
      if (isBad(day)) return day;
      const outflow = row("outflow").trim() === "" ? { cents: 0n } : amountOrBad(row("outflow"), options, "outflow");
      if (isBad(outflow)) return outflow;
      const inflow = row("inflow").trim() === "" ? { cents: 0n } : amountOrBad(row("inflow"), options, "inflow");
      if (isBad(inflow)) return inflow;
      if (outflow.cents < 0n || inflow.cents < 0n) return { bad: "outflow and inflow are written positive" };
      const net = outflow.cents - inflow.cents;
      if (net === 0n) return { skip: "a zero amount" };
      if (net < 0n) return { skip: `an inflow (income or a refund), not an expense` };
      const currency = outflow.currency ?? options.defaultCurrency;
      // A split's parts are rows of their own; the memo says which part it is.
      const memo = normal(row("memo")).replace(/^split \(\d+\/\d+\)\s*/i, "");
      const category = normal(row("category")) || normal(row("groupAndCategory").split(":").slice(1).join(":"));
      const group = normal(row("group")) || normal(row("groupAndCategory").split(":")[0] ?? "");
      const sourceCategory = [group, category].filter(Boolean).join(": ");
      return { expenses: [expenseOf(day, net, currency, payee || memo, sourceCategory)], categoryNames: [category, group] };
    },
  },
  goodbudget: {
    columns: { date: ["date"], envelope: ["envelope"], account: ["account"], name: ["name", "payee"], notes: ["notes"], amount: ["amount"], status: ["status"], details: ["details"] },
    required: ["date", "envelope", "name", "amount"],
    read(row, options) {
      const envelope = normal(row("envelope"));
      const name = normal(row("name"));
      if (/^\[?(account )?transfer\]?$/i.test(envelope) || /^(account )?transfer\b/i.test(name)) return { skip: `a transfer between accounts (${name || envelope})` };
      if (/^\[?fill\]?$/i.test(envelope) || /^envelope (fill|transfer)\b/i.test(name)) return { skip: "an envelope fill or transfer: no money left the accounts" };
      const day = dayOrBad(row("date"), "mdy", "MM/DD/YYYY as Goodbudget writes it, or YYYY-MM-DD");
      if (isBad(day)) return day;
      const amount = amountOrBad(row("amount"), options);
      if (isBad(amount)) return amount;
      if (amount.cents === 0n) return { skip: "a zero amount" };
      if (amount.cents > 0n) return { skip: `income or a refund, not an expense (${envelope || "no envelope"})` };
      const currency = amount.currency ?? options.defaultCurrency;
      const details = row("details").trim();
      if (details === "") return { expenses: [expenseOf(day, -amount.cents, currency, name, envelope)], categoryNames: [envelope] };
      // A split: each part is an envelope and its share; the shares make up the amount.
      const parts: { envelope: string; cents: bigint }[] = [];
      for (const part of details.split("||")) {
        const [partEnvelope = "", partAmount = "", ...rest] = part.split("|");
        const share = parseAmount(partAmount, options.decimalComma);
        if (rest.length > 0 || normal(partEnvelope) === "" || !share) return { bad: `split detail "${part}" is not Envelope|amount` };
        parts.push({ envelope: normal(partEnvelope), cents: share.cents });
      }
      const total = parts.reduce((sum, part) => sum + part.cents, 0n);
      if (total !== amount.cents) return { bad: `the split's parts add up to ${decimalOf(total)}, not the amount ${decimalOf(amount.cents)}` };
      if (parts.some((part) => part.cents >= 0n)) return { bad: "a split part of an expense is not money out" };
      return { expenses: parts.map((part) => expenseOf(day, -part.cents, currency, name, part.envelope)) };
    },
  },
  mint: {
    columns: { date: ["date"], description: ["description"], original: ["original description"], amount: ["amount"], type: ["transaction type"], category: ["category"], account: ["account name"], labels: ["labels"], notes: ["notes"] },
    required: ["date", "description", "amount", "type", "category"],
    read(row, options) {
      const category = normal(row("category"));
      if (/^(transfer|credit card payment|transfer for cash spending)$/i.test(category)) return { skip: `a transfer between accounts (${category})` };
      const type = normal(row("type")).toLowerCase();
      if (type !== "debit" && type !== "credit") return { bad: `transaction type "${row("type").trim()}" is neither debit nor credit` };
      const day = dayOrBad(row("date"), "mdy", "M/D/YYYY as Mint writes it, or YYYY-MM-DD");
      if (isBad(day)) return day;
      const amount = amountOrBad(row("amount"), options);
      if (isBad(amount)) return amount;
      if (amount.cents < 0n) return { bad: "Mint writes amounts positive; the type says which way the money went" };
      if (amount.cents === 0n) return { skip: "a zero amount" };
      if (type === "credit") return { skip: `a credit (income or a refund), not an expense (${category || "no category"})` };
      const currency = amount.currency ?? options.defaultCurrency;
      return { expenses: [expenseOf(day, amount.cents, currency, row("description") || row("original"), category)], categoryNames: [category] };
    },
  },
};

const headerKey = (name: string) => normal(name).toLowerCase();

/** Column indexes by key, from the header; the first column of a name wins (Monefy writes `currency` twice). */
function columnIndexes(layout: Layout, header: readonly string[]): Record<string, number> {
  const names = header.map(headerKey);
  const indexes: Record<string, number> = {};
  const taken = new Set<number>();
  for (const [key, aliases] of Object.entries(layout.columns)) {
    for (const alias of aliases) {
      const index = names.findIndex((name, at) => name === alias && !taken.has(at));
      if (index !== -1) {
        indexes[key] = index;
        taken.add(index);
        break;
      }
    }
  }
  return indexes;
}

/** The plan for one file's rows: every row either planned, skipped or bad. */
export function planImport(format: ImportFormat, header: SourceRow, rows: readonly SourceRow[], options: PlanOptions): ImportPlan {
  const layout = LAYOUTS[format];
  const plan: ImportPlan = { format, rows: rows.length, expenses: [], skipped: [], bad: [], unmapped: [] };
  const indexes = columnIndexes(layout, header.cells);
  const missing = layout.required.filter((key) => indexes[key] === undefined);
  if (missing.length > 0) {
    const names = missing.map((key) => `"${layout.columns[key]![0]}"`).join(", ");
    plan.bad.push({ line: header.line, reason: `the header lacks ${names}: is this a ${format} export?` });
    return plan;
  }
  const unmapped = new Set<string>();
  for (const row of rows) {
    const lastRequired = Math.max(...layout.required.map((key) => indexes[key]!));
    if (row.cells.length <= lastRequired) {
      plan.bad.push({ line: row.line, reason: `${row.cells.length} cells, the header has ${header.cells.length}` });
      continue;
    }
    const cells: Cells = (key) => (indexes[key] === undefined ? "" : (row.cells[indexes[key]!] ?? ""));
    const outcome = layout.read(cells, options);
    if ("bad" in outcome) plan.bad.push({ line: row.line, reason: outcome.bad });
    else if ("skip" in outcome) plan.skipped.push({ line: row.line, reason: outcome.skip });
    else {
      for (const expense of outcome.expenses) {
        const mapped = mapCategory(format, ...(outcome.categoryNames ?? [expense.sourceCategory]));
        if (!mapped.known && expense.sourceCategory !== "") unmapped.add(expense.sourceCategory);
        const content = [expense.day, expense.amount, expense.currency, expense.sourceCategory, expense.merchant].map((part) => part.toLowerCase()).join("\u001f");
        plan.expenses.push({ ...expense, line: row.line, category: mapped.category, mcc: mapped.mcc, content });
      }
    }
  }
  plan.unmapped = [...unmapped].sort();
  return plan;
}
