// Whole-day UTC arithmetic. The generator works in day numbers (days since 1970-01-01 UTC)
// so that every date depends only on the `now` it is given, never on the machine's clock
// or time zone.

export const DAY_MS = 86_400_000;

/** A calendar day as days since the Unix epoch (UTC). */
export type Day = number;

export function dayOf(date: Date): Day {
  return Math.floor(date.getTime() / DAY_MS);
}

export function dayStartMs(day: Day): number {
  return day * DAY_MS;
}

const isoCache = new Map<Day, string>();

/** `YYYY-MM-DD` of a day; cached because the same few hundred days recur millions of times. */
export function isoDay(day: Day): string {
  let text = isoCache.get(day);
  if (text === undefined) {
    text = new Date(day * DAY_MS).toISOString().slice(0, 10);
    isoCache.set(day, text);
  }
  return text;
}

const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, "0"));

/** `YYYY-MM-DDTHH:MM:SS[.mmm]Z`; formatted by hand because Date#toISOString was a hot spot. */
export function isoTimestamp(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  let rest = ms - day * DAY_MS;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  const fraction = millis === 0 ? "" : `.${String(millis).padStart(3, "0")}`;
  return `${isoDay(day)}T${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}${fraction}Z`;
}

export interface YearMonthDay {
  year: number;
  /** 0-11 */
  month: number;
  /** 1-31 */
  day: number;
}

const partsCache = new Map<Day, YearMonthDay>();

/** Year, month and day of month; cached like `isoDay` (a few thousand distinct days recur). */
export function parts(day: Day): YearMonthDay {
  let result = partsCache.get(day);
  if (result === undefined) {
    const date = new Date(day * DAY_MS);
    result = Object.freeze({ year: date.getUTCFullYear(), month: date.getUTCMonth(), day: date.getUTCDate() });
    partsCache.set(day, result);
  }
  return result;
}

export function dayFromParts(year: number, month: number, dayOfMonth: number): Day {
  return Math.floor(Date.UTC(year, month, dayOfMonth) / DAY_MS);
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** `month` is 0-11; other values roll over into neighbouring years. */
export function daysInMonth(year: number, month: number): number {
  const y = year + Math.floor(month / 12);
  const m = ((month % 12) + 12) % 12;
  if (m === 1 && ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0)) return 29;
  return MONTH_DAYS[m] as number;
}

/** The first day of the month `offset` months from the month containing `day`. */
export function firstOfMonth(day: Day, offset = 0): Day {
  const { year, month } = parts(day);
  return dayFromParts(year, month + offset, 1);
}

/** Same day of month, `months` later, clamped to the month's last day (Jan 31 + 1 = Feb 28). */
export function addMonths(day: Day, months: number): Day {
  const { year, month, day: dom } = parts(day);
  const target = new Date(Date.UTC(year, month + months, 1));
  const last = daysInMonth(target.getUTCFullYear(), target.getUTCMonth());
  return dayFromParts(target.getUTCFullYear(), target.getUTCMonth(), Math.min(dom, last));
}

/** Day of month `dayOfMonth` (clamped) in the month `offset` months from `day`'s month. */
export function dayInMonth(day: Day, offset: number, dayOfMonth: number): Day {
  const first = firstOfMonth(day, offset);
  const { year, month } = parts(first);
  return first + Math.min(dayOfMonth, daysInMonth(year, month)) - 1;
}

/** 0 = Sunday ... 6 = Saturday. */
export function weekday(day: Day): number {
  return (day + 4) % 7; // 1970-01-01 was a Thursday.
}
