// Thins a daily score series for charts that want fewer points: one per ISO week (starting on
// Monday) or calendar month, each the rounded mean of the days in it, dated its first day.
import { bandOf, type Band } from "../../domain/diagnosis/model.ts";

export type HistoryInterval = "DAY" | "WEEK" | "MONTH";

export interface HistoryPoint {
  date: Date;
  score: number;
  band: Band;
  /** Daily scores this point stands for. */
  days: number;
}

const DAY_MS = 86_400_000;

function periodStart(date: Date, interval: HistoryInterval): number {
  if (interval === "MONTH") return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  const day = Math.floor(date.getTime() / DAY_MS);
  if (interval === "DAY") return day * DAY_MS;
  const sinceMonday = (date.getUTCDay() + 6) % 7;
  return (day - sinceMonday) * DAY_MS;
}

/** `daily` is one person's points, oldest first. */
export function historyAt(daily: readonly { date: Date; score: number }[], interval: HistoryInterval): HistoryPoint[] {
  if (interval === "DAY") return daily.map(({ date, score }) => ({ date, score, band: bandOf(score), days: 1 }));
  const periods: { start: number; total: number; days: number }[] = [];
  for (const { date, score } of daily) {
    const start = periodStart(date, interval);
    const last = periods[periods.length - 1];
    if (last && last.start === start) {
      last.total += score;
      last.days += 1;
    } else {
      periods.push({ start, total: score, days: 1 });
    }
  }
  return periods.map(({ start, total, days }) => {
    const score = Math.round(total / days);
    return { date: new Date(start), score, band: bandOf(score), days };
  });
}
