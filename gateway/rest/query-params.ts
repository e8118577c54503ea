import type { IncomingMessage } from "node:http";
import { RestError } from "./envelope.ts";

// Query parameters of the REST routes, checked before any operation runs, so a bad one is a 400
// naming the parameter the caller sent (not the GraphQL argument it becomes).

const DAY_MS = 24 * 60 * 60 * 1000;

/** The request's query string; a parameter given twice is an input error, not a silent pick. */
export function queryParams(request: IncomingMessage): QueryParams {
  return new QueryParams(new URL(request.url ?? "/", "http://localhost").searchParams);
}

export class QueryParams {
  constructor(private readonly params: URLSearchParams) {}

  get(name: string): string | undefined {
    const values = this.params.getAll(name);
    if (values.length > 1) throw badInput(`\`${name}\` is given ${values.length} times; give it once`);
    return values[0];
  }

  /** A real calendar date written YYYY-MM-DD, as the brief writes dates. */
  date(name: string): string | undefined {
    const value = this.get(name);
    if (value === undefined) return undefined;
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    const time = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : Number.NaN;
    if (!match || new Date(time).toISOString().slice(0, 10) !== value) throw badInput(`\`${name}\` must be a calendar date written YYYY-MM-DD, such as 2026-05-08`);
    return value;
  }

  /**
   * Inclusive `from` and `to` dates: `from` not after `to` and, with `maxDays`, at most that many
   * days from first to last. `required`: both must be given.
   */
  dateRange(options: { required: boolean; maxDays?: number }): { from?: string; to?: string } {
    const from = this.date("from");
    const to = this.date("to");
    if (options.required && (from === undefined || to === undefined)) throw badInput("`from` and `to` are both required, as dates written YYYY-MM-DD");
    if (from !== undefined && to !== undefined) {
      if (from > to) throw badInput(`\`from\` (${from}) must not be after \`to\` (${to})`);
      const days = (Date.parse(to) - Date.parse(from)) / DAY_MS + 1;
      if (options.maxDays !== undefined && days > options.maxDays) {
        throw badInput(`\`from\` to \`to\` spans ${days} days; at most ${options.maxDays} may be asked at once (read a longer period in several calls)`);
      }
    }
    return { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
  }

  /** A page size from 1 to `max`. */
  limit(max: number): number | undefined {
    const value = this.get("limit");
    if (value === undefined) return undefined;
    const limit = /^\d{1,6}$/.test(value) ? Number(value) : Number.NaN;
    if (!(limit >= 1 && limit <= max)) throw badInput(`\`limit\` must be an integer from 1 to ${max}`);
    return limit;
  }

  /** One of `values`, written in lower case as the brief writes enums. */
  oneOf<const Value extends string>(name: string, values: readonly Value[]): Value | undefined {
    const value = this.get(name);
    if (value === undefined) return undefined;
    if (!(values as readonly string[]).includes(value)) throw badInput(`\`${name}\` must be one of ${values.join(", ")}`);
    return value as Value;
  }

  /** A text matching `pattern`, described by `rule` in the error. */
  matching(name: string, pattern: RegExp, rule: string): string | undefined {
    const value = this.get(name);
    if (value !== undefined && !pattern.test(value)) throw badInput(`\`${name}\` must be ${rule}`);
    return value;
  }
}

/** The day after a YYYY-MM-DD date, as the start of that day in UTC: the exclusive end of an inclusive date range. */
export function startOfDayAfter(date: string): string {
  return new Date(Date.parse(date) + DAY_MS).toISOString();
}

function badInput(message: string): RestError {
  return new RestError("BAD_USER_INPUT", message);
}
