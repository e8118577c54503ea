// Small-cell suppression for aggregate reports, so that no one can be singled out of a figure.
// A figure stands on people, not rows: twelve alerts of one person are still one person. Pure.

/** What a figure is computed over: how many alerts, and how many distinct people they belong to. */
export interface Tally {
  alerts: number;
  people: number;
}

/** A count as reported: the figures, or null for both when `suppressed`. */
export interface ShownTally {
  alerts: number | null;
  people: number | null;
  suppressed: boolean;
}

/** A single value (a count or a median) as reported: null and `suppressed` when withheld. */
export interface ShownValue {
  value: number | null;
  suppressed: boolean;
}

/** Primary rule: a figure over at least one and fewer than `minCell` people is withheld. Zero is shown: it is no one. */
export function isSmall(people: number, minCell: number): boolean {
  return people > 0 && people < minCell;
}

export function showTally(tally: Tally, minCell: number): ShownTally {
  return isSmall(tally.people, minCell) ? withheld() : { alerts: tally.alerts, people: tally.people, suppressed: false };
}

/**
 * The cells of one breakdown (alerts by type, by severity, ...), which partition `total`. Each
 * cell follows the primary rule; then, when some cell is withheld and the total is shown, the
 * shown cell with the fewest alerts is withheld too (complementary suppression). Otherwise the
 * total minus the shown cells would give the withheld cells' sum, which could stand on fewer
 * than `minCell` people; with a shown cell among them it stands on at least `minCell`.
 */
export function showBreakdown<Cell extends Tally>(cells: readonly Cell[], total: Tally, minCell: number): (Omit<Cell, keyof Tally> & ShownTally)[] {
  const hidden = cells.map((cell) => isSmall(cell.people, minCell));
  if (hidden.some(Boolean) && !isSmall(total.people, minCell)) {
    let smallest = -1;
    cells.forEach((cell, index) => {
      if (hidden[index] || cell.alerts === 0) return;
      const current = cells[smallest];
      if (!current || cell.alerts < current.alerts || (cell.alerts === current.alerts && cell.people < current.people)) smallest = index;
    });
    if (smallest >= 0) hidden[smallest] = true;
  }
  return cells.map((cell, index) => {
    const { alerts, people, ...rest } = cell;
    return { ...rest, ...(hidden[index] ? withheld() : { alerts, people, suppressed: false }) };
  });
}

/**
 * A part of the alerts (those acknowledged, those resolved): withheld when the part, or the rest
 * of the alerts (which the total minus the part would tell), stands on fewer than `minCell` people.
 */
export function showPart(part: Tally, rest: Tally, minCell: number): ShownValue {
  if (isSmall(part.people, minCell) || isSmall(rest.people, minCell)) return { value: null, suppressed: true };
  return { value: part.alerts, suppressed: false };
}

/** A median over `over`: withheld when those alerts stand on fewer than `minCell` people; null, not withheld, over none. */
export function showMedian(median: number | null, over: Tally, minCell: number): ShownValue {
  if (isSmall(over.people, minCell)) return { value: null, suppressed: true };
  return { value: over.alerts === 0 ? null : median, suppressed: false };
}

function withheld(): ShownTally {
  return { alerts: null, people: null, suppressed: true };
}
