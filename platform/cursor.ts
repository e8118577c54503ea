// Keyset cursors: opaque to clients, base64url of a JSON array of the sort key. Each element is
// checked against its kind when read, so a forged cursor is an input error, never a value the
// database would refuse (an id past bigint, a year it cannot store).

/** What a cursor element holds: text, a number, a timestamp (ISO text) or a PostgreSQL bigint id (decimal text). */
export type CursorKind = "string" | "number" | "timestamp" | "int8";
export type CursorValue<Kind extends CursorKind> = Kind extends "string" ? string : Kind extends "number" ? number : Kind extends "timestamp" ? Date : bigint;
export type CursorValues<Shape extends readonly CursorKind[]> = { [I in keyof Shape]: CursorValue<Shape[I]> };

const INT8_MAX = 2n ** 63n - 1n;
/** Years PostgreSQL's timestamp and JavaScript's Date both hold, with room for any real row. */
const FIRST_YEAR = 1;
const LAST_YEAR = 9999;

export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

/** The sort key a cursor holds, or undefined when it is not one of `shape` (a forged or foreign cursor). */
export function readCursor<const Shape extends readonly CursorKind[]>(cursor: string, shape: Shape): CursorValues<Shape> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== shape.length) return undefined;
  const values = parsed.map((value, index) => cursorValue(value, shape[index]!));
  return values.some((value) => value === undefined) ? undefined : (values as CursorValues<Shape>);
}

function cursorValue(value: unknown, kind: CursorKind): unknown {
  switch (kind) {
    case "string":
      return typeof value === "string" ? value : undefined;
    case "number":
      return typeof value === "number" && Number.isFinite(value) ? value : undefined;
    case "timestamp": {
      if (typeof value !== "string") return undefined;
      const at = new Date(value);
      const year = at.getUTCFullYear();
      return Number.isNaN(at.getTime()) || year < FIRST_YEAR || year > LAST_YEAR ? undefined : at;
    }
    case "int8": {
      if (typeof value !== "string" || !/^\d{1,19}$/.test(value)) return undefined;
      const id = BigInt(value);
      return id <= INT8_MAX ? id : undefined;
    }
  }
}
