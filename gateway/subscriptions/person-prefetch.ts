import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from "@apollo/gateway";
import type { FetchNode, PlanNode, QueryPlanSelectionNode } from "@apollo/query-planner";
import type { GatewayContext } from "../context.ts";
import { ReceiptCollector } from "../scopes/receipts.ts";

/** The event's person: `Alert.user`, which the alerts subgraph resolves as `{ id: alert.userId }`. */
const PERSON_FIELD = "user";
const PERSON_TYPE = "User";

type DataSource = GraphQLDataSource<GatewayContext>;
type ProcessOptions = GraphQLDataSourceProcessOptions<GatewayContext>;
type Response = Awaited<ReturnType<DataSource["process"]>>;
/** What a delivery hands `executeQueryPlan` as its request context (shared-stream.ts). */
interface RequestContext {
  context: GatewayContext;
  request: { variables?: Record<string, unknown> };
}

/**
 * The fetches of a subscription's per-event plan that complete the event's person and nothing
 * else: at `<field>.user`, keyed by `... on User { __typename id }` alone. Their one
 * representation is known from the event before the primary fetch answers (PersonPrefetch).
 */
export function personFetchesOf(rest: PlanNode | undefined, responseKey: string): FetchNode[] {
  const found: FetchNode[] = [];
  const visit = (node: PlanNode): void => {
    if (node.kind === "Sequence" || node.kind === "Parallel") node.nodes.forEach(visit);
    else if (node.kind === "Flatten" && node.node.kind === "Fetch" && node.path.length === 2 && node.path[0] === responseKey && node.path[1] === PERSON_FIELD) {
      const fetch = node.node;
      if (isPersonKey(fetch.requires) && !fetch.inputRewrites?.length && !fetch.contextRewrites?.length) found.push(fetch);
    }
  };
  if (rest) visit(rest);
  return found;
}

function isPersonKey(requires: readonly QueryPlanSelectionNode[] | undefined): boolean {
  const fragment = requires?.length === 1 ? requires[0] : undefined;
  if (fragment?.kind !== "InlineFragment" || fragment.typeCondition !== PERSON_TYPE) return false;
  const names = fragment.selections.map((selection) => (selection.kind === "Field" && !selection.alias && !selection.selections ? selection.name : ""));
  return names.length === 2 && names.includes("__typename") && names.includes("id");
}

interface Started {
  fetch: FetchNode;
  variables: string;
  answer: Promise<{ response: Response; receipts: ReceiptCollector }>;
  taken: boolean;
}

/**
 * One delivery's person fetches, started beside its primary fetch instead of after it: a
 * federated selection's answer then waits for one subgraph round trip less. Each is the very
 * request the plan would send next (the delivery's own token, token check and request id; the
 * event's person as its representation), so nothing is shared between deliveries, and the
 * subgraph applies its consent and scope checks to it as to the plan's own fetch.
 *
 * Stands in for a subgraph while the delivery's plan runs: a request equal to one started here
 * (the operation, and the variables with the representations as the plan built them from the
 * primary's answer) takes that answer, once; any other goes to the subgraph. A started fetch
 * keeps the receipt report of its answer apart until the plan takes it, so an answer the plan
 * does not use (the primary found nothing, or named another person) is neither delivered nor
 * receipted.
 */
export class PersonPrefetch implements DataSource {
  private readonly started: Started[];

  constructor(
    private readonly inner: DataSource,
    fetches: readonly FetchNode[],
    personId: string,
    requestContext: RequestContext,
  ) {
    this.started = fetches.map((fetch) => {
      const variables = planVariables(fetch, requestContext.request.variables, personId);
      const receipts = new ReceiptCollector();
      const answer = inner
        .process({
          kind: "incoming operation",
          request: { query: fetch.operation, variables, operationName: fetch.operationName },
          incomingRequestContext: requestContext,
          context: { ...requestContext.context, receipts },
          document: fetch.operationDocumentNode,
          pathInIncomingRequest: undefined,
        } as unknown as ProcessOptions)
        .then((response) => ({ response, receipts }));
      // Not taken (the primary found nothing): its failure, if any, is nobody's.
      answer.catch(() => undefined);
      return { fetch, variables: JSON.stringify(variables), answer, taken: false };
    });
  }

  async process(options: ProcessOptions): Promise<Response> {
    const { request } = options;
    const started = request.http
      ? undefined
      : this.started.find(
          (candidate) =>
            !candidate.taken &&
            candidate.fetch.operation === request.query &&
            candidate.fetch.operationName === request.operationName &&
            candidate.variables === JSON.stringify(request.variables),
        );
    if (!started) return this.inner.process(options);
    started.taken = true;
    const { response, receipts } = await started.answer;
    options.context.receipts?.addAll(receipts);
    return response;
  }
}

/** The variables `executeQueryPlan` sends with a fetch for one entity, in its order: the operation's used variables, then the representations. */
function planVariables(fetch: FetchNode, given: Record<string, unknown> | undefined, personId: string): Record<string, unknown> {
  const variables: Record<string, unknown> = {};
  for (const name of fetch.variableUsages ?? []) if (given && Object.hasOwn(given, name) && given[name] !== undefined) variables[name] = given[name];
  const fragment = fetch.requires![0] as Extract<QueryPlanSelectionNode, { kind: "InlineFragment" }>;
  const representation: Record<string, string> = {};
  for (const selection of fragment.selections) if (selection.kind === "Field") representation[selection.name] = selection.name === "id" ? personId : PERSON_TYPE;
  variables.representations = [representation];
  return variables;
}
