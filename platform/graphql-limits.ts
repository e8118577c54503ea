/**
 * What one GraphQL operation may cost, checked at the gateway and at every subgraph before any
 * resolver runs or any query plan is built. Each limit is refused with `OPERATION_TOO_COMPLEX`
 * and `extensions.limit` naming it. Kept libraries do the counting:
 * - tokens: graphql-js stops parsing at the first token over `maxTokens` (Apollo's `parseOptions`),
 *   so a 20,000-alias document costs a few milliseconds, not a full parse;
 * - fragment fan-out: Apollo Server's `maxRecursiveSelections` counts selections with every
 *   fragment spread expanded (memoised per fragment) in the first validation pass; every other
 *   rule runs only on documents that passed it, so none of them can be made to explode;
 * - depth, aliases and directives: The Guild's GraphQL Armor validation rules;
 * - cost: graphql-query-complexity, with the request's variables, once the operation is known.
 * Root fields are counted here: no kept library counts them.
 */
import { maxAliasesRule } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthRule } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesRule } from "@escape.tech/graphql-armor-max-directives";
import type { ApolloServerPlugin, BaseContext, GraphQLRequestContextDidResolveOperation } from "@apollo/server";
import { getComplexity, type ComplexityEstimator } from "graphql-query-complexity";
import {
  GraphQLError,
  Kind,
  getNullableType,
  isListType,
  visit,
  type ASTVisitor,
  type DocumentNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type TypeNode,
  type ValidationContext,
  type ValidationRule,
} from "graphql";
import type { LimitsConfig } from "./config/limits-config.ts";
import { graphQLError } from "./errors.ts";
import { LruMap } from "./lru-map.ts";

export type GraphQLLimits = LimitsConfig["graphql"];

/** The limit an operation went over, as `extensions.limit` names it. */
export type OperationLimit = "depth" | "aliases" | "rootFields" | "directives" | "tokens" | "selections" | "cost";

/** The error that refuses an operation over a limit: 400, `OPERATION_TOO_COMPLEX`, the limit named. */
export function operationTooComplex(limit: OperationLimit, message: string, max: number): GraphQLError {
  return graphQLError("OPERATION_TOO_COMPLEX", message, { limit, max, http: { status: 400 } });
}

/**
 * A subgraph's limits: the gateway's, with room for what query planning adds to the operations
 * the gateway sends (fragments inlined, key fields and `__typename` added to every entity, an
 * alias where two parents' fields merge), so that nothing the gateway admitted is refused
 * behind it. Depth and directives do not grow in planning; the counts and the cost get four
 * times the room. A caller at a subgraph's own port is still refused within milliseconds.
 */
export function subgraphLimits(limits: GraphQLLimits): GraphQLLimits {
  const ROOM = 4;
  return {
    ...limits,
    maxAliases: limits.maxAliases * ROOM,
    maxRootFields: limits.maxRootFields * ROOM,
    maxTokens: limits.maxTokens * ROOM,
    maxSelections: limits.maxSelections * ROOM,
    maxCost: limits.maxCost * ROOM,
  };
}

/** The part of an Apollo Server's configuration that applies the limits (spread it in). */
export function graphQLLimitOptions(limits: GraphQLLimits) {
  return {
    parseOptions: { maxTokens: limits.maxTokens },
    maxRecursiveSelections: limits.maxSelections,
    validationRules: limitRules(limits),
  };
}

/** The validation rules of the limits that need no variables (the graphql-ws server runs them too). */
export function limitRules(limits: GraphQLLimits): ValidationRule[] {
  const refuse = (limit: OperationLimit, max: number) => ({
    exposeLimits: true,
    propagateOnRejection: false,
    onReject: [
      (context: ValidationContext | null, error: GraphQLError) =>
        context?.reportError(operationTooComplex(limit, `The operation is over the ${limit} limit: ${error.message.replace(/^Syntax Error: /, "")}`, max)),
    ],
  });
  return [
    maxDepthRule({ n: limits.maxDepth, flattenFragments: true, ...refuse("depth", limits.maxDepth) }),
    maxAliasesRule({ n: limits.maxAliases, ...refuse("aliases", limits.maxAliases) }),
    maxDirectivesRule({ n: limits.maxDirectives, ...refuse("directives", limits.maxDirectives) }),
    maxRootFieldsRule(limits.maxRootFields),
  ];
}

/** Fields at the root of each operation, through fragments and inline fragments at that level. */
function maxRootFieldsRule(max: number): ValidationRule {
  return (context): ASTVisitor => {
    const count = (selectionSet: SelectionSetNode, seen: Set<string>): number => {
      let fields = 0;
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) fields++;
        else if (selection.kind === Kind.INLINE_FRAGMENT) fields += count(selection.selectionSet, seen);
        else if (!seen.has(selection.name.value)) {
          // A fragment spread twice at the root selects the same fields twice: they merge.
          seen.add(selection.name.value);
          const fragment = context.getFragment(selection.name.value);
          if (fragment) fields += count(fragment.selectionSet, seen);
        }
      }
      return fields;
    };
    return {
      OperationDefinition(operation) {
        const found = count(operation.selectionSet, new Set());
        if (found > max) context.reportError(operationTooComplex("rootFields", `The operation is over the rootFields limit: ${found} root fields, at most ${max}.`, max));
        return false;
      },
    };
  };
}

/**
 * Cost: one per field; below a field with `first` (or a subgraph's `_entities` with its
 * representations) its selections count that many times, below any other list `defaultListSize`
 * times. A Relay connection's `edges` is sized by the connection's `first`, not again.
 */
function listSizeEstimator(defaultListSize: number): ComplexityEstimator {
  return ({ type, field, args, childComplexity }) => {
    const first = typeof args.first === "number" && args.first >= 0 ? args.first : undefined;
    const representations = Array.isArray(args.representations) ? args.representations.length : undefined;
    const isList = isListType(getNullableType(field.type));
    const sizedByConnection = field.name === "edges" && type.name.endsWith("Connection");
    const size = first ?? representations ?? (isList && !sizedByConnection ? defaultListSize : 1);
    return 1 + size * childComplexity;
  };
}

/** The operation's estimated cost with the request's variables. */
export function operationCost(limits: GraphQLLimits, schema: Parameters<typeof getComplexity>[0]["schema"], document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown> | undefined): number {
  // Only the operation that runs, with the fragments: the library would count every operation.
  const query: DocumentNode = { kind: Kind.DOCUMENT, definitions: [operation, ...document.definitions.filter((definition) => definition.kind === Kind.FRAGMENT_DEFINITION)] };
  try {
    return getComplexity({ schema, query, variables: variables ?? {}, estimators: [listSizeEstimator(limits.defaultListSize)], maxQueryNodes: limits.maxSelections * 2 });
  } catch (error) {
    if (error instanceof GraphQLError && /maximum allowed number of nodes/.test(error.message)) return Number.POSITIVE_INFINITY;
    // Variables that do not coerce: execution answers them with BAD_USER_INPUT, before any resolver.
    if (error instanceof GraphQLError) return 0;
    throw error;
  }
}

const NUL = "\u0000";

/** Whether any string in a JSON value contains a NUL character. */
function containsNul(value: unknown): boolean {
  if (typeof value === "string") return value.includes(NUL);
  if (Array.isArray(value)) return value.some(containsNul);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsNul);
  return false;
}

function documentContainsNul(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    StringValue(node) {
      if (node.value.includes(NUL)) found = true;
    },
  });
  return found;
}

/** Distinct variable sets whose cost is kept per document; the least recently used goes first. */
const COSTS_KEPT_PER_DOCUMENT = 256;
/** Variables longer than this as a key are costed afresh rather than kept. */
const LONGEST_COST_KEY = 2_048;

/**
 * What the checks found of each document, kept while Apollo keeps the document: it hands back
 * the same parsed document for the same text (its document store), so the gateway's repeated
 * fetches reach a subgraph as documents already checked. Costing walks the whole document with
 * its type information (a sixteenth of a subgraph's CPU under bench:gateway's distinct-pages
 * load, before this); the NUL scan is the document's alone, and the cost is the document's with
 * the variables the estimate reads (costKey).
 */
class CheckedDocuments {
  private readonly documents = new WeakMap<DocumentNode, { schema: GraphQLSchema; containsNul: boolean; costs: LruMap<string, number> }>();

  constructor(private readonly limits: GraphQLLimits) {}

  containsNul(schema: GraphQLSchema, document: DocumentNode): boolean {
    return this.of(schema, document).containsNul;
  }

  cost(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown> | undefined): number {
    const key = costKey(operation, variables);
    if (key === undefined || key.length > LONGEST_COST_KEY) return operationCost(this.limits, schema, document, operation, variables);
    const { costs } = this.of(schema, document);
    let cost = costs.get(key);
    if (cost === undefined) costs.set(key, (cost = operationCost(this.limits, schema, document, operation, variables)));
    return cost;
  }

  private of(schema: GraphQLSchema, document: DocumentNode) {
    let facts = this.documents.get(document);
    // A document is checked against the schema it was parsed for; a new schema, a fresh check.
    if (!facts || facts.schema !== schema) this.documents.set(document, (facts = { schema, containsNul: documentContainsNul(document), costs: new LruMap(COSTS_KEPT_PER_DOCUMENT) }));
    return facts;
  }
}

/**
 * The operation and its variables as far as the cost can tell them apart: the estimate reads
 * only the operation's declared variables (coerced as execution will), and of a subgraph's
 * `representations: [_Any!]!` only how many there are, because `_Any` takes any value that is
 * not null; every other variable counts by its exact value. Undefined: cost it afresh.
 */
function costKey(operation: OperationDefinitionNode, variables: Record<string, unknown> | undefined): string | undefined {
  const parts = [operation.name?.value ?? ""];
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    const value = variables?.[name];
    if (isRepresentationList(definition.type) && Array.isArray(value) && value.every((item) => item !== null && item !== undefined)) parts.push(`${name}#${value.length}`);
    else parts.push(`${name}=${value === undefined ? "" : JSON.stringify(value)}`);
  }
  return parts.join("\n");
}

/** `[_Any!]!`, the type of `_entities(representations:)`. */
function isRepresentationList(type: TypeNode): boolean {
  return (
    type.kind === Kind.NON_NULL_TYPE &&
    type.type.kind === Kind.LIST_TYPE &&
    type.type.type.kind === Kind.NON_NULL_TYPE &&
    type.type.type.type.kind === Kind.NAMED_TYPE &&
    type.type.type.type.name.value === "_Any"
  );
}

export interface OperationLimitsOptions<TContext> {
  /** Told the estimated cost of each admitted operation before it runs (the gateway's per-client cost quota); may throw to refuse it. */
  onCost?: (cost: number, context: TContext) => Promise<void>;
}

/**
 * The checks made once the operation is known, before the gateway plans it or any resolver runs:
 * that an operation was chosen (an `operationName` naming none, or several operations with none
 * named, would reach the executor without one), that it is not a subscription (served over
 * graphql-ws), that no text carries a NUL (PostgreSQL refuses it in text), and that its cost is
 * within limits. Throws the refusal; answers the cost of an admitted operation.
 */
export type OperationCheck = (
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode | null | undefined,
  request: { operationName?: string | null | undefined; variables?: Record<string, unknown> | null | undefined },
) => number;

export function operationCheck(limits: GraphQLLimits): OperationCheck {
  const checked = new CheckedDocuments(limits);
  return (schema, document, operation, request) => {
    if (!operation) {
      const named = request.operationName;
      throw graphQLError(
        "OPERATION_RESOLUTION_FAILURE",
        named ? `No operation named "${named}" in the document` : "The document holds several operations: name the one to run with `operationName`",
        { http: { status: 400 } },
      );
    }
    if (operation.operation === "subscription") {
      throw graphQLError("OPERATION_NOT_SUPPORTED", "Subscriptions are served over graphql-ws on /graphql (WebSocket), not over HTTP", { http: { status: 400 } });
    }
    const variables = request.variables ?? undefined;
    if (containsNul(variables) || checked.containsNul(schema, document)) {
      throw graphQLError("BAD_USER_INPUT", "Text may not contain a NUL character (\\u0000)", { http: { status: 400 } });
    }
    const cost = checked.cost(schema, document, operation, variables);
    if (cost > limits.maxCost) {
      throw operationTooComplex("cost", `The operation is over the cost limit: estimated ${Number.isFinite(cost) ? cost : "more than can be counted"}, at most ${limits.maxCost}. Ask for fewer items (\`first\`) or fewer fields.`, limits.maxCost);
    }
    return cost;
  };
}

/** The operation checks (operationCheck) in Apollo Server's pipeline, before the gateway plans or any resolver runs. */
export function operationLimitsPlugin<TContext extends BaseContext>(limits: GraphQLLimits, options: OperationLimitsOptions<TContext> = {}): ApolloServerPlugin<TContext> {
  const check = operationCheck(limits);
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(requestContext: GraphQLRequestContextDidResolveOperation<TContext>) {
          const { operation, document, request, schema } = requestContext;
          const cost = check(schema, document, operation, request);
          await options.onCost?.(cost, requestContext.contextValue);
        },
      };
    },
  };
}

const TOKEN_LIMIT = /Document contains more tha[nt] (\d+) tokens/; // graphql-js 16 spells it "more that";

/**
 * The limit errors as clients see them: the parser's token limit and Apollo's selection limit
 * arrive as GRAPHQL_PARSE_FAILED / GRAPHQL_VALIDATION_FAILED, and Apollo re-codes the
 * validation rules' errors as GRAPHQL_VALIDATION_FAILED; all become OPERATION_TOO_COMPLEX.
 */
export function asLimitError(formatted: GraphQLFormattedError): GraphQLFormattedError {
  const extensions = formatted.extensions ?? {};
  const tokens = extensions.code === "GRAPHQL_PARSE_FAILED" ? TOKEN_LIMIT.exec(formatted.message) : null;
  if (tokens) {
    return { message: `The operation is over the tokens limit: more than ${tokens[1]} tokens.`, extensions: { code: "OPERATION_TOO_COMPLEX", limit: "tokens", max: Number(tokens[1]) } };
  }
  if (extensions.code !== "GRAPHQL_VALIDATION_FAILED") return formatted;
  if (extensions.validationErrorCode === "MAX_RECURSIVE_SELECTIONS_EXCEEDED") {
    return { message: `The operation is over the selections limit: ${formatted.message} Expand fewer fragments.`, extensions: { code: "OPERATION_TOO_COMPLEX", limit: "selections" } };
  }
  if (typeof extensions.limit === "string") {
    const { validationErrorCode: _validationErrorCode, ...rest } = extensions;
    return { message: formatted.message, extensions: { ...rest, code: "OPERATION_TOO_COMPLEX" } };
  }
  return formatted;
}
