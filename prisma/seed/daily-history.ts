// A year of daily wellness scores per person, drawn between the person's diagnosed snapshots:
// each snapshot's score is kept on its own day, the days between follow the straight line
// from one to the next plus a small mean-reverting wobble, as a daily score moves with the
// spending and payments of each day. Stored compactly, one row per person and calendar year
// (wellness_daily), so 365 points cost two rows rather than 365.
import { type Day, firstOfMonth, parts } from "./calendar.ts";
import type { Rng } from "./prng.ts";
import type { DailyScoresRow, SnapshotRow } from "./rows.ts";

/** Days of history: today and the 364 before it. */
export const DAILY_HISTORY_DAYS = 365;

/** How much of yesterday's wobble carries into today, and how large a day's new wobble is. */
const WOBBLE_CARRY = 0.8;
const WOBBLE_SD = 0.9;

const clampScore = (score: number): number => (score < 0 ? 0 : score > 100 ? 100 : score);

/** Day-of-year numbering (1 = 1 January) of `day`. */
function dayOfYear(day: Day, year: number): number {
  return day - Math.floor(Date.UTC(year, 0, 1) / 86_400_000) + 1;
}

/**
 * The daily rows of one person. `snapshots` are the stored diagnoses, oldest first; the oldest's
 * 30-day trend gives the score a month before it, which anchors the days further back.
 */
export function dailyScores(snapshots: readonly SnapshotRow[], today: Day, rng: Rng): DailyScoresRow[] {
  const oldest = snapshots[0];
  const newest = snapshots[snapshots.length - 1];
  if (!oldest || !newest) return [];
  const anchors: { day: Day; score: number }[] = [
    { day: firstOfMonth(oldest.snapshotDate, -1), score: clampScore(oldest.score - oldest.trend30d) },
    ...snapshots.map((snapshot) => ({ day: snapshot.snapshotDate, score: snapshot.score })),
  ];
  const first = today - DAILY_HISTORY_DAYS + 1;
  const rows = new Map<number, DailyScoresRow>();
  let next = 1;
  let wobble = 0;
  for (let day = first; day <= today; day++) {
    while (next < anchors.length - 1 && (anchors[next] as { day: Day }).day < day) next++;
    const to = anchors[next] as { day: Day; score: number };
    const from = anchors[next - 1] as { day: Day; score: number };
    wobble = WOBBLE_CARRY * wobble + rng.normal(0, WOBBLE_SD);
    let score: number;
    if (day === to.day || day >= newest.snapshotDate) score = to.score;
    else if (day <= from.day) score = Math.round(clampScore(from.score + wobble));
    else score = Math.round(clampScore(from.score + ((to.score - from.score) * (day - from.day)) / (to.day - from.day) + wobble));
    const { year } = parts(day);
    let row = rows.get(year);
    if (!row) {
      row = { userId: newest.userId, country: newest.country, year, scores: [] };
      rows.set(year, row);
    }
    row.scores[dayOfYear(day, year) - 1] = score;
  }
  return [...rows.values()];
}
