// Row buffers that become one `COPY table (columns) FROM STDIN` per table per batch, in
// PostgreSQL's text format: PostgreSQL parses numerics, dates, enums, arrays and JSON
// straight into the column types, with no per-row statement and no parameter limits. Both
// targets take the same payload (pg through the COPY sub-protocol, PGlite as a blob), and
// COPY measured about twice as fast as `INSERT ... SELECT FROM unnest(...)` for the big
// tables.

export interface Column<R> {
  /** Column name in the database. */
  name: string;
  /** The value in PostgreSQL's text input syntax for the column's type; null for NULL. */
  value: (row: R) => string | null;
  /**
   * False for values that can never hold a backslash, tab or newline (ids, codes, numbers,
   * dates), which are then written without the escaping scan.
   */
  escape: boolean;
}

export interface TableSpec<R> {
  table: string;
  columns: readonly Column<R>[];
  /**
   * The table's `id` is a bigserial: ids are assigned here, in insertion order, so they are
   * reproducible even when a sequence has been advanced by an earlier failed attempt.
   */
  serialId?: boolean;
}

/** One table's rows of one batch, ready for COPY. */
export interface CopyBatch {
  table: string;
  columns: readonly string[];
  /** COPY text format: one line per row, tab-separated, `\N` for NULL. */
  text: string;
  rows: number;
}

/** What the seeding loop needs of a writer, whatever its row type. */
export interface Writable {
  readonly spec: { table: string; serialId?: boolean };
  readonly written: number;
  /** Ids handed out so far (bigserial tables only). */
  readonly lastId: number;
  take(): CopyBatch | null;
}

export const quoteIdentifier = (identifier: string): string => `"${identifier.replaceAll('"', '""')}"`;

/** A PostgreSQL array literal of text elements: ["a", "b\"c"] -> {"a","b\"c"}. */
export function textArrayLiteral(items: readonly string[]): string {
  return `{${items.map((item) => `"${item.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`).join(",")}}`;
}

const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPES: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" };

/** A value in COPY text format. */
export function copyValue(value: string | null): string {
  if (value === null) return "\\N";
  return NEEDS_ESCAPE.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c] ?? c) : value;
}

export class TableWriter<R> implements Writable {
  private readonly columns: readonly string[];
  private lines: string[] = [];
  private readonly parts: string[];
  private nextId = 1;
  /** Rows handed out for writing so far. */
  written = 0;

  constructor(readonly spec: TableSpec<R>) {
    this.columns = [...(spec.serialId ? ["id"] : []), ...spec.columns.map((c) => c.name)];
    this.parts = this.columns.map(() => "");
  }

  get lastId(): number {
    return this.nextId - 1;
  }

  add(row: R): void {
    // Joining an array yields one flat string; `+=` would build a rope of small pieces.
    const parts = this.parts;
    let i = 0;
    if (this.spec.serialId) parts[i++] = String(this.nextId++);
    for (const column of this.spec.columns) {
      const value = column.value(row);
      parts[i++] = column.escape || value === null ? copyValue(value) : value;
    }
    this.lines.push(parts.join("\t"));
  }

  /**
   * Detaches the buffered rows as one COPY payload and starts a new buffer, so the next
   * batch can be generated while this one is being written.
   */
  take(): CopyBatch | null {
    if (this.lines.length === 0) return null;
    const batch = { table: this.spec.table, columns: this.columns, text: `${this.lines.join("\n")}\n`, rows: this.lines.length };
    this.written += this.lines.length;
    this.lines = [];
    return batch;
  }
}
