// What an import answers, to the REST route and to `npm run import` alike.
import type { ImportFormat } from "./format.ts";
import type { RowNote } from "./plan.ts";

export interface ImportRequest {
  format: ImportFormat;
  userId: string;
  /** The export file's text. */
  csv: string;
  now?: Date;
}

export interface ImportOutcome {
  format: ImportFormat;
  userId: string;
  /** Data rows in the file (the header and blank lines not counted). */
  rows: number;
  /** Expenses added now. */
  imported: number;
  /** Expenses of the file already there from an earlier import of it. */
  alreadyImported: number;
  /** Rows that are not expenses (transfers, income, refunds), by line with the reason. */
  skipped: RowNote[];
  /** Expenses of the file per category of ours. */
  byCategory: Record<string, number>;
  /** Source categories the map does not know, imported as `other`. */
  unmappedCategories: string[];
  /** The diagnosis run after the import (null when nothing was added). */
  diagnosis: { snapshotDate: string; score: number; band: string } | null;
  /** Types of the prevention alerts the import raised. */
  alertsRaised: string[];
}

/** A file refused as a whole: nothing was written. */
export class ImportRefused extends Error {
  constructor(
    readonly badRows: readonly RowNote[],
    message = `${badRows.length} bad row${badRows.length === 1 ? "" : "s"}, nothing imported: ${badRows
      .slice(0, 20)
      .map((row) => `line ${row.line}: ${row.reason}`)
      .join("; ")}${badRows.length > 20 ? `; and ${badRows.length - 20} more` : ""}`,
  ) {
    super(message);
  }
}

/** The person is not known: nothing was written. */
export class ImportPersonNotFound extends Error {}
