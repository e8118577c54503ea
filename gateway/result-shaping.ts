/**
 * The last step of `@apollo/gateway`'s execution, shaping the subgraphs' merged answers into the
 * operation's result (its `computeResponse`), done without its per-object cost: Apollo walks its
 * Operation for every object of the answer (20 users x 25 selections on a five-subgraph page),
 * reading directives, types and names through @apollo/federation-internals each time; that was
 * about a tenth of the gateway's CPU under bench:gateway's distinct-pages load. Here the
 * operation's selections are read once per request into plain records, then the same walk runs
 * over those.
 *
 * Only an answer that shapes without a single error is shaped here: the first thing Apollo would
 * report or bubble up (a null in a non-null field, a value its type refuses, an unknown
 * `__typename`, an introspection field, an `@skip`/`@include` variable that is not a boolean)
 * hands the whole answer to Apollo's own computeResponse, which reads only the merged answers
 * (this never changes them), so such a result is Apollo's to the byte. Results shaped here are
 * the same JSON: same keys in the same order, same values. Their objects are plain ones where
 * Apollo's have no prototype (a response name Object.prototype has is left to Apollo): V8 keeps
 * those in dictionary mode, and the response's JSON.stringify took about 85 us a page over
 * them, 50 over these.
 */
import { createRequire } from "node:module";
import {
  isCompositeType,
  isCustomScalarType,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  isSubtype,
  isValidLeafValue,
  Variable,
  type CompositeType,
  type Field,
  type FragmentElement,
  type EnumType,
  type ScalarType,
  type NamedType,
  type Operation,
  type Schema,
  type SelectionSet,
  type Type,
} from "@apollo/federation-internals";

type ComputeResponse = (options: { operation: Operation; variables?: Record<string, unknown>; input: Record<string, unknown> | null | undefined; introspectionHandling: unknown }) => {
  data: Record<string, unknown> | null | undefined;
  errors: unknown[];
};

/** Apollo's own module, as its executeQueryPlan reads computeResponse from it at every call. */
interface ResultShapingModule {
  computeResponse: ComputeResponse;
}

/** Thrown at the first thing Apollo would report: Apollo then shapes the answer itself. */
const HAND_TO_APOLLO = Symbol("hand to Apollo");

/** Whether the selection applies, from its first @skip and first @include (as Apollo reads them). */
type Condition = { skip?: boolean | string; include?: boolean | string } | undefined;

type Shape =
  | { kind: "nonNull"; of: Shape }
  | { kind: "list"; of: Shape }
  | { kind: "composite"; type: CompositeType }
  | { kind: "leaf"; valid: (value: unknown) => boolean };

type CompiledSelection =
  | { kind: "field"; condition: Condition; responseName: string; isTypename: boolean; shape: Shape; selections: CompiledSelection[] | undefined }
  | { kind: "fragment"; condition: Condition; typeCondition: CompositeType | undefined; selections: CompiledSelection[] };

interface Walk {
  schema: Schema;
  types: Map<string, NamedType | undefined>;
  variables: Record<string, unknown>;
  /** Only for a field's description in Apollo's errors; here, kept as Apollo keeps it. */
  path: (string | number)[];
}

let installed = false;

/** Puts this shaping in front of Apollo's computeResponse (once per process; Apollo's stays the fallback). */
export function installResultShaping(): void {
  if (installed) return;
  const apollo = createRequire(import.meta.url)("@apollo/gateway/dist/resultShaping.js") as ResultShapingModule;
  const apolloComputeResponse = apollo.computeResponse;
  if (typeof apolloComputeResponse !== "function") return;
  apollo.computeResponse = (options) => shapeResult(options, apolloComputeResponse);
  installed = true;
}

/** computeResponse's contract: the operation's data out of the merged `input`, and Apollo's errors. */
export function shapeResult(options: Parameters<ComputeResponse>[0], apolloComputeResponse: ComputeResponse): ReturnType<ComputeResponse> {
  const { operation, variables, input } = options;
  if (!input) return apolloComputeResponse(options);
  try {
    const schema = operation.schema();
    const walk: Walk = {
      schema,
      types: typesOf(schema),
      variables: { __proto__: null, ...operation.collectDefaultedVariableValues(), ...variables } as Record<string, unknown>,
      path: [],
    };
    const data = {} as Record<string, unknown>;
    applySelections(walk, input, compile(schema, operation.selectionSet), data, schema.schemaDefinition.rootType(operation.rootKind)!);
    return { data, errors: [] };
  } catch (error) {
    if (error === HAND_TO_APOLLO) return apolloComputeResponse(options);
    throw error;
  }
}

function compile(schema: Schema, selectionSet: SelectionSet): CompiledSelection[] {
  const compiled: CompiledSelection[] = [];
  for (const selection of selectionSet.selections()) {
    const condition = conditionOf(schema, selection.element);
    if (selection.kind === "FieldSelection") {
      const field = selection.element;
      // A response name Object.prototype has (`constructor`, `__proto__`) would not be a plain key of a plain object.
      if (field.definition.isSchemaIntrospectionField() || field.responseName() in Object.prototype) throw HAND_TO_APOLLO;
      compiled.push({
        kind: "field",
        condition,
        responseName: field.responseName(),
        isTypename: field.name === "__typename",
        shape: shapeOf(schema, field.definition.type!),
        selections: selection.selectionSet ? compile(schema, selection.selectionSet) : undefined,
      });
    } else {
      compiled.push({ kind: "fragment", condition, typeCondition: selection.element.typeCondition, selections: compile(schema, selection.selectionSet) });
    }
  }
  return compiled;
}

function conditionOf(schema: Schema, element: Field | FragmentElement): Condition {
  const skip = element.appliedDirectivesOf(schema.skipDirective())[0];
  const include = element.appliedDirectivesOf(schema.includeDirective())[0];
  if (!skip && !include) return undefined;
  const ifOf = (directive: typeof skip) => {
    const value = directive!.arguments().if as unknown;
    return value instanceof Variable ? value.name : (value as boolean);
  };
  return { ...(skip ? { skip: ifOf(skip) } : {}), ...(include ? { include: ifOf(include) } : {}) };
}

function shapeOf(schema: Schema, type: Type): Shape {
  if (isNonNullType(type)) return { kind: "nonNull", of: shapeOf(schema, type.ofType) };
  if (isListType(type)) return { kind: "list", of: shapeOf(schema, type.ofType) };
  if (isCompositeType(type)) return { kind: "composite", type };
  return { kind: "leaf", valid: leafCheck(schema, type) };
}

/** isValidLeafValue, with what it asks of the type answered once. */
function leafCheck(schema: Schema, type: Type): (value: unknown) => boolean {
  if (isCustomScalarType(type)) return () => true;
  if (type === schema.stringType() && !isEnumType(type)) return (value) => typeof value === "string";
  return (value) => isValidLeafValue(schema, value, type as ScalarType | EnumType);
}

function skipped(condition: Condition, variables: Record<string, unknown>): boolean {
  if (!condition) return false;
  return (condition.skip !== undefined && ifValue(condition.skip, variables)) || (condition.include !== undefined && !ifValue(condition.include, variables));
}

function ifValue(value: boolean | string, variables: Record<string, unknown>): boolean {
  if (typeof value === "boolean") return value;
  const given = variables[value];
  if (typeof given !== "boolean") throw HAND_TO_APOLLO;
  return given;
}

function applySelections(walk: Walk, input: Record<string, unknown>, selections: CompiledSelection[], output: Record<string, unknown>, parentType: NamedType): void {
  for (const selection of selections) {
    if (skipped(selection.condition, walk.variables)) continue;
    if (selection.kind === "field") {
      const { responseName } = selection;
      const outputValue = output[responseName];
      let inputValue = Object.hasOwn(input, responseName) ? (input[responseName] ?? null) : null;
      if (selection.isTypename) {
        if (outputValue === undefined) {
          if (inputValue === null && responseName !== "__typename") inputValue = input.__typename ?? null;
          const type = typeof inputValue === "string" ? (typeNamed(walk, inputValue) ?? parentType) : parentType;
          if (!isObjectType(type)) throw HAND_TO_APOLLO;
          output[responseName] = type.name;
        }
        continue;
      }
      walk.path.push(responseName);
      output[responseName] = updateOutputValue(walk, outputValue, selection.shape, inputValue, selection.selections);
      walk.path.pop();
    } else {
      const typename = input.__typename;
      if (typename !== undefined && typename !== null && typename !== "" && typeof typename !== "string") throw HAND_TO_APOLLO;
      if (typeConditionApplies(walk, selection.typeCondition, typename as string | undefined, parentType)) {
        applySelections(walk, input, selection.selections, output, selection.typeCondition ?? parentType);
      }
    }
  }
}

function updateOutputValue(walk: Walk, outputValue: unknown, shape: Shape, inputValue: unknown, selections: CompiledSelection[] | undefined): unknown {
  if (outputValue === null || (outputValue !== undefined && !selections)) return outputValue;
  switch (shape.kind) {
    case "nonNull": {
      const updated = updateOutputValue(walk, outputValue, shape.of, inputValue, selections);
      if (updated === null) throw HAND_TO_APOLLO;
      return updated;
    }
    case "list": {
      if (inputValue === null) return null;
      if (!Array.isArray(inputValue) || (outputValue !== undefined && (!Array.isArray(outputValue) || outputValue.length !== inputValue.length))) throw HAND_TO_APOLLO;
      const updated = new Array<unknown>(inputValue.length);
      for (let index = 0; index < inputValue.length; index++) {
        walk.path.push(index);
        updated[index] = updateOutputValue(walk, outputValue === undefined ? undefined : (outputValue as unknown[])[index], shape.of, inputValue[index], selections);
        walk.path.pop();
      }
      return updated;
    }
    case "composite": {
      if (inputValue === null) return null;
      if (!selections || typeof inputValue !== "object" || (outputValue !== undefined && typeof outputValue !== "object")) throw HAND_TO_APOLLO;
      const input = inputValue as Record<string, unknown>;
      const typename = input.__typename;
      if (typename !== undefined && typeof typename !== "string") throw HAND_TO_APOLLO;
      let type: NamedType = shape.type;
      if (typename) {
        const named = typeNamed(walk, typename);
        if (!named || !isCompositeType(named)) throw HAND_TO_APOLLO;
        type = named;
      }
      const output = (outputValue ?? {}) as Record<string, unknown>;
      applySelections(walk, input, selections, output, type);
      return output;
    }
    case "leaf": {
      if (inputValue === null) return null;
      if (outputValue !== undefined || !shape.valid(inputValue)) throw HAND_TO_APOLLO;
      return inputValue;
    }
  }
}

function typeConditionApplies(walk: Walk, typeCondition: CompositeType | undefined, typename: string | undefined, parentType: NamedType): boolean {
  if (!typeCondition) return true;
  if (typename) {
    const type = typeNamed(walk, typename);
    return !!type && isSubtype(typeCondition, type);
  }
  return isSubtype(typeCondition, parentType);
}

/** schema.type(name), kept per schema (the API schema lives as long as the gateway's supergraph). */
const typesBySchema = new WeakMap<Schema, Map<string, NamedType | undefined>>();

function typesOf(schema: Schema): Map<string, NamedType | undefined> {
  let types = typesBySchema.get(schema);
  if (!types) typesBySchema.set(schema, (types = new Map()));
  return types;
}

function typeNamed(walk: Walk, name: string): NamedType | undefined {
  if (walk.types.has(name)) return walk.types.get(name);
  const type = walk.schema.type(name);
  walk.types.set(name, type);
  return type;
}
