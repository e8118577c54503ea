// A reporting period as a partner writes it (`2026Q1`, `2026-03`, `2026`) and the UTC calendar
// range it stands for. Pure: the caller turns a refusal into its own error.

export interface ReportPeriod {
  /** As given: `2026Q1`, `2026-03` or `2026`. */
  label: string;
  kind: "quarter" | "month" | "year";
  /** First instant of the period (UTC midnight of its first day), inclusive. */
  start: Date;
  /** First instant after the period, exclusive. */
  end: Date;
  /** First and last UTC calendar day of the period, both inclusive: `2026-01-01`, `2026-03-31`. */
  firstDay: string;
  lastDay: string;
}

export const ACCEPTED_PERIODS = "a quarter (2026Q1 to 2026Q4), a month (2026-03) or a year (2026), as UTC calendar ranges";

/** Years a period may name: four digits, and none before the data could exist. */
const FIRST_YEAR = 2000;

const QUARTER = /^(\d{4})Q([1-4])$/;
const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;
const YEAR = /^(\d{4})$/;

export class PeriodError extends Error {}

/** The period `text` names; a PeriodError, whose message names the accepted forms, for anything else. */
export function parsePeriod(text: string | null | undefined): ReportPeriod {
  const given = text ?? "";
  if (given === "") throw new PeriodError(`\`period\` is required: ${ACCEPTED_PERIODS}`);
  let match: RegExpExecArray | null;
  let period: ReportPeriod | undefined;
  if ((match = QUARTER.exec(given))) {
    const year = Number(match[1]);
    const firstMonth = (Number(match[2]) - 1) * 3;
    period = range(given, "quarter", year, firstMonth, year, firstMonth + 3);
  } else if ((match = MONTH.exec(given))) {
    const year = Number(match[1]);
    const month = Number(match[2]) - 1;
    period = range(given, "month", year, month, year, month + 1);
  } else if ((match = YEAR.exec(given))) {
    const year = Number(match[1]);
    period = range(given, "year", year, 0, year + 1, 0);
  }
  if (!period || period.start.getUTCFullYear() < FIRST_YEAR) {
    throw new PeriodError(`\`period\` must be ${ACCEPTED_PERIODS}, from ${FIRST_YEAR} on; got ${JSON.stringify(given.slice(0, 40))}`);
  }
  return period;
}

function range(label: string, kind: ReportPeriod["kind"], year: number, month: number, endYear: number, endMonth: number): ReportPeriod {
  const start = new Date(Date.UTC(year, month, 1));
  const end = new Date(Date.UTC(endYear, endMonth, 1));
  return { label, kind, start, end, firstDay: dayOf(start), lastDay: dayOf(new Date(end.getTime() - 86_400_000)) };
}

function dayOf(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}
