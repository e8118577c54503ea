import { operationFromDocument, Supergraph, type Schema } from "@apollo/federation-internals";
import { buildOperationContext } from "@apollo/gateway";
import { QueryPlanner, type FetchNode, type QueryPlan } from "@apollo/query-planner";
import { getNamedType, Kind, print, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from "graphql";
import { LruMap } from "../../platform/lru-map.ts";
import { personFetchesOf } from "./person-prefetch.ts";
import { OperationFilter, type FilteredOperation } from "../scopes/operation-filter.ts";
import { readSupergraphSecurity } from "../scopes/supergraph-rules.ts";

/** A subscription, planned for one set of scopes: what the owning subgraph streams, and the rest. */
export interface PlannedSubscription {
  filtered: FilteredOperation;
  /** The owning subgraph's part: the fetch each event answers. */
  primary: FetchNode;
  /** `primary` then the fetches to the other subgraphs, as a plan `executeQueryPlan` accepts. */
  perEvent: QueryPlan;
  /** The fetches after `primary` that complete only the event's person, by subgraph: started beside it (person-prefetch.ts). */
  personFetches: ReadonlyMap<string, readonly FetchNode[]>;
  operationContext: OperationContext;
  /** The filtered operation's text, as each event's request carries it (printed once, not per event). */
  query: string;
  /** The subscription field's response key (its alias or name) and the entity type it returns. */
  responseKey: string;
  entityType: string;
}

type OperationContext = ReturnType<typeof buildOperationContext>;

const CACHE_SIZE = 500;

/**
 * Plans subscriptions with `@apollo/gateway`'s own query planner. The planner already plans a
 * subscription like a query: a `Subscription` node whose `primary` fetch goes to the subgraph
 * that owns the field and whose `rest` completes each event from the others (`_entities`).
 * `executeQueryPlan` refuses a `Subscription` root, so each event runs `Sequence[primary, rest]`.
 * Fields the token's scopes do not cover are removed first, by the same filter the gateway
 * applies to queries.
 */
export class SubscriptionPlanner {
  /** The public schema, for validating operations. */
  readonly apiSchema: GraphQLSchema;
  readonly supergraphSchema: GraphQLSchema;
  readonly api: Schema;
  private readonly planner: QueryPlanner;
  private readonly filter: OperationFilter;
  private readonly cache = new LruMap<string, PlannedSubscription>(CACHE_SIZE);

  constructor(
    supergraphSdl: string,
    private readonly enforceScopes = true,
  ) {
    const security = readSupergraphSecurity(supergraphSdl);
    const supergraph = Supergraph.build(security.gatewaySdl);
    this.api = supergraph.apiSchema();
    this.apiSchema = this.api.toGraphQLJSSchema();
    this.supergraphSchema = supergraph.schema.toGraphQLJSSchema();
    this.planner = new QueryPlanner(supergraph);
    this.filter = new OperationFilter(this.apiSchema, security.fieldRules, security.argumentRules);
  }

  plan(document: DocumentNode, operationName: string | null | undefined, granted: ReadonlySet<string>, documentKey: string): PlannedSubscription {
    const scopes = this.enforceScopes ? [...granted].sort().join(" ") : "*";
    const key = `${documentKey}\u0000${operationName ?? ""}\u0000${scopes}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const filtered: FilteredOperation = this.enforceScopes
      ? this.filter.filter(document, operationName, granted)
      : { document, removals: [], signature: "", dataIsNull: false, variableDefaults: {} };
    const operation = operationFromDocument(this.api, filtered.document, { operationName: operationName ?? undefined });
    const queryPlan = this.planner.buildQueryPlan(operation);
    const node = queryPlan.node;
    if (!node || node.kind !== "Subscription") throw new Error("The operation is not a subscription the planner can run");
    const perEvent: QueryPlan = { kind: "QueryPlan", node: node.rest ? { kind: "Sequence", nodes: [node.primary, node.rest] } : node.primary };
    const definition = filtered.document.definitions.find(
      (candidate): candidate is OperationDefinitionNode =>
        candidate.kind === Kind.OPERATION_DEFINITION && (!operationName || candidate.name?.value === operationName),
    );
    const field = definition?.selectionSet.selections.find((selection) => selection.kind === Kind.FIELD);
    if (!field || field.kind !== Kind.FIELD) throw new Error("A subscription selects exactly one field");
    const fieldDefinition = this.apiSchema.getSubscriptionType()?.getFields()[field.name.value];
    if (!fieldDefinition) throw new Error(`Unknown subscription field ${field.name.value}`);
    const responseKey = field.alias?.value ?? field.name.value;
    const personFetches = new Map<string, FetchNode[]>();
    for (const fetch of personFetchesOf(node.rest, responseKey)) {
      if (fetch.serviceName !== node.primary.serviceName) personFetches.set(fetch.serviceName, [...(personFetches.get(fetch.serviceName) ?? []), fetch]);
    }
    const planned: PlannedSubscription = {
      filtered,
      primary: node.primary,
      perEvent,
      personFetches,
      operationContext: buildOperationContext({ schema: this.apiSchema, operationDocument: filtered.document, ...(operationName ? { operationName } : {}) }),
      query: print(filtered.document),
      responseKey,
      entityType: getNamedType(fieldDefinition.type).name,
    };
    this.cache.set(key, planned);
    return planned;
  }
}
