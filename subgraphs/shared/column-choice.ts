import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from "graphql";
import { Prisma } from "../../generated/prisma/client.ts";

/**
 * The columns a list field's rows need for the fields the operation asks of them, so a statement
 * reads only those (a page asking `coachSessions { intent }` reads 2 columns of each session, not
 * 7). A field that is a column of the same name needs that column; `needs` says what every other
 * field of the type reads (none for a field that reads nothing from the row). A field the choice
 * does not know of reads every column: a field added to the SDL is never answered from a column
 * that was left out. The rows of such a statement hold only the chosen columns.
 */
export class ColumnChoice<Key extends string> {
  /** Every column. */
  readonly all: readonly Key[];
  /** Per field of a document (its AST node), what its selection needs. */
  private readonly chosen = new WeakMap<FieldNode, readonly Key[]>();

  constructor(
    private readonly columns: Readonly<Record<Key, Prisma.Sql>>,
    private readonly needs: Readonly<Record<string, readonly Key[]>>,
    /** What the statement itself reads (the user id its rows are grouped by). */
    private readonly always: readonly Key[],
    /** Where the items are below the field: [] for a list, `["edges", "node"]` for a connection. */
    private readonly path: readonly string[] = [],
  ) {
    this.all = (Object.keys(columns) as Key[]).sort();
  }

  /** The columns (sorted, so equal choices are equal loader arguments) for the field being resolved, plus `extra`. */
  keysFor(info: GraphQLResolveInfo, extra: readonly Key[] = []): readonly Key[] {
    const node = info.fieldNodes[0]!;
    let keys = this.chosen.get(node);
    if (!keys) {
      keys = this.choose(fieldsAt(info, this.path));
      this.chosen.set(node, keys);
    }
    return extra.length === 0 ? keys : [...new Set([...keys, ...extra])].sort();
  }

  /** The SQL select list of `keys`. */
  sql(keys: readonly Key[]): Prisma.Sql {
    return Prisma.join(keys.map((key) => this.columns[key]), ", ");
  }

  private choose(fields: ReadonlySet<string>): readonly Key[] {
    const keys = new Set<Key>(this.always);
    for (const field of fields) {
      if (field === "__typename") continue;
      if (Object.hasOwn(this.columns, field)) keys.add(field as Key);
      else if (Object.hasOwn(this.needs, field)) for (const key of this.needs[field]!) keys.add(key);
      else return this.all;
    }
    return [...keys].sort();
  }
}

/** The names of the fields asked for below the field being resolved, at `path`, through fragments. */
function fieldsAt(info: GraphQLResolveInfo, path: readonly string[]): Set<string> {
  const names = new Set<string>();
  const visit = (selectionSet: SelectionSetNode | undefined, depth: number): void => {
    for (const selection of selectionSet?.selections ?? []) {
      if (selection.kind === Kind.FIELD) {
        if (depth === path.length) names.add(selection.name.value);
        else if (selection.name.value === path[depth]) visit(selection.selectionSet, depth + 1);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) visit(selection.selectionSet, depth);
      else visit(info.fragments[selection.name.value]?.selectionSet, depth);
    }
  };
  for (const node of info.fieldNodes) visit(node.selectionSet, 0);
  return names;
}
