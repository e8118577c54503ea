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

export function decodeCursor<const Shape extends readonly ("string" | "number")[]>(
  cursor: string | null | undefined,
  shape: Shape,
): { [I in keyof Shape]: Shape[I] extends "string" ? string : number } | undefined {
  if (cursor === null || cursor === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    parsed = undefined;
  }
  const valid =
    Array.isArray(parsed) &&
    parsed.length === shape.length &&
    parsed.every((value, index) => typeof value === shape[index] && (typeof value !== "number" || Number.isFinite(value)));
  if (!valid) throw badUserInput("`after` is not a cursor this field returned", "after");
  return parsed as { [I in keyof Shape]: Shape[I] extends "string" ? string : number };
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
