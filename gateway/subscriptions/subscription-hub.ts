import { createHash, randomUUID } from "node:crypto";
import {
  GraphQLError,
  Kind,
  print,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FieldNode,
  type OperationDefinitionNode,
} from "graphql";
import { getArgumentValues, getVariableValues } from "graphql/execution/values.js";
import { consentCovers } from "../../platform/auth/consent-coverage.ts";
import { graphQLError } from "../../platform/errors.ts";
import { LruMap } from "../../platform/lru-map.ts";
import { alertFactsOf, type AlertFacts } from "../../domain/alerts/alert-event.ts";
import { decodeCursor, type BusEvent } from "../../realtime/events/event-bus.ts";
import { unauthorizedErrors } from "../scopes/operation-filter.ts";
import { ReceiptWriter } from "../scopes/receipts.ts";
import type { HubOptions } from "./hub-options.ts";
import { SharedStream, type StreamHost } from "./shared-stream.ts";
import type { StreamArgs } from "./stream-args.ts";
import type { SubscriberConnection } from "./subscriber-connection.ts";
import type { PlannedSubscription } from "./subscription-planner.ts";

export type { SubscriberConnection } from "./subscriber-connection.ts";

const SUPPORTED_FIELD = "alertCreated";
const FACTS_CACHE = 2_000;

/**
 * Serves `Subscription.alertCreated` for every connection of one gateway instance. Identical
 * subscriptions (same operation, variables and token) share one stream: one cursor over the
 * event feed and one federated execution per event, fanned out to every member. Each member has
 * a bounded queue; a member that cannot keep up is closed (4410) without slowing the others,
 * and a stream whose execution falls behind reads the outbox instead of buffering.
 */
export class SubscriptionHub implements StreamHost {
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
    // `userId` is the client's pairwise id for the person; the stream filters on ours.
    if (streamArgs.userId !== undefined) streamArgs.userId = this.options.personIds.inbound(viewer, streamArgs.userId);
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
    let streamKey = key;
    let stream = this.streams.get(streamKey);
    // Resuming with `after`: a stream of the same key that has already gone past it would skip, for
    // the newcomer, what it delivered in between (two subscribers closed with 4410 at one cursor,
    // the second rejoining late): such a stream is left to its members and one of its own starts.
    if (stream && streamArgs.after !== undefined && stream.position > streamArgs.after) {
      streamKey = `${key}:${randomUUID()}`;
      stream = undefined;
    }
    if (!stream) {
      stream = new SharedStream(this, streamKey, plan, connection, variables, args.operationName ?? null, streamArgs);
      this.streams.set(streamKey, stream);
    }
    return withClientIds(stream.join(connection), (data) => this.options.personIds.translateResult(planner.apiSchema, args.document, args.operationName, data, viewer));
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
    const written = alertFactsOf(event);
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
              AND ${consentCovers("c", "alerts.read")}
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

/** An alert event's route on the event feed: the person it is about. */
export function alertRoute(event: BusEvent): string | undefined {
  return alertFactsOf(event)?.userId;
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

/**
 * Each result as the subscriber's client sees it: `User.id` in its pairwise ids. A copy, since a
 * stream's results may be shared.
 */
function withClientIds(
  results: AsyncIterableIterator<ExecutionResult>,
  translate: (data: Record<string, unknown>) => void,
): AsyncIterableIterator<ExecutionResult> {
  return {
    async next() {
      const next = await results.next();
      if (next.done || !next.value.data) return next;
      const data = structuredClone(next.value.data) as Record<string, unknown>;
      translate(data);
      return { value: { ...next.value, data }, done: false };
    },
    return: () => results.return?.() ?? Promise.resolve({ value: undefined, done: true }),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
