import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/**
 * The Prometheus metrics of this process, made only when the metrics listener is configured
 * (METRICS_PORT, metrics-server.ts). Until then `activeMetrics()` is undefined and every place
 * that records asks that first: no registry, no label hashing, no timers on a request's path.
 */
export interface KaminaMetrics {
  registry: Registry;
  graphqlRequests: Counter<"operation" | "outcome">;
  graphqlErrors: Counter<"operation" | "code">;
  graphqlDuration: Histogram<"operation">;
  subgraphFetchDuration: Histogram<"subgraph" | "outcome">;
  webhookAttempts: Counter<"outcome">;
  webhookDeadLetters: Counter;
  rateLimitRefusals: Counter<"limit">;
  sharedOperations: Counter;
}

/** Subscriptions held by a gateway in this process (several in tests). */
type SubscriptionCount = () => number;
/** The oldest unpublished outbox event's age and how many wait (a relay's database). */
export type OutboxBacklog = () => Promise<{ oldestSeconds: number; pending: number }>;

const subscriptionSources = new Set<SubscriptionCount>();
const outboxSources = new Set<OutboxBacklog>();
let metrics: KaminaMetrics | undefined;

/** Seconds; requests and fetches from 5 ms to 10 s (the subgraph deadline's default). */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function activeMetrics(): KaminaMetrics | undefined {
  return metrics;
}

export function enableMetrics(): KaminaMetrics {
  if (metrics) return metrics;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "kamina_" });
  const registers = [registry];
  new Gauge({
    name: "kamina_subscriptions_active",
    help: "GraphQL subscriptions held open by this process's gateway",
    registers,
    collect() {
      let total = 0;
      for (const count of subscriptionSources) total += count();
      this.set(total);
    },
  });
  const pending = new Gauge({ name: "kamina_outbox_pending_events", help: "Outbox events not yet published (read at scrape by the realtime workers)", registers });
  new Gauge({
    name: "kamina_outbox_lag_seconds",
    help: "Age of the oldest outbox event not yet published; 0 when none waits",
    registers,
    async collect() {
      let oldest = 0;
      let waiting = 0;
      for (const source of outboxSources) {
        const backlog = await source().catch(() => undefined);
        if (!backlog) continue;
        oldest = Math.max(oldest, backlog.oldestSeconds);
        waiting = Math.max(waiting, backlog.pending);
      }
      this.set(oldest);
      pending.set(waiting);
    },
  });
  metrics = {
    registry,
    graphqlRequests: new Counter({ name: "kamina_graphql_requests_total", help: "GraphQL operations answered, by operation name and outcome (ok, error)", labelNames: ["operation", "outcome"], registers }),
    graphqlErrors: new Counter({ name: "kamina_graphql_errors_total", help: "Errors in GraphQL answers, by operation name and error code", labelNames: ["operation", "code"], registers }),
    graphqlDuration: new Histogram({ name: "kamina_graphql_request_duration_seconds", help: "Time from a GraphQL request's arrival to its answer, by operation name", labelNames: ["operation"], buckets: LATENCY_BUCKETS, registers }),
    subgraphFetchDuration: new Histogram({ name: "kamina_subgraph_fetch_duration_seconds", help: "The gateway's fetches to each subgraph, by outcome (ok, error, unavailable)", labelNames: ["subgraph", "outcome"], buckets: LATENCY_BUCKETS, registers }),
    webhookAttempts: new Counter({ name: "kamina_webhook_attempts_total", help: "Webhook delivery attempts, by outcome (delivered; failed: the endpoint answered otherwise; unreachable: no answer, a timeout or a refused address)", labelNames: ["outcome"], registers }),
    webhookDeadLetters: new Counter({ name: "kamina_webhook_dead_letters_total", help: "Webhook deliveries that gave up after their last attempt", registers }),
    rateLimitRefusals: new Counter({ name: "kamina_rate_limit_refusals_total", help: "Requests refused with RATE_LIMITED, by limit", labelNames: ["limit"], registers }),
    sharedOperations: new Counter({ name: "kamina_gateway_shared_operations_total", help: "GraphQL queries answered from an identical one in flight for the same caller (SHARE_INFLIGHT_FETCHES)", registers }),
  };
  return metrics;
}

/** Forgets the registry (tests that enable metrics more than once in one process). */
export function disableMetrics(): void {
  metrics = undefined;
}

/** Counts a gateway's open subscriptions into kamina_subscriptions_active; returns the unregister function. */
export function countSubscriptions(source: SubscriptionCount): () => void {
  subscriptionSources.add(source);
  return () => subscriptionSources.delete(source);
}

/** Reports a relay's outbox backlog into kamina_outbox_lag_seconds; returns the unregister function. */
export function reportOutboxBacklog(source: OutboxBacklog): () => void {
  outboxSources.add(source);
  return () => outboxSources.delete(source);
}

const OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;
/** Distinct operation names a process labels before the rest become `other`: clients choose names, and a label per name would let one of them grow the registry without bound. */
const MAX_OPERATION_LABELS = 200;
const operationLabels = new Set<string>();

export function operationLabel(name: string | null | undefined): string {
  if (!name) return "anonymous";
  if (operationLabels.has(name)) return name;
  if (!OPERATION_NAME.test(name) || operationLabels.size >= MAX_OPERATION_LABELS) return "other";
  operationLabels.add(name);
  return name;
}
