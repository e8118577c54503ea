import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from "graphql";
import { Prisma } from "../../generated/prisma/client.ts";

/**
 * The columns a list field's rows need for the fields the operation asks of them, so a statement
 * reads only those (a page asking `coachSessions { intent }` reads 2 columns of each session, not
 * 7). A field that is a column of the same name needs that column; `needs` says what every other
 * field of the type reads (none for a field that reads nothing from the row). A field the choice
 * does not know of reads every column: a field added to the SDL is never answered from a column
 * that was left out. The rows of such a statement hold only the chosen columns.
 *
 * The choice covers every field of the same name beside the one being resolved (aliases, other
 * fragments), so that they keep sharing one statement whenever their arguments are the same.
 */
export class ColumnChoice<Key extends string> {
  /** Every column. */
  readonly all: readonly Key[];
  /** Per field of a document (its AST node), what it and its namesakes need. */
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

  /**
   * The columns (sorted, so equal choices are equal loader arguments) for the field being
   * resolved and its namesakes, with what `extra` says each of them needs beyond its items
   * (a connection's cursors).
   */
  keysFor(info: GraphQLResolveInfo, extra?: (field: FieldNode, fragments: GraphQLResolveInfo["fragments"]) => readonly Key[]): readonly Key[] {
    const name = info.fieldNodes[0]!.name.value;
    return columnsBeside(info, this.chosen, this.all, (field) =>
      field.name.value === name ? [...this.keysOf(field.selectionSet, info.fragments), ...(extra?.(field, info.fragments) ?? [])] : undefined,
    );
  }

  /** The columns the fields of `selectionSet` (a field's own) need. */
  keysOf(selectionSet: SelectionSetNode | undefined, fragments: GraphQLResolveInfo["fragments"]): readonly Key[] {
    return this.choose(fieldsAt(selectionSet, fragments, this.path));
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

/**
 * The columns (sorted, so equal choices are equal loader arguments) of the one statement that
 * answers the field being resolved and every field beside it that `keysOfField` answers (with
 * the columns that field needs; undefined for a field the statement does not answer), kept per
 * field node in `chosen`. Every column when the field is not found beside itself (a path this
 * walk does not follow): never too few.
 */
export function columnsBeside<Key extends string>(
  info: GraphQLResolveInfo,
  chosen: WeakMap<FieldNode, readonly Key[]>,
  all: readonly Key[],
  keysOfField: (field: FieldNode) => readonly Key[] | undefined,
): readonly Key[] {
  const node = info.fieldNodes[0]!;
  let keys = chosen.get(node);
  if (!keys) {
    const siblings = siblingFields(info);
    if (!siblings.includes(node)) keys = all;
    else {
      const union = new Set<Key>();
      for (const field of siblings) for (const key of keysOfField(field) ?? []) union.add(key);
      keys = [...union].sort();
    }
    chosen.set(node, keys);
  }
  return keys;
}

/**
 * The fields asked for beside the field being resolved, itself included (a person's `debts` and
 * `debtSummary`, which one statement answers), through fragments and whatever their type
 * condition: the fields of every selection the response path leads through to its parent.
 */
export function siblingFields(info: GraphQLResolveInfo): FieldNode[] {
  const keys: string[] = [];
  for (let at: GraphQLResolveInfo["path"] | undefined = info.path; at; at = at.prev) if (typeof at.key === "string") keys.unshift(at.key);
  keys.pop();
  let sets: (SelectionSetNode | undefined)[] = [info.operation.selectionSet];
  for (const key of keys) sets = fieldsIn(sets, info.fragments).filter((field) => (field.alias ?? field.name).value === key).map((field) => field.selectionSet);
  return fieldsIn(sets, info.fragments);
}

function fieldsIn(sets: readonly (SelectionSetNode | undefined)[], fragments: GraphQLResolveInfo["fragments"]): FieldNode[] {
  const fields: FieldNode[] = [];
  const visit = (selectionSet: SelectionSetNode | undefined): void => {
    for (const selection of selectionSet?.selections ?? []) {
      if (selection.kind === Kind.FIELD) fields.push(selection);
      else if (selection.kind === Kind.INLINE_FRAGMENT) visit(selection.selectionSet);
      else visit(fragments[selection.name.value]?.selectionSet);
    }
  };
  for (const selectionSet of sets) visit(selectionSet);
  return fields;
}

/** The names of the fields asked for in `selectionSet` at `path`, through fragments. */
export function fieldsAt(selectionSet: SelectionSetNode | undefined, fragments: GraphQLResolveInfo["fragments"], path: readonly string[]): Set<string> {
  const names = new Set<string>();
  const visit = (selections: SelectionSetNode | undefined, depth: number): void => {
    for (const selection of selections?.selections ?? []) {
      if (selection.kind === Kind.FIELD) {
        if (depth === path.length) names.add(selection.name.value);
        else if (selection.name.value === path[depth]) visit(selection.selectionSet, depth + 1);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) visit(selection.selectionSet, depth);
      else visit(fragments[selection.name.value]?.selectionSet, depth);
    }
  };
  visit(selectionSet, 0);
  return names;
}
