// Many graphql-ws subscribers, one socket each (a partner's setup: one connection per end-user
// device), opened with bounded concurrency. Every result is timestamped on arrival with
// `performance.now()` of the thread the pool runs in (bench:realtime runs it in a worker thread
// of its own, subscriber-thread.ts, which moves the stamps onto the publisher's clock).
import { performance } from "node:perf_hooks";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { addCount } from "./counts.ts";

export interface SubscriberSpec {
  /** The person the subscriber's consent token is bound to. */
  userId: string;
  /** `Bearer <access token>`. */
  authorization: string;
}

export interface ConnectReport {
  attempted: number;
  /** Sockets that got `connection_ack`. */
  acknowledged: number;
  /** Why the others failed, with counts. */
  failures: Map<string, number>;
  /** From the first socket opened to the last acknowledged or failed. */
  seconds: number;
  /** Time from opening one socket to its `connection_ack`, in ms. */
  ackMs: number[];
}

/** A result as it arrived at one subscriber. */
export interface Arrival {
  subscriber: number;
  alertId: string | undefined;
  /** `performance.now()` on arrival. */
  at: number;
  hasErrors: boolean;
  /** The result's data, for shape checks (the first few results only). */
  data: unknown;
}

export type PoolCounter = "closesAfterAck" | "subscriptionErrors";

class Subscriber {
  client: Client | undefined;
  open = false;
  unsubscribe: (() => void) | undefined;

  constructor(
    readonly index: number,
    readonly spec: SubscriberSpec,
  ) {}
}

export class SubscriberPool {
  private readonly subscribers: Subscriber[];
  /** Close codes seen after `connection_ack`, with counts (4410 too slow, 4401/4403 token, 1001 shutdown, ...). */
  readonly closesAfterAck = new Map<string, number>();
  /** Subscription errors (graphql-ws `error` sink calls), with counts. */
  readonly subscriptionErrors = new Map<string, number>();
  onArrival: (arrival: Arrival) => void = () => undefined;
  /** Called when one of the two counters above goes up. */
  onCount: (counter: PoolCounter, key: string) => void = () => undefined;
  /** Called when a subscriber's socket is acknowledged (true) or closes after that (false). */
  onOpenChange: (index: number, open: boolean) => void = () => undefined;

  constructor(
    private readonly wsUrl: string,
    specs: readonly SubscriberSpec[],
  ) {
    this.subscribers = specs.map((spec, index) => new Subscriber(index, spec));
  }

  /** Subscribers whose socket is acknowledged and not closed. */
  openCount(): number {
    let count = 0;
    for (const subscriber of this.subscribers) if (subscriber.open) count++;
    return count;
  }

  /** Open subscribers per person. */
  openByUser(): Map<string, number> {
    const byUser = new Map<string, number>();
    for (const subscriber of this.subscribers) if (subscriber.open) addCount(byUser, subscriber.spec.userId);
    return byUser;
  }

  /** Opens every socket (at most `concurrency` handshakes at once) and waits for each to be acknowledged or to fail. */
  async connect(concurrency: number, ackTimeoutMs: number, onProgress?: (done: number) => void): Promise<ConnectReport> {
    const failures = new Map<string, number>();
    const ackMs: number[] = [];
    let acknowledged = 0;
    let done = 0;
    let next = 0;
    const started = performance.now();
    const one = (subscriber: Subscriber) =>
      new Promise<void>((resolve) => {
        const openedAt = performance.now();
        let settled = false;
        const settle = (failure?: string) => {
          if (settled) return;
          settled = true;
          if (failure) addCount(failures, failure);
          else {
            acknowledged++;
            ackMs.push(performance.now() - openedAt);
          }
          done++;
          if (onProgress && done % 1000 === 0) onProgress(done);
          resolve();
        };
        subscriber.client = createClient({
          url: this.wsUrl,
          webSocketImpl: WebSocket,
          connectionParams: { authorization: subscriber.spec.authorization },
          lazy: false,
          retryAttempts: 0,
          connectionAckWaitTimeout: ackTimeoutMs,
          onNonLazyError: (error) => settle(describe(error)),
          on: {
            connected: () => {
              subscriber.open = true;
              this.onOpenChange(subscriber.index, true);
              settle();
            },
            closed: (event) => {
              const wasOpen = subscriber.open;
              subscriber.open = false;
              if (wasOpen) {
                this.onOpenChange(subscriber.index, false);
                this.count("closesAfterAck", describe(event));
              }
              settle(describe(event));
            },
            error: (error) => settle(describe(error)),
          },
        });
      });
    const worker = async () => {
      while (next < this.subscribers.length) await one(this.subscribers[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, this.subscribers.length) }, worker));
    return { attempted: this.subscribers.length, acknowledged, failures, seconds: (performance.now() - started) / 1000, ackMs };
  }

  /** Replaces every open subscriber's subscription with `query` (the socket stays open). */
  subscribeAll(query: string): void {
    for (const subscriber of this.subscribers) {
      subscriber.unsubscribe?.();
      subscriber.unsubscribe = undefined;
      if (!subscriber.open || !subscriber.client) continue;
      subscriber.unsubscribe = subscriber.client.subscribe<Record<string, unknown>>(
        { query },
        {
          next: (result) => {
            const alert = (result.data as { alertCreated?: { id?: unknown } } | null | undefined)?.alertCreated;
            this.onArrival({
              subscriber: subscriber.index,
              alertId: typeof alert?.id === "string" ? alert.id : undefined,
              at: performance.now(),
              hasErrors: (result.errors?.length ?? 0) > 0,
              data: result.data,
            });
          },
          error: (error) => {
            this.count("subscriptionErrors", describe(error));
          },
          complete: () => undefined,
        },
      );
    }
  }

  private count(counter: PoolCounter, key: string): void {
    addCount(this[counter], key);
    this.onCount(counter, key);
  }

  async dispose(): Promise<void> {
    await Promise.all(
      this.subscribers.map(async (subscriber) => {
        subscriber.unsubscribe = undefined;
        subscriber.open = false;
        await subscriber.client?.dispose();
        subscriber.client = undefined;
      }),
    );
  }
}

function describe(error: unknown): string {
  if (error && typeof error === "object" && "code" in error && typeof (error as { code: unknown }).code === "number") {
    const { code, reason } = error as { code: number; reason?: unknown };
    return `close ${code}${reason ? ` ${String(reason).slice(0, 80)}` : ""}`;
  }
  if (Array.isArray(error)) return `errors: ${error.map((entry) => (entry as { message?: string }).message).join("; ").slice(0, 120)}`;
  if (error instanceof Error) return `${error.name}: ${error.message.slice(0, 120)}`;
  if (error && typeof error === "object" && "type" in error) return `event ${String((error as { type: unknown }).type)}`;
  return String(error).slice(0, 120);
}
