import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from "@apollo/gateway";
import { Kind, parse, print, visit, type DocumentNode, type FieldNode, type OperationDefinitionNode, type VariableDefinitionNode } from "graphql";
import { LruMap } from "../../platform/lru-map.ts";
import type { GatewayContext } from "../context.ts";

/** The owning subgraph's subscription fetch, rewritten as an entity fetch for one event. */
export interface PrimaryTranslation {
  /** The planner's fetch operation (`subscription { alertCreated(...) { ... } }`). */
  original: string;
  query: string;
  document: DocumentNode;
  operationName: string | undefined;
  /** Variables the rewritten query still uses (beside `$representations`). */
  variables: readonly string[];
  responseKey: string;
}

const translations = new LruMap<string, PrimaryTranslation>(1_000);

/**
 * `subscription { alertCreated(...) { <selection> } }` becomes
 * `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Alert { <selection> } } }`:
 * the event is read back through the owning subgraph with the subscriber's own token, so the
 * subgraph's scope, consent and tenant checks apply to it exactly as to a query.
 */
export function translatePrimary(operation: string, entityType: string): PrimaryTranslation {
  const cached = translations.get(operation);
  if (cached) return cached;
  const document = parse(operation);
  const definition = document.definitions[0] as OperationDefinitionNode;
  const field = definition.selectionSet.selections[0] as FieldNode;
  if (!field.selectionSet) throw new Error("The subscription field returns an object");
  const used = new Set<string>();
  visit(field.selectionSet, { Variable: (node) => void used.add(node.name.value) });
  const keep = (definition.variableDefinitions ?? []).filter((variable) => used.has(variable.variable.name.value));
  const representations: VariableDefinitionNode = {
    kind: Kind.VARIABLE_DEFINITION,
    variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: "representations" } },
    type: {
      kind: Kind.NON_NULL_TYPE,
      type: { kind: Kind.LIST_TYPE, type: { kind: Kind.NON_NULL_TYPE, type: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: "_Any" } } } },
    },
  };
  const rewritten: DocumentNode = {
    kind: Kind.DOCUMENT,
    definitions: [
      {
        ...definition,
        operation: "query" as OperationDefinitionNode["operation"],
        variableDefinitions: [representations, ...keep],
        selectionSet: {
          kind: Kind.SELECTION_SET,
          selections: [
            {
              kind: Kind.FIELD,
              name: { kind: Kind.NAME, value: "_entities" },
              arguments: [{ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: "representations" }, value: representations.variable }],
              selectionSet: {
                kind: Kind.SELECTION_SET,
                selections: [{ kind: Kind.INLINE_FRAGMENT, typeCondition: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: entityType } }, selectionSet: field.selectionSet }],
              },
            },
          ],
        },
      } as OperationDefinitionNode,
    ],
  };
  const translation: PrimaryTranslation = {
    original: operation,
    query: print(rewritten),
    document: rewritten,
    operationName: definition.name?.value,
    variables: keep.map((variable) => variable.variable.name.value),
    responseKey: field.alias?.value ?? field.name.value,
  };
  translations.set(operation, translation);
  return translation;
}

/**
 * Stands in for the owning subgraph while one event runs through the plan: the primary fetch
 * reads that event's entity; any other fetch to the same subgraph goes through unchanged.
 */
export class PrimaryFetchSource implements GraphQLDataSource<GatewayContext> {
  /** Whether the subgraph returned the event's entity (it returns null when this token may not see it). */
  found = false;
  /**
   * Why the entity could not be read at all (the subgraph unreachable, timed out, or its read
   * failed): unlike a null entity, this says nothing about whether the event is the subscriber's.
   */
  failure: Error | undefined;

  constructor(
    private readonly inner: GraphQLDataSource<GatewayContext>,
    private readonly translation: PrimaryTranslation,
    private readonly representation: { __typename: string; id: string },
  ) {}

  async process(options: GraphQLDataSourceProcessOptions<GatewayContext>) {
    if (options.request.query !== this.translation.original) return this.inner.process(options);
    const given = options.request.variables ?? {};
    const variables: Record<string, unknown> = { representations: [this.representation] };
    for (const name of this.translation.variables) if (name in given) variables[name] = given[name];
    let response: Awaited<ReturnType<GraphQLDataSource<GatewayContext>["process"]>>;
    try {
      response = await this.inner.process({
        ...options,
        request: { ...options.request, query: this.translation.query, operationName: this.translation.operationName, variables },
        document: this.translation.document,
      } as GraphQLDataSourceProcessOptions<GatewayContext>);
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error));
      throw error;
    }
    const entities = (response.data as { _entities?: unknown[] } | null | undefined)?._entities;
    const key = this.translation.responseKey;
    this.found = entities?.[0] !== null && entities?.[0] !== undefined;
    // A hidden entity is a null without an error; a null with one is a read that failed.
    if (!this.found && response.errors?.length) this.failure = new Error(`the ${this.representation.__typename} could not be read: ${response.errors.map((error) => error.extensions?.code ?? error.message).join(", ")}`);
    return {
      ...response,
      data: response.data === undefined ? undefined : { [key]: entities?.[0] ?? null },
      ...(response.errors
        ? {
            errors: response.errors.map((error) =>
              error.path?.[0] === "_entities" ? { ...error, path: [key, ...error.path.slice(2)] } : error,
            ),
          }
        : {}),
    };
  }
}
