import {
  GraphQLError,
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  isNonNullType,
  Kind,
  type ConstValueNode,
  type DirectiveNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
  type ValueNode,
} from "graphql";
import { argumentCoordinate, describeRule, grants, type AccessRule } from "../../platform/auth/access-rules.ts";
import type { ArgumentRules, FieldRules } from "./supergraph-rules.ts";

/** Marks a list level in a path, as the Apollo Router prints the paths of the fields it removed. */
export const LIST_MARKER = "@";

/** `@skip(if:)` / `@include(if:)` on a selection between the root and a removed field. */
interface Condition {
  include: boolean;
  value: boolean | { variable: string };
}

export interface Removal {
  /**
   * `User.debts`: the field the token's scopes do not cover; or `Query.users(band:)`, an argument
   * the operation passes that they do not cover (the whole field goes, as a refused field does).
   */
  coordinate: string;
  /** What the field needs, in words: "debts.read". */
  needs: string;
  /** Where the field sits in the response, `@` for each list level: the error's `path`. */
  path: readonly string[];
  /**
   * Where `null` goes: the field's own path, or that of its nearest nullable ancestor when the
   * field is non-null (GraphQL's null propagation, decided before execution).
   */
  nullPath: readonly string[];
  /** The error is reported only when every condition on the way holds for the request's variables. */
  conditions: readonly Condition[];
}

export interface FilteredOperation {
  /** The operation to plan and run: the original document when nothing was removed. */
  document: DocumentNode;
  removals: readonly Removal[];
  /** Identifies what was removed; equal for every token whose scopes remove the same fields. "" when none. */
  signature: string;
  /** A removed field could only be nulled by nulling `data` itself (a non-null chain to the root). */
  dataIsNull: boolean;
  /** Default values of Boolean variables, for evaluating the conditions. */
  variableDefaults: Readonly<Record<string, boolean>>;
}

/**
 * Removes from an operation the fields the token's scopes do not cover, before the gateway
 * plans it: the Apollo Router's authorization semantics on `@apollo/gateway`. A field is also
 * removed when the operation passes it an argument whose `@argumentRequiresScopes` the token's
 * scopes do not cover: a filter by a value reveals that value (`users(band: RED) { totalCount }`
 * tells whose band is RED), so it needs what reading the value needs. An argument counts as
 * passed when it carries a value: written as a literal other than `null`, through a variable
 * that holds one (or has a default), or left out with a default in the schema. Without the
 * request's variables (a caller that plans once for all of them), a variable counts as holding
 * a value.
 *
 * Each removed field is replaced in place by `<responseKey>: __typename` carrying the field's
 * own `@skip`/`@include`. Every subgraph can answer `__typename`, a selection set never becomes
 * empty, the response keeps the client's field order, and the gateway's own execution decides
 * whether the field was included; the placeholder's value is then overwritten with `null`.
 * Named fragments are inlined where they contain a removal, because the same fragment can sit
 * under different paths.
 */
export class OperationFilter {
  constructor(
    private readonly schema: GraphQLSchema,
    private readonly rules: FieldRules,
    private readonly argumentRules: ArgumentRules = new Map(),
  ) {}

  filter(
    document: DocumentNode,
    operationName: string | null | undefined,
    granted: ReadonlySet<string>,
    variables?: Readonly<Record<string, unknown>>,
  ): FilteredOperation {
    const operation = pickOperation(document, operationName);
    const rootType = operation && this.schema.getRootType(operation.operation);
    if (!operation || !rootType) return { document, removals: [], signature: "", dataIsNull: false, variableDefaults: {} };
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
    const declared = new Map<string, ConstValueNode | undefined>();
    for (const definition of operation.variableDefinitions ?? []) declared.set(definition.variable.name.value, definition.defaultValue);
    const walk = new Walk(this.schema, this.rules, this.argumentRules, granted, fragments, { values: variables, declared });
    const root = walk.selectionSet(operation.selectionSet, rootType, [], []);
    if (walk.removals.length === 0) return { document, removals: [], signature: "", dataIsNull: false, variableDefaults: {} };
    for (const removal of root.pending) removal.nullPath = [];

    const filteredOperation: OperationDefinitionNode = { ...operation, selectionSet: root.selectionSet };
    const used = usedFragments(filteredOperation, fragments);
    const filtered: DocumentNode = {
      kind: Kind.DOCUMENT,
      definitions: [filteredOperation, ...[...fragments.values()].filter((fragment) => used.has(fragment.name.value))],
    };
    const variableDefaults: Record<string, boolean> = {};
    for (const definition of operation.variableDefinitions ?? []) {
      if (definition.defaultValue?.kind === Kind.BOOLEAN) variableDefaults[definition.variable.name.value] = definition.defaultValue.value;
    }
    return {
      document: filtered,
      removals: walk.removals,
      signature: walk.removals.map((removal) => `${removal.path.join(".")}=${removal.nullPath.join(".")}`).sort().join("\n"),
      dataIsNull: root.pending.length > 0,
      variableDefaults,
    };
  }
}

/** Whether the removed field was part of the request at all (not skipped by its variables). */
export function isIncluded(removal: Removal, variables: Readonly<Record<string, unknown>> | undefined, defaults: Readonly<Record<string, boolean>>): boolean {
  return removal.conditions.every((condition) => {
    const value = typeof condition.value === "boolean" ? condition.value : (variables?.[condition.value.variable] ?? defaults[condition.value.variable]);
    return condition.include ? value === true : value !== true;
  });
}

/**
 * Writes `null` at every place `path` (with `@` for list levels) reaches in `data` where the
 * placeholder answered. Returns how many places it wrote.
 */
export function putNull(data: unknown, path: readonly string[], from = 0): number {
  if (data === null || typeof data !== "object") return 0;
  const segment = path[from];
  if (segment === undefined) return 0;
  if (segment === LIST_MARKER) {
    if (!Array.isArray(data)) return 0;
    let written = 0;
    for (const item of data) written += putNull(item, path, from + 1);
    return written;
  }
  if (Array.isArray(data)) return 0;
  const record = data as Record<string, unknown>;
  if (from === path.length - 1) {
    if (!(segment in record)) return 0;
    record[segment] = null;
    return 1;
  }
  return putNull(record[segment], path, from + 1);
}

/** `null` where each removed field was (the placeholders the filtered operation answered). */
export function nullRemovedFields(data: unknown, filtered: FilteredOperation): void {
  for (const removal of filtered.removals) putNull(data, removal.nullPath);
}

/** One `UNAUTHORIZED_FIELD_OR_TYPE` error per removed field the request included, at its path. */
export function unauthorizedErrors(filtered: FilteredOperation, variables: Readonly<Record<string, unknown>> | undefined): GraphQLError[] {
  const seen = new Set<string>();
  const errors: GraphQLError[] = [];
  for (const removal of filtered.removals) {
    const key = removal.path.join("\u0000");
    if (seen.has(key) || !isIncluded(removal, variables, filtered.variableDefaults)) continue;
    seen.add(key);
    errors.push(
      new GraphQLError(`Unauthorized field or type: ${removal.coordinate} needs ${removal.needs}`, {
        path: [...removal.path],
        extensions: { code: "UNAUTHORIZED_FIELD_OR_TYPE" },
      }),
    );
  }
  return errors;
}

interface WalkResult {
  selectionSet: SelectionSetNode;
  /** Removals under a non-null field: the enclosing field has to become null instead. */
  pending: Removal[];
}

/** The request's variables (undefined: not known) and the operation's declared defaults. */
interface Variables {
  values: Readonly<Record<string, unknown>> | undefined;
  declared: ReadonlyMap<string, ConstValueNode | undefined>;
}

/** One traversal of one operation for one set of scopes. */
class Walk {
  readonly removals: Removal[] = [];

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly rules: FieldRules,
    private readonly argumentRules: ArgumentRules,
    private readonly granted: ReadonlySet<string>,
    private readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>,
    private readonly variables: Variables,
  ) {}

  selectionSet(selectionSet: SelectionSetNode, parentType: GraphQLCompositeType, path: readonly string[], conditions: readonly Condition[]): WalkResult {
    const pending: Removal[] = [];
    let changed = false;
    const selections = selectionSet.selections.map((selection): SelectionNode => {
      const result = this.selection(selection, parentType, path, conditions);
      pending.push(...result.pending);
      if (result.node !== selection) changed = true;
      return result.node;
    });
    return { selectionSet: changed ? { ...selectionSet, selections } : selectionSet, pending };
  }

  private selection(
    selection: SelectionNode,
    parentType: GraphQLCompositeType,
    path: readonly string[],
    conditions: readonly Condition[],
  ): { node: SelectionNode; pending: Removal[] } {
    if (selection.kind === Kind.FIELD) return this.field(selection, parentType, path, conditions);
    const inner = [...conditions, ...conditionsOf(selection.directives)];
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      const type = selection.typeCondition ? this.compositeType(selection.typeCondition.name.value) : parentType;
      const result = this.selectionSet(selection.selectionSet, type, path, inner);
      return { node: result.selectionSet === selection.selectionSet ? selection : { ...selection, selectionSet: result.selectionSet }, pending: result.pending };
    }
    const fragment = this.fragments.get(selection.name.value);
    if (!fragment) return { node: selection, pending: [] };
    const result = this.selectionSet(fragment.selectionSet, this.compositeType(fragment.typeCondition.name.value), path, inner);
    if (result.selectionSet === fragment.selectionSet) return { node: selection, pending: result.pending };
    return {
      node: { kind: Kind.INLINE_FRAGMENT, typeCondition: fragment.typeCondition, directives: selection.directives ?? [], selectionSet: result.selectionSet },
      pending: result.pending,
    };
  }

  private field(field: FieldNode, parentType: GraphQLCompositeType, path: readonly string[], conditions: readonly Condition[]): { node: SelectionNode; pending: Removal[] } {
    const name = field.name.value;
    if (name.startsWith("__") || !("getFields" in parentType)) return { node: field, pending: [] };
    const definition = parentType.getFields()[name];
    if (!definition) return { node: field, pending: [] };
    const key = field.alias?.value ?? name;
    const fieldPath = [...path, key];
    const fieldConditions = [...conditions, ...conditionsOf(field.directives)];
    const coordinate = `${parentType.name}.${name}`;
    const rule = this.rules.get(coordinate);
    const refused = rule && !grants(this.granted, rule) ? { coordinate, rule } : this.refusedArgument(field, definition, coordinate);

    if (refused) {
      const removal: Removal = { coordinate: refused.coordinate, needs: describeRule(refused.rule), path: fieldPath, nullPath: fieldPath, conditions: fieldConditions };
      this.removals.push(removal);
      if (isNonNullType(definition.type)) return { node: field, pending: [removal] };
      return { node: placeholder(field, key), pending: [] };
    }
    if (!field.selectionSet) return { node: field, pending: [] };

    const childPath = [...fieldPath, ...listMarkers(definition.type)];
    const result = this.selectionSet(field.selectionSet, getNamedType(definition.type) as GraphQLCompositeType, childPath, fieldConditions);
    if (result.pending.length > 0) {
      if (isNonNullType(definition.type)) return { node: field, pending: result.pending };
      for (const removal of result.pending) removal.nullPath = fieldPath;
      return { node: placeholder(field, key), pending: [] };
    }
    return { node: result.selectionSet === field.selectionSet ? field : { ...field, selectionSet: result.selectionSet }, pending: [] };
  }

  /** The first argument the operation passes to the field that the token's scopes do not cover. */
  private refusedArgument(field: FieldNode, definition: GraphQLField<unknown, unknown>, coordinate: string): { coordinate: string; rule: AccessRule } | undefined {
    const rules = this.argumentRules.get(coordinate);
    if (!rules) return undefined;
    for (const [name, rule] of rules) {
      if (grants(this.granted, rule)) continue;
      const written = field.arguments?.find((argument) => argument.name.value === name)?.value;
      const schemaDefault = definition.args.find((argument) => argument.name === name)?.defaultValue;
      if (this.carriesValue(written, schemaDefault)) return { coordinate: argumentCoordinate(coordinate, name), rule };
    }
    return undefined;
  }

  /** Whether an argument written as `written` (undefined: left out) reaches the resolver with a value. */
  private carriesValue(written: ValueNode | undefined, schemaDefault: unknown): boolean {
    const byDefault = schemaDefault !== undefined && schemaDefault !== null;
    if (written === undefined) return byDefault;
    if (written.kind === Kind.NULL) return false;
    if (written.kind !== Kind.VARIABLE) return true;
    const { values, declared } = this.variables;
    if (values === undefined) return true;
    const name = written.name.value;
    if (Object.hasOwn(values, name)) return values[name] !== null && values[name] !== undefined;
    const declaredDefault = declared.get(name);
    // A variable neither given nor defaulted leaves the argument out: the schema's default applies.
    return declaredDefault === undefined ? byDefault : declaredDefault.kind !== Kind.NULL;
  }

  private compositeType(name: string): GraphQLCompositeType {
    const type = this.schema.getType(name);
    if (!type || !isCompositeType(type)) throw new Error(`Fragment on unknown type ${name}; the operation was validated against another schema`);
    return type;
  }
}

/** `key: __typename`, keeping the field's own `@skip`/`@include` so execution decides inclusion. */
function placeholder(field: FieldNode, key: string): FieldNode {
  return {
    kind: Kind.FIELD,
    alias: { kind: Kind.NAME, value: key },
    name: { kind: Kind.NAME, value: "__typename" },
    directives: field.directives?.filter(isConditionDirective) ?? [],
  };
}

function listMarkers(type: GraphQLOutputType): string[] {
  const markers: string[] = [];
  let current: GraphQLOutputType = getNullableType(type);
  while (isListType(current)) {
    markers.push(LIST_MARKER);
    current = getNullableType(current.ofType);
  }
  return markers;
}

function isConditionDirective(directive: DirectiveNode): boolean {
  return directive.name.value === "skip" || directive.name.value === "include";
}

function conditionsOf(directives: readonly DirectiveNode[] | undefined): Condition[] {
  const conditions: Condition[] = [];
  for (const directive of directives ?? []) {
    if (!isConditionDirective(directive)) continue;
    const argument = directive.arguments?.find((candidate) => candidate.name.value === "if")?.value;
    const include = directive.name.value === "include";
    if (argument?.kind === Kind.BOOLEAN) conditions.push({ include, value: argument.value });
    else if (argument?.kind === Kind.VARIABLE) conditions.push({ include, value: { variable: argument.name.value } });
  }
  return conditions;
}

function pickOperation(document: DocumentNode, operationName: string | null | undefined): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION);
  if (operationName) return operations.find((operation) => operation.name?.value === operationName);
  return operations.length === 1 ? operations[0] : undefined;
}

/** Fragments still spread somewhere, directly or through other fragments. */
function usedFragments(operation: OperationDefinitionNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>): Set<string> {
  const used = new Set<string>();
  const visit = (selectionSet: SelectionSetNode) => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (!used.has(name) && fragment) {
          used.add(name);
          visit(fragment.selectionSet);
        }
      } else if (selection.selectionSet) visit(selection.selectionSet);
    }
  };
  visit(operation.selectionSet);
  return used;
}
