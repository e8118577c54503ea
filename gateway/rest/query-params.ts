import type { IncomingMessage } from "node:http";
import { z } from "zod";
import { RestError } from "./envelope.ts";

// Query parameters of the REST routes, parsed with the route's own zod schema (the one the
// OpenAPI document shows), so a bad one is a 400 naming the parameter the caller sent.

const DAY_MS = 24 * 60 * 60 * 1000;

/** What a query parameter must be, in words, for its error: "`limit` must be <rule>". */
const rules = z.registry<{ rule: string }>();

/** A query parameter's schema with the words its error uses. Register the final schema (after optional/describe). */
export function param<Schema extends z.ZodType>(schema: Schema, rule: string): Schema {
  rules.add(schema, { rule });
  return schema;
}

/** A YYYY-MM-DD parameter that names a real calendar day. */
export const calendarDate = (description: string) => param(z.iso.date().describe(description), "a calendar date written YYYY-MM-DD, such as 2026-05-08");

/** A page size from 1 to `max`. */
export const pageLimit = (max: number, description: string) =>
  param(z.coerce.number().int().min(1).max(max).optional().describe(description), `an integer from 1 to ${max}`);

/**
 * The request's query string parsed with `schema`; the first problem is a BAD_USER_INPUT naming the
 * parameter. A parameter given twice is an input error, not a silent pick.
 */
export function parseQuery<Schema extends z.ZodObject>(schema: Schema, request: IncomingMessage): z.infer<Schema> {
  const raw: Record<string, string | string[]> = {};
  for (const [name, value] of new URL(request.url ?? "/", "http://localhost").searchParams) {
    const previous = raw[name];
    raw[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  for (const [name, value] of Object.entries(raw)) {
    if (Array.isArray(value) && name in schema.shape) throw badInput(`\`${name}\` is given ${value.length} times; give it once`);
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const name = String(issue.path[0] ?? "");
  // Checks across parameters (a range) word their own message.
  if (issue.code === "custom") throw badInput(issue.message);
  const rule = ruleOf(schema.shape[name] as z.ZodType | undefined);
  if (raw[name] === undefined) throw badInput(rule ? `\`${name}\` is required, as ${rule}` : `\`${name}\` is required`);
  throw badInput(rule ? `\`${name}\` must be ${rule}` : `\`${name}\` ${issue.message}`);
}

/** The rule registered on a parameter's schema or on the schema it wraps (`.optional()`, `.default()`). */
function ruleOf(schema: z.ZodType | undefined): string | undefined {
  for (let current = schema; current; current = (current._zod.def as { innerType?: z.ZodType }).innerType) {
    const found = rules.get(current);
    if (found) return found.rule;
  }
  return undefined;
}

/**
 * Inclusive `from` and `to` dates: `from` not after `to` and, with `maxDays`, at most that many
 * days from first to last. A refinement for the route's query schema.
 */
export function dateRange(maxDays?: number) {
  return (query: { from?: string | undefined; to?: string | undefined }, context: z.RefinementCtx) => {
    const { from, to } = query;
    if (from === undefined || to === undefined) return;
    if (from > to) context.addIssue({ code: "custom", message: `\`from\` (${from}) must not be after \`to\` (${to})`, path: ["from"] });
    const days = (Date.parse(to) - Date.parse(from)) / DAY_MS + 1;
    if (maxDays !== undefined && days > maxDays) {
      context.addIssue({ code: "custom", message: `\`from\` to \`to\` spans ${days} days; at most ${maxDays} may be asked at once (read a longer period in several calls)`, path: ["to"] });
    }
  };
}

/** The day after a YYYY-MM-DD date, as the start of that day in UTC: the exclusive end of an inclusive date range. */
export function startOfDayAfter(date: string): string {
  return new Date(Date.parse(date) + DAY_MS).toISOString();
}

function badInput(message: string): RestError {
  return new RestError("BAD_USER_INPUT", message);
}
