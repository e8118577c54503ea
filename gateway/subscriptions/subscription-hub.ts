import { createHash } from "node:crypto";
import { executeQueryPlan, type GraphQLDataSource } from "@apollo/gateway";
import {
  GraphQLError,
  Kind,
  print,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FieldNode,
  type GraphQLFormattedError,
  type OperationDefinitionNode,
} from "graphql";
import { getArgumentValues, getVariableValues } from "graphql/execution/values.js";
import { graphQLError } from "../../platform/errors.ts";
import { LruMap } from "../../platform/lru-map.ts";
import { ALERT_CREATED, decodeCursor, encodeCursor, type BusEvent } from "../../realtime/events/event-bus.ts";
import type { EventFeed, Follower } from "../../realtime/events/event-feed.ts";
import type { createErrorFormatter } from "../../platform/http/format-error.ts";
import type { Logger } from "../../platform/logger.ts";
import { AuthenticationError, type TokenVerifier } from "../../platform/auth/token-verifier.ts";
import type { Viewer } from "../../platform/auth/viewer.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import type { GatewayContext } from "../context.ts";
import { nullRemovedFields, unauthorizedErrors } from "../scopes/operation-filter.ts";
import { ReceiptCollector, ReceiptWriter } from "../scopes/receipts.ts";
import { CLOSE_CODES, closeCodeForRejectedToken, closeReason } from "./close-codes.ts";
import { PrimaryFetchSource, translatePrimary } from "./primary-fetch.ts";
import type { PlannedSubscription, SubscriptionPlanner } from "./subscription-planner.ts";

/** One authenticated graphql-ws connection, as the hub sees it. */
export interface SubscriberConnection {
  viewer: Viewer;
  authorization: string;
  dpop: string | undefined;
  /** Bytes queued on the socket and not yet sent. */
  bufferedAmount(): number;
  close(code: number, reason: string): void;
}

export interface HubOptions {
  feed: EventFeed;
  planner: SubscriptionPlanner;
  /** The subgraph data sources by name (the same kind the gateway queries through). */
  services: Record<string, GraphQLDataSource<GatewayContext>>;
  prisma: PrismaClient;
  verifier: TokenVerifier;
  logger: Logger;
  formatError: ReturnType<typeof createErrorFormatter>;
  /** Results waiting for one subscriber before it is closed as too slow. */
  maxQueuedPerSubscriber?: number;
  /** Unsent bytes on one socket before it is closed as too slow. */
  maxBufferedBytes?: number;
  /** Live events held for one shared stream while it works; beyond that it reads the outbox instead. */
  maxQueuedPerStream?: number;
}

interface AlertFacts {
  alertId: string;
  userId: string;
  severity: string;
  country: string;
}

interface StreamArgs {
  userId: string | undefined;
  minSeverity: string | undefined;
  after: bigint | undefined;
}

const SEVERITY_RANK: Record<string, number> = { LOW: 0, MEDIUM: 1, HIGH: 2, CRITICAL: 3 };
const SUPPORTED_FIELD = "alertCreated";
const FACTS_CACHE = 2_000;

/**
 * Serves `Subscription.alertCreated` for every connection of one gateway instance. Identical
 * subscriptions (same operation, variables and token) share one stream: one cursor over the
 * event feed and one federated execution per event, fanned out to every member. Each member has
 * a bounded queue; a member that cannot keep up is closed (4410) without slowing the others,
 * and a stream whose execution falls behind reads the outbox instead of buffering.
 */
export class SubscriptionHub {
  private readonly streams = new Map<string, SharedStream>();
  private readonly facts = new LruMap<string, Promise<AlertFacts | null>>(FACTS_CACHE);
  private readonly clientVisibility = new LruMap<string, Promise<boolean>>(FACTS_CACHE);
  /** Every event delivered with personal data gets its consent receipt, as a query's response does. */
  readonly receipts: ReceiptWriter;

  constructor(readonly options: HubOptions) {
    this.receipts = new ReceiptWriter(options.prisma);
  }

  get size(): { streams: number; subscribers: number } {
    let subscribers = 0;
    for (const stream of this.streams.values()) subscribers += stream.memberCount;
    return { streams: this.streams.size, subscribers };
  }

  /** graphql-ws's `subscribe`: an async iterator of results, or one result with errors. */
  subscribe(connection: SubscriberConnection, args: ExecutionArgs): AsyncIterableIterator<ExecutionResult> | ExecutionResult {
    const { planner } = this.options;
    const operation = args.document.definitions.find(
      (definition): definition is OperationDefinitionNode =>
        definition.kind === Kind.OPERATION_DEFINITION && (!args.operationName || definition.name?.value === args.operationName),
    );
    const field = operation?.selectionSet.selections[0];
    if (!operation || !field || field.kind !== Kind.FIELD || operation.selectionSet.selections.length !== 1 || field.name.value !== SUPPORTED_FIELD) {
      return errorResult(graphQLError("BAD_REQUEST", `A subscription selects exactly one field, ${SUPPORTED_FIELD}`));
    }
    const coerced = getVariableValues(planner.apiSchema, operation.variableDefinitions ?? [], (args.variableValues ?? {}) as Record<string, unknown>);
    if (coerced.errors) return { errors: coerced.errors.map((error) => graphQLError("BAD_USER_INPUT", error.message)) };
    const variables = coerced.coerced;
    const streamArgs = this.argumentsOf(field, variables);
    if (streamArgs instanceof GraphQLError) return errorResult(streamArgs);

    const { viewer } = connection;
    if (viewer.kind === "consent" && streamArgs.userId !== undefined && streamArgs.userId !== viewer.userId) {
      return errorResult(graphQLError("FORBIDDEN", "A consent token sees only the alerts of the person who gave the consent; leave `userId` out or use theirs"));
    }

    const documentKey = printOnce(args.document);
    let plan: PlannedSubscription;
    try {
      plan = planner.plan(args.document, args.operationName, viewer.scopes, documentKey);
    } catch (error) {
      this.options.logger.error({ err: error }, "could not plan a subscription");
      return errorResult(graphQLError("INTERNAL_SERVER_ERROR", "The subscription could not be planned"));
    }
    if (plan.filtered.dataIsNull) {
      return {
        data: null,
        errors: unauthorizedErrors(plan.filtered, variables),
      };
    }
    const key = createHash("sha256")
      .update(documentKey)
      .update("\u0000")
      .update(args.operationName ?? "")
      .update("\u0000")
      .update(JSON.stringify(variables))
      .update("\u0000")
      .update(connection.authorization)
      .update("\u0000")
      .update(connection.dpop ?? "")
      .digest("base64url");
    let stream = this.streams.get(key);
    if (!stream) {
      stream = new SharedStream(this, key, plan, connection, variables, args.operationName ?? null, streamArgs);
      this.streams.set(key, stream);
    }
    return stream.join(connection);
  }

  /** @internal */
  dropStream(stream: SharedStream): void {
    if (this.streams.get(stream.key) === stream) this.streams.delete(stream.key);
  }

  /**
   * Who an alert event is about: from the event itself when the alert writer put the person and
   * the severity in it (the writer commits the alert and its event together), else read once per
   * event for every stream on this instance.
   */
  alertFacts(event: BusEvent): Promise<AlertFacts | null> {
    const written = factsInEvent(event);
    if (written) return Promise.resolve(written);
    const key = event.position.toString();
    let facts = this.facts.get(key);
    if (!facts) {
      facts = this.options.prisma
        .$queryRaw<AlertFacts[]>`SELECT id AS "alertId", user_id AS "userId", severity::text AS severity, country::text AS country FROM alert WHERE id = ${event.aggregateId}`
        .then((rows) => rows[0] ?? null);
      this.facts.set(key, facts);
      facts.catch(() => this.facts.delete(key));
    }
    return facts;
  }

  /** Whether a partner client holds an authorised consent from this person that covers alerts.read. */
  clientMaySee(event: BusEvent, clientId: string, facts: AlertFacts): Promise<boolean> {
    const key = `${event.position}\u0000${clientId}`;
    let visible = this.clientVisibility.get(key);
    if (!visible) {
      visible = this.options.prisma
        .$queryRaw<{ visible: boolean }[]>`
          SELECT EXISTS (
            SELECT 1 FROM consent c
            WHERE c.client_id = ${clientId} AND c.user_id = ${facts.userId} AND c.country::text = ${facts.country}
              AND c.status = 'AUTHORISED' AND (c.expires_at IS NULL OR c.expires_at > now())
              AND 'alerts.read' = ANY(c.scopes)
          ) AS visible`
        .then((rows) => rows[0]?.visible === true);
      this.clientVisibility.set(key, visible);
      visible.catch(() => this.clientVisibility.delete(key));
    }
    return visible;
  }

  private argumentsOf(field: FieldNode, variables: Record<string, unknown>): StreamArgs | GraphQLError {
    const definition = this.options.planner.apiSchema.getSubscriptionType()?.getFields()[SUPPORTED_FIELD];
    if (!definition) return graphQLError("BAD_REQUEST", `This graph has no Subscription.${SUPPORTED_FIELD}`);
    let values: Record<string, unknown>;
    try {
      values = getArgumentValues(definition, field, variables);
    } catch (error) {
      return graphQLError("BAD_USER_INPUT", error instanceof Error ? error.message : "Invalid arguments");
    }
    const userId = typeof values.userId === "string" ? values.userId : undefined;
    const minSeverity = typeof values.minSeverity === "string" ? values.minSeverity : undefined;
    let after: bigint | undefined;
    if (typeof values.after === "string") {
      after = decodeCursor(values.after);
      if (after === undefined) return graphQLError("BAD_USER_INPUT", "`after` is not a cursor this graph issued", { argumentName: "after" });
    }
    return { userId, minSeverity, after };
  }
}

function routeOf(viewer: Viewer, args: StreamArgs): string | undefined {
  return viewer.kind === "consent" ? viewer.userId : args.userId;
}

/**
 * Who an alert event is about, as the alert writer put it in the event (it commits the alert and
 * its event together); undefined when the event does not say.
 */
function factsInEvent(event: BusEvent): AlertFacts | undefined {
  if (event.topic !== ALERT_CREATED) return undefined;
  const payload = event.payload as { user_id?: unknown; severity?: unknown } | null;
  if (typeof payload?.user_id !== "string" || typeof payload.severity !== "string") return undefined;
  return { alertId: event.aggregateId, userId: payload.user_id, severity: payload.severity.toUpperCase(), country: event.country };
}

/** An alert event's route on the event feed: the person it is about. */
export function alertRoute(event: BusEvent): string | undefined {
  return factsInEvent(event)?.userId;
}

/** One upstream stream, shared by identical subscriptions. */
class SharedStream {
  private readonly members = new Set<Member>();
  private readonly follower: Follower;
  private closed = false;

  constructor(
    private readonly hub: SubscriptionHub,
    readonly key: string,
    private readonly plan: PlannedSubscription,
    private readonly credentials: SubscriberConnection,
    private readonly variables: Record<string, unknown>,
    private readonly operationName: string | null,
    private readonly args: StreamArgs,
  ) {
    const { feed, maxQueuedPerStream } = hub.options;
    // A consent token's stream, or a partner's for one person, is offered only that person's events.
    const route = routeOf(credentials.viewer, args);
    this.follower = feed.follow({
      after: args.after ?? feed.position,
      maxQueued: maxQueuedPerStream ?? 1_000,
      ...(route !== undefined ? { route } : {}),
      handle: (event) => this.handle(event),
      accepts: (event) => this.mayConcern(event),
      onFailure: (error) => {
        hub.options.logger.error({ err: error }, "a subscription stream failed");
        this.closeAll(4500, "Internal error: resume with `after`");
      },
    });
  }

  get memberCount(): number {
    return this.members.size;
  }

  join(connection: SubscriberConnection): Member {
    const member = new Member(this, connection, this.hub.options.maxQueuedPerSubscriber ?? 100, this.hub.options.maxBufferedBytes ?? 1 << 20);
    this.members.add(member);
    return member;
  }

  leave(member: Member): void {
    this.members.delete(member);
    if (this.members.size === 0) this.shutDown();
  }

  private shutDown(): void {
    if (this.closed) return;
    this.closed = true;
    this.follower.stop();
    this.hub.dropStream(this);
  }

  private closeAll(code: number, reason: string): void {
    for (const member of [...this.members]) member.closeConnection(code, reason);
    this.shutDown();
  }

  private async handle(event: BusEvent): Promise<void> {
    if (this.closed || event.topic !== ALERT_CREATED) return;
    const facts = await this.hub.alertFacts(event);
    if (!facts || !(await this.matches(event, facts))) return;

    // The token still holds (not expired, not revoked, consent still authorised): checked per event.
    let tokenCheck: string | undefined;
    try {
      const verified = await this.hub.options.verifier.verifyAuthorization(this.credentials.authorization);
      tokenCheck = verified ? this.hub.options.verifier.sealFor(verified.viewer) : undefined;
    } catch (error) {
      if (!(error instanceof AuthenticationError)) throw error;
      this.closeAll(closeCodeForRejectedToken(error.reason), closeReason(error.reason));
      return;
    }
    const result = await this.execute(event, facts, tokenCheck);
    if (!result || this.closed) return;
    for (const member of [...this.members]) member.push(result);
  }

  /**
   * Checked before any work, on what the event itself says: an event about someone else (or of a
   * lower severity, or another country) is passed over. One that says nothing of its person goes
   * on to the full check against the alert row (`matches`), which always decides.
   */
  private mayConcern(event: BusEvent): boolean {
    if (event.topic !== ALERT_CREATED) return false;
    const facts = factsInEvent(event);
    if (facts) return this.isAudience(facts);
    const { viewer } = this.credentials;
    return viewer.kind === "consent" ? event.country === viewer.country : viewer.countries.includes(event.country as (typeof viewer.countries)[number]);
  }

  /** The stream's filters, and the person and countries its token reaches. */
  private isAudience(facts: AlertFacts): boolean {
    const { userId, minSeverity } = this.args;
    if (userId !== undefined && facts.userId !== userId) return false;
    if (minSeverity !== undefined && (SEVERITY_RANK[facts.severity] ?? -1) < (SEVERITY_RANK[minSeverity] ?? 0)) return false;
    const { viewer } = this.credentials;
    if (viewer.kind === "consent") return facts.userId === viewer.userId && facts.country === viewer.country;
    return viewer.countries.includes(facts.country as (typeof viewer.countries)[number]);
  }

  private async matches(event: BusEvent, facts: AlertFacts): Promise<boolean> {
    if (!this.isAudience(facts)) return false;
    const { viewer } = this.credentials;
    return viewer.kind === "consent" || this.hub.clientMaySee(event, viewer.clientId, facts);
  }

  /** Runs the event through the rest of the plan with this stream's token; undefined when its entity is not visible. */
  private async execute(event: BusEvent, facts: AlertFacts, tokenCheck: string | undefined): Promise<ExecutionResult | undefined> {
    const { options } = this.hub;
    const { plan, credentials } = this;
    const owner = plan.primary.serviceName;
    const inner = options.services[owner];
    if (!inner) throw new Error(`No data source for subgraph ${owner}`);
    const primary = new PrimaryFetchSource(inner, translatePrimary(plan.primary.operation, plan.entityType), { __typename: plan.entityType, id: facts.alertId });
    const receipts = new ReceiptCollector();
    const requestId = `sub-${this.key.slice(0, 12)}-${event.position}`;
    const context: GatewayContext = {
      requestId,
      viewer: credentials.viewer,
      authorization: credentials.authorization,
      ...(credentials.dpop ? { dpop: credentials.dpop } : {}),
      ...(tokenCheck ? { tokenCheck } : {}),
      receipts,
    };
    const requestContext = {
      request: { query: plan.query, variables: this.variables, operationName: this.operationName ?? undefined },
      context,
      logger: options.logger,
      metrics: {},
      cache: undefined,
      overallCachePolicy: undefined,
    };
    const result = await executeQueryPlan(
      plan.perEvent,
      { ...options.services, [owner]: primary },
      requestContext as unknown as Parameters<typeof executeQueryPlan>[2],
      plan.operationContext,
      options.planner.supergraphSchema,
      options.planner.api,
    );
    if (!primary.found) return undefined;
    const data = (result.data ?? null) as Record<string, unknown> | null;
    if (data) nullRemovedFields(data, plan.filtered);
    const errors = [...unauthorizedErrors(plan.filtered, this.variables), ...(result.errors ?? [])];
    if (!receipts.isEmpty) {
      await this.hub.receipts.write({ requestId, viewer: credentials.viewer, operationName: this.operationName }, receipts.entries());
    }
    return {
      data,
      // Formatted (no internal message leaks), then GraphQLError again: graphql-ws serialises with toJSON().
      ...(errors.length > 0 ? { errors: errors.map((error) => toGraphQLError(options.formatError(error.toJSON(), error))) } : {}),
      extensions: { cursor: encodeCursor(event.position) },
    };
  }
}

/** One subscriber: a bounded queue of results, read by graphql-ws as an async iterator. */
class Member implements AsyncIterableIterator<ExecutionResult> {
  private readonly queue: ExecutionResult[] = [];
  private waiting: ((result: IteratorResult<ExecutionResult>) => void) | undefined;
  private done = false;

  constructor(
    private readonly stream: SharedStream,
    private readonly connection: SubscriberConnection,
    private readonly maxQueued: number,
    private readonly maxBufferedBytes: number,
  ) {}

  push(result: ExecutionResult): void {
    if (this.done) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: result, done: false });
    } else if (this.queue.length >= this.maxQueued) {
      this.closeConnection(CLOSE_CODES.TOO_SLOW, "Too far behind: reconnect and resume with `after`");
      return;
    } else this.queue.push(result);
    if (this.connection.bufferedAmount() > this.maxBufferedBytes) this.closeConnection(CLOSE_CODES.TOO_SLOW, "Too far behind: reconnect and resume with `after`");
  }

  closeConnection(code: number, reason: string): void {
    this.finish();
    this.connection.close(code, reason);
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    const value = this.queue.shift();
    if (value) return Promise.resolve({ value, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<ExecutionResult>> {
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.queue.length = 0;
    this.stream.leave(this);
    this.waiting?.({ value: undefined, done: true });
    this.waiting = undefined;
  }
}

function toGraphQLError(formatted: GraphQLFormattedError): GraphQLError {
  return new GraphQLError(formatted.message, { ...(formatted.path ? { path: formatted.path } : {}), ...(formatted.extensions ? { extensions: formatted.extensions } : {}) });
}

function errorResult(error: GraphQLError): ExecutionResult {
  return { errors: [error] };
}

/** Identical subscriptions share one parsed document (DocumentCache), so its text is printed once. */
const printedDocuments = new WeakMap<DocumentNode, string>();
function printOnce(document: DocumentNode): string {
  let text = printedDocuments.get(document);
  if (text === undefined) printedDocuments.set(document, (text = print(document)));
  return text;
}
