import { createHash } from "node:crypto";
import { ApolloGateway, type GatewayConfig } from "@apollo/gateway";
import type { ApolloServerOptionsWithGateway } from "@apollo/server";
import { graphQLError } from "../../platform/errors.ts";
import { LruMap } from "../../platform/lru-map.ts";
import type { Logger } from "../../platform/logger.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import { PRODUCTS, UsageCounter } from "../../platform/metering/usage-counter.ts";
import type { GatewayContext } from "../context.ts";
import { nullRemovedFields, OperationFilter, unauthorizedErrors, type FilteredOperation } from "./operation-filter.ts";
import { ReceiptCollector, ReceiptWriter } from "./receipts.ts";
import type { GraphQLPersonIds } from "../pairwise/graphql-person-ids.ts";
import { print } from "graphql";
import { readSupergraphSecurity, type SupergraphSecurity } from "./supergraph-rules.ts";
import { InflightFetches, type Shared } from "../inflight-fetches.ts";
import { callerState } from "../caller-state.ts";
import { copyJson } from "../../platform/json-copy.ts";
import { markFinal } from "../shared-answers.ts";
import { activeMetrics } from "../../platform/observability/metrics.ts";

type GatewayInterface = ApolloServerOptionsWithGateway<GatewayContext>["gateway"];
type GatewayExecutor = NonNullable<Awaited<ReturnType<GatewayInterface["load"]>>["executor"]>;
type GatewayRequestContext = Parameters<GatewayExecutor>[0];
type GatewayResult = Awaited<ReturnType<GatewayExecutor>>;

export interface ScopedGatewayOptions {
  supergraphSdl: string;
  /** Everything `ApolloGateway` takes but the supergraph. */
  gateway: Omit<GatewayConfig, "supergraphSdl">;
  /** Where consent receipts are written. */
  prisma: PrismaClient;
  logger: Logger;
  /** False only under UNSAFE_DISABLE_SCOPE_ENFORCEMENT (benchmarks): no field filtering, no receipts. */
  enforce: boolean;
  /** Translates person ids between the client's pairwise ones and ours. */
  personIds: GraphQLPersonIds;
  /** Filtered operations kept, per operation and set of scopes. */
  filterCacheSize?: number;
  /** Identical queries in flight for the same caller share one execution (SHARE_INFLIGHT_FETCHES; default true). */
  shareInflightOperations?: boolean;
}

/** An execution as its sharers get it: the result and what the subgraphs reported it returned. */
interface Execution {
  /** As the executor answered it; shaped in place into `answer` when shared (answerFor). */
  result: GatewayResult;
  /** What the subgraphs reported to the request that ran it, complete once it is over; its sharers' receipts are these (none with enforcement off). */
  receipts: ReceiptCollector | undefined;
  /** Shared: the result shaped once for every sharer, never changed after (answerFor). */
  answer?: GatewayResult;
}

/** Shapes a result in place for the request that gets it (its removed fields, its pairwise person ids). */
type Shape = (result: GatewayResult) => GatewayResult;
type ShapedExecutor = (requestContext: GatewayRequestContext, translateIds: Shape) => Promise<GatewayResult>;


/**
 * `@apollo/gateway` with the Apollo Router's authorization semantics. Before planning, each
 * operation loses the fields the token's scopes do not cover, and those passed an argument they
 * do not cover (see OperationFilter); the
 * filtered operation is planned and run like any other, its plan cached under its own key, so
 * tokens whose scopes remove different fields never share a plan. After execution each removed
 * field is `null` with an `UNAUTHORIZED_FIELD_OR_TYPE` error at its path, and the consent
 * receipts the subgraphs reported are written before the response is released.
 */
export class ScopedGateway implements GatewayInterface {
  private readonly inner: ApolloGateway;
  private readonly security: SupergraphSecurity;
  private readonly filtered: LruMap<string, FilteredOperation & { queryHash: string }>;
  private readonly receiptWriter: ReceiptWriter;
  private readonly usage: UsageCounter;
  private readonly executions = new InflightFetches<Execution>();

  constructor(private readonly options: ScopedGatewayOptions) {
    this.security = readSupergraphSecurity(options.supergraphSdl);
    // Left on, @apollo/gateway probes cloud metadata endpoints at start and sends usage metrics
    // to Apollo's servers every hour. Nothing about this deployment leaves it.
    process.env.APOLLO_TELEMETRY_DISABLED = "true";
    this.inner = new ApolloGateway({ ...options.gateway, supergraphSdl: this.security.gatewaySdl } as GatewayConfig);
    this.filtered = new LruMap(options.filterCacheSize ?? 2000);
    this.receiptWriter = new ReceiptWriter(options.prisma);
    this.usage = new UsageCounter(options.prisma);
    if (!options.enforce) options.logger.warn("UNSAFE_DISABLE_SCOPE_ENFORCEMENT is set: the gateway does not filter fields by scope and writes no consent receipts (benchmarks only); calls are still metered");
  }

  /** Field coordinate → what it needs, as read from the supergraph (docs and tests read it). */
  get fieldRules() {
    return this.security.fieldRules;
  }

  onSchemaLoadOrUpdate(callback: Parameters<GatewayInterface["onSchemaLoadOrUpdate"]>[0]) {
    return this.inner.onSchemaLoadOrUpdate(callback);
  }

  async load(options: Parameters<GatewayInterface["load"]>[0]) {
    const { schema, executor } = await this.inner.load(options);
    let scoped: ShapedExecutor;
    if (this.options.enforce) {
      const filter = new OperationFilter(schema, this.security.fieldRules, this.security.argumentRules);
      scoped = (requestContext, translateIds) => this.execute(requestContext, executor, filter, translateIds);
    } else {
      // Sharing and metering are not enforcement: the benchmark's unenforced side keeps both, so
      // that what it saves is what filtering, guards and receipts cost, and nothing else.
      scoped = async (requestContext, translateIds) => {
        const context = requestContext.context as GatewayContext;
        const result = answerFor(await this.executeShared(requestContext, requestContext.queryHash, context, undefined, executor), translateIds, context);
        await this.countCall(context, billedProduct(context));
        return result;
      };
    }
    return { executor: (requestContext: GatewayRequestContext) => this.withPairwiseIds(requestContext, scoped) };
  }

  /** The client's pairwise person ids in, ours inside, the client's out (graphql-person-ids.ts). */
  private withPairwiseIds(requestContext: GatewayRequestContext, executor: ShapedExecutor): Promise<GatewayResult> {
    const viewer = (requestContext.context as GatewayContext).viewer;
    const { personIds } = this.options;
    const translation = personIds.translateArguments(requestContext.schema, requestContext.document, requestContext.request.variables, viewer);
    const queryHash = translation.documentChanged ? createHash("sha256").update(requestContext.queryHash).update("\u0000persons\u0000").update(print(translation.document)).digest("hex") : requestContext.queryHash;
    const translateIds: Shape = (result) => {
      if (result.data) personIds.translateResult(requestContext.schema, requestContext.document, requestContext.operationName, result.data, viewer);
      return result;
    };
    const translated = { ...requestContext, document: translation.document, queryHash, request: { ...requestContext.request, ...(translation.variables ? { variables: translation.variables } : {}) } };
    return executor(translated, translateIds);
  }

  stop(): Promise<void> {
    return this.inner.stop();
  }

  private async execute(requestContext: GatewayRequestContext, executor: GatewayExecutor, filter: OperationFilter, translateIds: Shape): Promise<GatewayResult> {
    const context = requestContext.context as GatewayContext;
    let receipts = new ReceiptCollector();
    context.receipts = receipts;

    const operation = this.filter(requestContext, context, filter);
    let executed: Shared<Execution> = { value: { result: { data: null }, receipts }, shared: false };
    if (!operation.dataIsNull) {
      const filtered = operation.removals.length === 0 ? requestContext : { ...requestContext, document: operation.document, queryHash: operation.queryHash };
      executed = await this.executeShared(filtered, operation.queryHash, context, receipts, executor);
      // A sharer writes the receipts its execution collected: one list for all of them.
      receipts = executed.value.receipts ?? receipts;
    }
    // The result is shaped only once the receipts' statement is on its way.
    const shape: Shape = (result) => translateIds(operation.removals.length > 0 ? withRemovedFields(result, operation, requestContext.request.variables) : result);
    const answer = (): GatewayResult => answerFor(executed, shape, context);

    const product = billedProduct(context);
    if (!receipts.isEmpty) {
      // The call is counted by the receipts' own statement (metering).
      const written = this.receiptWriter.write({ requestId: context.requestId, viewer: context.viewer, operationName: requestContext.operationName, product }, receipts.entries()).catch((error: unknown) => {
        this.options.logger.error({ err: error, requestId: context.requestId }, "could not write the consent receipt; the response is withheld");
        throw error;
      });
      if (context.holds) {
        // The HTTP server sends the answer only once the receipts are written, and refuses it if
        // they are not: the answer is shaped and encoded meanwhile. The receipts' statement (the
        // batcher starts it on the next turn of the event loop) goes out first.
        context.holds.hold(written);
        await new Promise<void>((resolve) => setImmediate(resolve));
        return answer();
      }
      try {
        await written;
      } catch {
        return { errors: [graphQLError("INTERNAL_SERVER_ERROR", "The consent receipt could not be recorded; no data was returned", { http: { status: 500 } })] };
      }
    } else await this.countCall(context, product);
    return answer();
  }

  /** Meters a call that writes no receipt (none billed: nothing to do). */
  private async countCall(context: GatewayContext, product: string | undefined): Promise<void> {
    if (product === undefined) return;
    try {
      await this.usage.add(context.viewer.clientId, product);
    } catch (error) {
      // No personal data in this answer: it goes out, and the operator hears of the call not billed.
      this.options.logger.error({ err: error, requestId: context.requestId, product }, "could not count a billable call");
    }
  }

  /**
   * Runs the operation, or waits for an identical one in flight for the same caller (a query
   * with the same text, operation name and variables, the same token, DPoP key and checked
   * consent state: caller-state.ts) and takes its result (shaped once for all: answerFor) and
   * what its subgraphs reported. Everything per request stays per
   * request: authentication, rate limits and cost, this request's own record in the receipts
   * (written by execute), pairwise ids. Never a mutation.
   */
  private async executeShared(requestContext: GatewayRequestContext, queryHash: string, context: GatewayContext, receipts: ReceiptCollector | undefined, executor: GatewayExecutor): Promise<Shared<Execution>> {
    const key = this.options.shareInflightOperations === false ? undefined : sharingKey(requestContext, queryHash, context);
    if (key === undefined) return { value: { result: await executor(requestContext), receipts }, shared: false };
    if (this.executions.has(key)) activeMetrics()?.sharedOperations.inc();
    // A waiter never runs the executor, so nothing is collected for it: its receipts are the execution's.
    return this.executions.runShared(key, async () => ({ result: await executor(requestContext), receipts }));
  }

  private filter(requestContext: GatewayRequestContext, context: GatewayContext, filter: OperationFilter): FilteredOperation & { queryHash: string } {
    const scopes = [...context.viewer.scopes].sort().join(" ");
    const operationName = requestContext.request.operationName ?? "";
    const variables = requestContext.request.variables;
    const key = `${requestContext.queryHash}\u0000${operationName}\u0000${scopes}\u0000${variablesShape(variables)}`;
    const cached = this.filtered.get(key);
    if (cached) return cached;
    const operation = filter.filter(requestContext.document, requestContext.request.operationName, context.viewer.scopes, variables ?? {});
    // The gateway keys its plan cache by queryHash (and operationName): the filtered operation
    // gets a hash of its own, shared by every token whose scopes remove the same fields.
    const queryHash = operation.signature
      ? createHash("sha256").update(requestContext.queryHash).update("\u0000scopes\u0000").update(operation.signature).digest("hex")
      : requestContext.queryHash;
    const entry = { ...operation, queryHash };
    this.filtered.set(key, entry);
    return entry;
  }
}

/** The key identical queries of one caller share an execution under; undefined for anything else. */
function sharingKey(requestContext: GatewayRequestContext, queryHash: string, context: GatewayContext): string | undefined {
  if (requestContext.operation.operation !== "query") return undefined;
  const caller = callerState(context);
  if (caller === undefined) return undefined;
  const variables = requestContext.request.variables;
  return `${queryHash}\n${requestContext.operationName ?? ""}\n${variables ? JSON.stringify(variables) : ""}\n${caller}`;
}

/**
 * The answer this request gets: the execution's result, shaped. A shared execution is shaped
 * once, by the first of its sharers to get there (they share one key, so one operation, one
 * caller, one shape), and every sharer is handed that same answer, its data final: encoded once
 * for all of them (shared-answers.ts). The HTTP server writes a /graphql answer as it is; a REST
 * route (no answer holds, context.ts) reshapes the data it gets, so it gets a copy.
 */
function answerFor(execution: Shared<Execution>, shape: Shape, context: GatewayContext): GatewayResult {
  const value = execution.value;
  if (!execution.shared) return shape(value.result);
  if (value.answer === undefined) {
    value.answer = shape(value.result);
    if (value.answer.data) markFinal(value.answer.data);
  }
  const answer = value.answer;
  if (context.holds) return answer;
  return { ...answer, ...(answer.data ? { data: copyJson(answer.data) } : {}), ...(answer.errors ? { errors: [...answer.errors] } : {}) };
}

/** What this operation bills: `graphql` on /graphql; a REST call's product once, for its first operation. */
function billedProduct(context: GatewayContext): string | undefined {
  const billing = context.billing;
  if (!billing) return PRODUCTS.graphql;
  if (billing.counted) return undefined;
  billing.counted = true;
  return billing.product;
}

/**
 * Which variables the request gives, and whether each holds a value: all that the filter reads
 * of them (an argument needs its scopes only when it carries a value), so the filtered
 * operation is cached per shape, never per value.
 */
function variablesShape(variables: Record<string, unknown> | undefined): string {
  if (!variables) return "";
  return Object.keys(variables)
    .sort()
    .map((name) => `${name}${variables[name] === null || variables[name] === undefined ? "=null" : ""}`)
    .join(",");
}

/** `null` where each removed field was, and one error per removed field the request included. */
function withRemovedFields(result: GatewayResult, operation: FilteredOperation, variables: Record<string, unknown> | undefined): GatewayResult {
  // No execution result (the operation failed as a whole): its own errors say why.
  if (result.data === undefined) return result;
  const data = result.data;
  if (data) nullRemovedFields(data, operation);
  const all = [...unauthorizedErrors(operation, variables), ...(result.errors ?? [])];
  return { ...result, data: operation.dataIsNull ? null : data, ...(all.length > 0 ? { errors: all } : {}) };
}
