import { badUserInput } from "../../platform/errors.ts";

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

export interface Connection<Node> {
  edges: { cursor: string; node: Node }[];
  pageInfo: PageInfo;
}

/** Validates `first`: absent means `defaultSize`, beyond `max` or below 0 is an input error. */
export function pageSize(first: number | null | undefined, limits: { default: number; max: number }): number {
  if (first === null || first === undefined) return limits.default;
  if (!Number.isInteger(first) || first < 0) throw badUserInput("`first` must be a non-negative integer", "first");
  if (first > limits.max) throw badUserInput(`\`first\` may be at most ${limits.max}`, "first");
  return first;
}

/** Cursors are opaque to clients: base64url of a JSON array of the sort key. */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

/** What a cursor element holds: text, a number, a timestamp (ISO text) or a PostgreSQL bigint id (decimal text). */
type CursorKind = "string" | "number" | "timestamp" | "int8";
type CursorValue<Kind extends CursorKind> = Kind extends "string" ? string : Kind extends "number" ? number : Kind extends "timestamp" ? Date : bigint;

const INT8_MAX = 2n ** 63n - 1n;
/** Years PostgreSQL's timestamp and JavaScript's Date both hold, with room for any real row. */
const FIRST_YEAR = 1;
const LAST_YEAR = 9999;

/** One element as its kind, or undefined when it is not one (a forged cursor). */
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

/**
 * The sort key a cursor holds, each element checked against its kind; anything else is
 * BAD_USER_INPUT, never a value the database would refuse (an id past bigint, a year it cannot store).
 */
export function decodeCursor<const Shape extends readonly CursorKind[]>(
  cursor: string | null | undefined,
  shape: Shape,
): { [I in keyof Shape]: CursorValue<Shape[I]> } | undefined {
  if (cursor === null || cursor === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    parsed = undefined;
  }
  const values = Array.isArray(parsed) && parsed.length === shape.length ? parsed.map((value, index) => cursorValue(value, shape[index]!)) : undefined;
  if (!values || values.some((value) => value === undefined)) throw badUserInput("`after` is not a cursor this field returned", "after");
  return values as { [I in keyof Shape]: CursorValue<Shape[I]> };
}

/** Builds a connection from rows fetched with one extra row to learn whether a next page exists. */
export function connectionFrom<Row, Node>(
  rows: readonly Row[],
  size: number,
  cursorOf: (row: Row) => string,
  nodeOf: (row: Row) => Node,
): Connection<Node> {
  const page = rows.slice(0, size);
  const edges = page.map((row) => ({ cursor: cursorOf(row), node: nodeOf(row) }));
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > size, endCursor: edges.at(-1)?.cursor ?? null },
  };
}
