// A CSV file as records with the line each starts on, so a bad row can be named the way a
// person finds it in a spreadsheet. The parsing is csv-parse's (RFC 4180 quoting, strict about a
// stray quote); this module only settles what exports from phone apps vary in: a byte-order
// mark, CRLF or CR line ends, and `;` or tab instead of `,` (locales whose decimal mark is a comma).
import { CsvError, parse } from "csv-parse/sync";

export interface CsvRecord {
  /** 1-based line of the file the record starts on (the header is line 1 unless blank lines precede it). */
  line: number;
  cells: string[];
}

export interface CsvTable {
  delimiter: string;
  header: CsvRecord;
  rows: CsvRecord[];
}

/** A file that is not CSV at all: a quote left open, a stray quote, no header. */
export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

const DELIMITERS = [",", ";", "\t"] as const;

/** The delimiter the header line uses most, outside quotes (`,` when none). */
function delimiterOf(text: string): string {
  const firstLine = text.slice(0, text.indexOf("\n") === -1 ? undefined : text.indexOf("\n")).replace(/"[^"]*"/g, "");
  let best: string = ",";
  let bestCount = 0;
  for (const delimiter of DELIMITERS) {
    const count = firstLine.split(delimiter).length - 1;
    if (count > bestCount) [best, bestCount] = [delimiter, count];
  }
  return best;
}

export function parseCsvTable(input: string): CsvTable {
  // csv-parse counts lines wrongly across CRLF; inside a quoted cell a line end is a line end either way.
  const text = input.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n");
  const delimiter = delimiterOf(text.replace(/^\n+/, ""));
  let parsed: { record: string[]; info: { lines: number }; raw: string }[];
  try {
    // With `info` and `raw`, each record comes as { record, info, raw } (the typings know only string[][]).
    parsed = parse(text, { delimiter, info: true, raw: true, relax_column_count: true, skip_empty_lines: true }) as unknown as typeof parsed;
  } catch (error) {
    if (error instanceof CsvError) {
      const line = typeof (error as { lines?: unknown }).lines === "number" ? (error as unknown as { lines: number }).lines : undefined;
      throw new CsvSyntaxError(line, error.message);
    }
    throw error;
  }
  const records = parsed.map(({ record, info, raw }) => {
    const own = raw.replace(/^\n+/, "");
    const breaks = own.split("\n").length - 1 - (own.endsWith("\n") ? 1 : 0);
    return { line: info.lines - breaks, cells: record };
  });
  const [header, ...rows] = records;
  if (!header) throw new CsvSyntaxError(undefined, "The file is empty: no header line");
  return { delimiter, header, rows: rows.filter((row) => row.cells.some((cell) => cell.trim() !== "")) };
}
