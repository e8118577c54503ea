import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from "graphql";
import { readCursor, type CursorKind, type CursorValues } from "../../platform/cursor.ts";
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

export { encodeCursor } from "../../platform/cursor.ts";

/** The sort key a cursor holds; anything else is BAD_USER_INPUT on `after` (platform/cursor.ts checks each element). */
export function decodeCursor<const Shape extends readonly CursorKind[]>(cursor: string | null | undefined, shape: Shape): CursorValues<Shape> | undefined {
  if (cursor === null || cursor === undefined) return undefined;
  const values = readCursor(cursor, shape);
  if (!values) throw badUserInput("`after` is not a cursor this field returned", "after");
  return values;
}

/**
 * Builds a connection from rows fetched with one extra row to learn whether a next page exists.
 * Cursors are encoded only when read: most pages never ask for them.
 */
export function connectionFrom<Row, Node>(
  rows: readonly Row[],
  size: number,
  cursorOf: (row: Row) => string,
  nodeOf: (row: Row) => Node,
): Connection<Node> {
  const edges: Edge<Row, Node>[] = [];
  for (let index = 0; index < rows.length && index < size; index++) {
    const row = rows[index] as Row;
    edges.push(new Edge(row, cursorOf, nodeOf(row)));
  }
  return { edges, pageInfo: new LastEdgeInfo(edges, rows.length > size) };
}

class Edge<Row, Node> {
  constructor(
    private readonly row: Row,
    private readonly cursorOf: (row: Row) => string,
    readonly node: Node,
  ) {}

  get cursor(): string {
    return this.cursorOf(this.row);
  }
}

class LastEdgeInfo implements PageInfo {
  constructor(
    private readonly edges: readonly { cursor: string }[],
    readonly hasNextPage: boolean,
  ) {}

  get endCursor(): string | null {
    return this.edges.at(-1)?.cursor ?? null;
  }
}

/**
 * Whether the operation asks, below the field being resolved, for the fields along `path`
 * (`["edges", "node", "wellness"]`, through fragments), so a resolver can read them with its own
 * statement instead of a later one. Directives are not weighed: a skipped field is read for nothing.
 */
export function selectsPath(info: GraphQLResolveInfo, path: readonly string[]): boolean {
  const within = (selectionSet: SelectionSetNode | undefined, depth: number): boolean =>
    (selectionSet?.selections ?? []).some((selection) => {
      if (selection.kind === Kind.FIELD) return selection.name.value === path[depth] && (depth === path.length - 1 || within(selection.selectionSet, depth + 1));
      if (selection.kind === Kind.INLINE_FRAGMENT) return within(selection.selectionSet, depth);
      return within(info.fragments[selection.name.value]?.selectionSet, depth);
    });
  return info.fieldNodes.some((node) => within(node.selectionSet, 0));
}
