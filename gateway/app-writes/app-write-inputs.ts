// What the Kamina app may write, checked field by field before anything is read: money as
// decimal strings (or numbers) with at most two decimals and a ceiling, ISO currencies the
// person's tenant uses, calendar dates in a sane range, our categories and MCCs, short texts
// without control characters. A create takes every required field; an update any of them.
import { z } from "zod";
import { DebtStatus, DebtType, GoalStatus, IncomeKind, PaymentStatus } from "../../generated/prisma/enums.ts";
import { GOAL_KINDS } from "../../domain/prevention/aggregates.ts";
import { IMPORT_CATEGORIES } from "../../domain/imports/category-map.ts";

/** The largest amount the columns hold (Decimal(14, 2)) is far above any household's; this is the ceiling we accept. */
const MAX_AMOUNT = 999_999_999.99;
const EARLIEST_DAY = "2000-01-01";
/** Days after today a date that has happened may still carry (time zones, a clock ahead). */
const FUTURE_SLACK_DAYS = 1;

const today = () => new Date().toISOString().slice(0, 10);
const daysFromToday = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

function money(what: string, options: { positive: boolean }) {
  return z
    .union([z.string(), z.number()], { error: `${what} must be a decimal string such as "12.50"` })
    .transform((value, context) => {
      const text = typeof value === "number" ? String(value) : value.trim();
      if (!/^\d{1,9}(\.\d{1,2})?$/.test(text)) {
        context.addIssue({ code: "custom", message: `${what} must be a non-negative decimal with at most 2 decimals and at most ${MAX_AMOUNT}, got ${JSON.stringify(value).slice(0, 40)}` });
        return z.NEVER;
      }
      if (options.positive && Number(text) <= 0) {
        context.addIssue({ code: "custom", message: `${what} must be more than 0` });
        return z.NEVER;
      }
      return Number(text).toFixed(2);
    })
    .describe(`${what}: a decimal string (or number) with at most 2 decimals, 0 to ${MAX_AMOUNT}${options.positive ? ", more than 0" : ""}`);
}

const currency = z
  .string({ error: "must be a string" })
  .regex(/^[A-Z]{3}$/, "must be an ISO 4217 code in capitals, such as USD")
  .describe("ISO 4217: the person's own country's currency or USD (checked against the person)");

/** A past calendar day: on or after 2000-01-01 and not after tomorrow. */
const pastDay = (what: string) =>
  z.iso
    .date({ error: `${what} must be a date, YYYY-MM-DD` })
    .refine((day) => day >= EARLIEST_DAY && day <= daysFromToday(FUTURE_SLACK_DAYS), `${what} must be between ${EARLIEST_DAY} and today`)
    .describe(`${what}, YYYY-MM-DD, not in the future`);

/** Any calendar day from 2000 to 50 years ahead (due dates, target dates). */
const day = (what: string) =>
  z.iso
    .date({ error: `${what} must be a date, YYYY-MM-DD` })
    .refine((value) => value >= EARLIEST_DAY && value <= daysFromToday(50 * 366), `${what} must be between ${EARLIEST_DAY} and 50 years from now`)
    .describe(`${what}, YYYY-MM-DD`);

const text = (what: string, max: number) =>
  z
    .string({ error: `${what} must be a string` })
    .trim()
    .min(1, `${what} must not be empty`)
    .max(max, `${what} is longer than ${max} characters`)
    .refine((value) => !/[\u0000-\u001f\u007f]/.test(value), `${what} must not hold control characters`);

const occurredAt = z.iso
  .datetime({ offset: true, error: "occurred_at must be an ISO 8601 instant with its offset, such as 2026-05-08T14:00:00-05:00" })
  .refine((value) => {
    const instant = Date.parse(value);
    return instant >= Date.parse(`${EARLIEST_DAY}T00:00:00Z`) && instant <= Date.now() + FUTURE_SLACK_DAYS * 86_400_000;
  }, `occurred_at must be between ${EARLIEST_DAY} and now`)
  .describe("When the purchase happened, ISO 8601 with offset");

export const expenseInput = z.strictObject({
  amount: money("amount", { positive: true }),
  currency,
  mcc: z.string({ error: "mcc must be a string" }).regex(/^\d{4}$/, "mcc must be a 4-digit merchant category code").describe("ISO 18245 merchant category code"),
  category: z.enum(IMPORT_CATEGORIES, { error: `category must be one of ${IMPORT_CATEGORIES.join(", ")}` }),
  merchant: text("merchant", 120),
  occurred_at: occurredAt,
});

const debtFields = {
  issuer: text("issuer", 120),
  type: z.enum(DebtType, { error: `type must be one of ${Object.values(DebtType).join(", ")}` }),
  principal: money("principal", { positive: true }),
  balance: money("balance", { positive: false }),
  credit_limit: money("credit_limit", { positive: true }).nullable(),
  minimum_payment: money("minimum_payment", { positive: false }),
  currency,
  apr: z.number({ error: "apr must be a number (a fraction: 0.42 is 42 %)" }).min(0, "apr must not be negative").max(20, "apr is a fraction (0.42 is 42 %); at most 20").describe("Annual percentage rate as a fraction"),
  due_date: day("due_date"),
  status: z.enum(DebtStatus, { error: `status must be one of ${Object.values(DebtStatus).join(", ")}` }),
  opened_at: pastDay("opened_at"),
};
export const debtInput = z.strictObject({ ...debtFields, credit_limit: debtFields.credit_limit.optional(), status: debtFields.status.default("CURRENT") });

export const paymentInput = z.strictObject({
  due_date: day("due_date"),
  amount_due: money("amount_due", { positive: false }),
  amount_paid: money("amount_paid", { positive: false }),
  paid_at: pastDay("paid_at").nullable().optional(),
  status: z.enum(PaymentStatus, { error: `status must be one of ${Object.values(PaymentStatus).join(", ")}` }),
});

export const incomeInput = z.strictObject({
  source: text("source", 120),
  kind: z.enum(IncomeKind, { error: `kind must be one of ${Object.values(IncomeKind).join(", ")}` }),
  monthly_amount: money("monthly_amount", { positive: true }),
  currency,
  started_at: pastDay("started_at"),
  ended_at: day("ended_at").nullable().optional(),
});

export const goalInput = z.strictObject({
  kind: z.enum(GOAL_KINDS, { error: `kind must be one of ${GOAL_KINDS.join(", ")}` }),
  name: text("name", 120),
  target_amount: money("target_amount", { positive: true }),
  current_amount: money("current_amount", { positive: false }).default("0.00"),
  currency,
  target_date: day("target_date").nullable().optional(),
  status: z.enum(GoalStatus, { error: `status must be one of ${Object.values(GoalStatus).join(", ")}` }).default("ACTIVE"),
});

/** An update: any of the create's fields, at least one, none unknown. Defaults do not apply. */
function updateOf<Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  const partial = Object.fromEntries(Object.entries(shape).map(([key, schema]) => [key, unwrapDefault(schema as z.ZodType).optional()]));
  return z.strictObject(partial as { [K in keyof Shape]: z.ZodOptional<z.ZodType<z.output<Shape[K]>, z.input<Shape[K]>>> }).refine((value) => Object.keys(value).length > 0, "the body must change at least one field");
}

function unwrapDefault(schema: z.ZodType): z.ZodType {
  return schema instanceof z.ZodDefault ? (schema.unwrap() as z.ZodType) : schema;
}

export const expenseUpdate = updateOf(expenseInput.shape);
export const debtUpdate = updateOf({ ...debtFields });
export const paymentUpdate = updateOf(paymentInput.shape);
export const incomeUpdate = updateOf(incomeInput.shape);
export const goalUpdate = updateOf(goalInput.shape);

export type ExpenseInput = z.output<typeof expenseInput>;
export type DebtInput = z.output<typeof debtInput>;
export type PaymentInput = z.output<typeof paymentInput>;
export type IncomeInput = z.output<typeof incomeInput>;
export type GoalInput = z.output<typeof goalInput>;

/** Ids in paths: a person's, a text record id, a numeric one (expenses, payments). */
export const RECORD_ID = /^[\w-]{1,64}$/;
export const NUMERIC_ID = /^[1-9]\d{0,17}$/;

export { today };
