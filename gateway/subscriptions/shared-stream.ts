import { executeQueryPlan, type GraphQLDataSource } from "@apollo/gateway";
import { GraphQLError, type ExecutionResult, type GraphQLFormattedError } from "graphql";
import { ALERT_CREATED_TOPIC, alertFactsOf, type AlertFacts } from "../../domain/alerts/alert-event.ts";
import { encodeCursor, type BusEvent } from "../../realtime/events/event-bus.ts";
import type { Follower } from "../../realtime/events/event-feed.ts";
import { AuthenticationError } from "../../platform/auth/token-verifier.ts";
import { isDatabaseUnavailable } from "../../platform/database/unavailable.ts";
import type { Viewer } from "../../platform/auth/viewer.ts";
import type { GatewayContext } from "../context.ts";
import { nullRemovedFields, unauthorizedErrors } from "../scopes/operation-filter.ts";
import { ReceiptCollector, type ReceiptWriter } from "../scopes/receipts.ts";
import { CLOSE_CODES, closeCodeForRejectedToken, closeReason } from "./close-codes.ts";
import type { HubOptions } from "./hub-options.ts";
import { Member } from "./member.ts";
import { PersonPrefetch } from "./person-prefetch.ts";
import { PrimaryFetchSource, translatePrimary } from "./primary-fetch.ts";
import type { StreamArgs } from "./stream-args.ts";
import type { SubscriberConnection } from "./subscriber-connection.ts";
import type { PlannedSubscription } from "./subscription-planner.ts";

/** What a stream uses of the hub that holds it (SubscriptionHub). */
export interface StreamHost {
  readonly options: HubOptions;
  readonly receipts: ReceiptWriter;
  alertFacts(event: BusEvent): Promise<AlertFacts | null>;
  clientMaySee(event: BusEvent, clientId: string, facts: AlertFacts): Promise<boolean>;
  dropStream(stream: SharedStream): void;
}

/** An event's entity could not be read (not: it is hidden from this token); skipping it would lose it. */
class EventUnreadable extends Error {
  constructor(position: bigint, cause: Error) {
    super(`event ${position}: ${cause.message}`, { cause });
  }
}

const SEVERITY_RANK: Record<string, number> = { LOW: 0, MEDIUM: 1, HIGH: 2, CRITICAL: 3 };

/** One upstream stream, shared by identical subscriptions. */
export class SharedStream {
  private readonly members = new Set<Member>();
  private readonly follower: Follower;
  private closed = false;

  constructor(
    private readonly hub: StreamHost,
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
        if (error instanceof EventUnreadable || isDatabaseUnavailable(error)) {
          hub.options.logger.warn({ err: error }, "a subscription stream could not read an event; its subscribers resume with `after`");
          this.closeAll(CLOSE_CODES.TRY_AGAIN_LATER, "An event could not be read for now: reconnect and resume with `after`");
          return;
        }
        hub.options.logger.error({ err: error }, "a subscription stream failed");
        this.closeAll(4500, "Internal error: resume with `after`");
      },
    });
  }

  /** The last position this stream has handled or passed over: a member joining now gets what comes after it. */
  get position(): bigint {
    return this.follower.position;
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
    if (this.closed || event.topic !== ALERT_CREATED_TOPIC) return;
    const facts = await this.hub.alertFacts(event);
    if (!facts || !(await this.matches(event, facts))) return;

    // The token still holds (not expired, not revoked, consent still authorised): checked per event.
    let tokenCheck: string | undefined;
    try {
      const verified = await this.hub.options.verifier.verifyAuthorization(this.credentials.authorization);
      tokenCheck = verified ? this.hub.options.verifier.sealFor(verified.viewer) : undefined;
    } catch (error) {
      if (!(error instanceof AuthenticationError)) throw error;
      this.closeAll(closeCodeForRejectedToken(error), closeReason(error.reason));
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
    if (event.topic !== ALERT_CREATED_TOPIC) return false;
    const facts = alertFactsOf(event);
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
    const services: Record<string, GraphQLDataSource<GatewayContext>> = { ...options.services, [owner]: primary };
    for (const [name, fetches] of plan.personFetches) {
      const subgraph = options.services[name];
      if (subgraph) services[name] = new PersonPrefetch(subgraph, fetches, facts.userId, requestContext);
    }
    const result = await executeQueryPlan(
      plan.perEvent,
      services,
      requestContext as unknown as Parameters<typeof executeQueryPlan>[2],
      plan.operationContext,
      options.planner.supergraphSchema,
      options.planner.api,
    );
    if (primary.failure) throw new EventUnreadable(event.position, primary.failure);
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

function routeOf(viewer: Viewer, args: StreamArgs): string | undefined {
  return viewer.kind === "consent" ? viewer.userId : args.userId;
}

function toGraphQLError(formatted: GraphQLFormattedError): GraphQLError {
  return new GraphQLError(formatted.message, { ...(formatted.path ? { path: formatted.path } : {}), ...(formatted.extensions ? { extensions: formatted.extensions } : {}) });
}
