// kamina-graph prevention alerts over graphql-ws, for partners: resumes by cursor after any
// disconnect, refreshes an expired token, and stops for good on what no retry can fix.
//
// Copy this one file into your project (or import it from a checkout of kamina-graph). It needs
// the `graphql-ws` package, and on Node 20 a WebSocket implementation (`ws`) passed as
// `webSocketImpl`; Node 22+ and browsers have one built in. It imports nothing else.
//
// Why not graphql-ws's own retries: they re-send the variables the subscription was first made
// with, so a subscription started without `after` comes back at the live edge and silently
// misses the alerts raised while it was away; and they retry 4403, which means "stop"
// (docs/realtime.md, Close codes). This helper turns them off and resubscribes itself with
// `after` = the cursor of the last alert your handler accepted.

import { createClient, type Client } from "graphql-ws";

/** The fields the default query asks for; pass `query` to ask for others (it must declare `$after`). */
export const DEFAULT_ALERT_QUERY = /* GraphQL */ `
  subscription KaminaAlerts($after: String, $userId: ID, $minSeverity: Severity) {
    alertCreated(after: $after, userId: $userId, minSeverity: $minSeverity) {
      id type riskBand severity contributingFactors suggestedAction createdAt
      user { id }
    }
  }
`;

/** A GraphQL error as the gateway sends it (a field the token's scopes do not cover, ...). */
export interface AlertError {
  message: string;
  path?: readonly (string | number)[];
  extensions?: Record<string, unknown>;
}

/** What the default query returns; with your own `query`, type `subscribeToAlerts<YourAlert>`. */
export interface Alert {
  id: string;
  type: string;
  riskBand: "GREEN" | "AMBER" | "RED";
  severity: "LOW" | "MEDIUM" | "HIGH" | "CRITICAL";
  contributingFactors: string[];
  suggestedAction: string;
  createdAt: string;
  user: { id: string };
}

export interface AlertMeta {
  /** Store it: `after` = this cursor resumes right after this alert, even in another process. */
  cursor: string;
  /** Per-field errors of this event (the rest of the alert is delivered). */
  errors: readonly AlertError[];
}

/**
 * Why the stream stopped; it never stops by itself for anything a retry can fix.
 * - `revoked` (4403): the consent was revoked or expired, the token revoked, the client suspended. A new consent is needed.
 * - `unauthenticated` (4401): the token is refused and `getToken` could not give one that works (or there is no `getToken`).
 * - `rejected`: the gateway refused the operation itself (bad query, a `userId` the token may not see, a bad `after`).
 * - `too_many_connections` (4429): the client holds as many sockets as it may.
 * - `protocol`: another close code the docs say not to retry (1009, 4400, 4406, 4409, 4500, ...).
 * - `handler_failed`: `onAlert` threw; the cursor is that of the last alert it accepted.
 * - `retries_exhausted`: `retry.maxAttempts` failed connections in a row.
 * - `stopped`: you called `stop()`.
 */
export type StopReason = "revoked" | "unauthenticated" | "rejected" | "too_many_connections" | "protocol" | "handler_failed" | "retries_exhausted" | "stopped";

export interface AlertStreamStop {
  reason: StopReason;
  /** The WebSocket close code, when a close decided it. */
  code?: number;
  /** What the gateway (or the failure) said. */
  message: string;
  /** Resume from here later (`after`), once what stopped the stream is fixed. */
  cursor: string | undefined;
  /** The GraphQL errors (`rejected`) or the thrown error (`handler_failed`, `unauthenticated` from `getToken`). */
  error?: unknown;
}

export interface RetryInfo {
  /** Failed connections in a row, this one included. */
  attempt: number;
  delayMs: number;
  code: number | undefined;
  message: string;
  cursor: string | undefined;
}

export interface SubscribeToAlertsOptions<A = Alert> {
  /** The gateway's `/graphql` URL: `wss://graph.example.com/graphql` (`https://` is taken as `wss://`). */
  url: string;
  /** A fixed access token. Without `getToken` the stream stops when it expires (4401). */
  token?: string;
  /**
   * Called before every connection; `refresh: true` after the gateway said the token expired
   * (4401): answer a fresh one (refresh it at POST /v1/auth/token). A refused fresh token stops the stream.
   */
  getToken?: (context: { refresh: boolean }) => string | Promise<string>;
  /**
   * Instead of `token`/`getToken`, the whole `connection_init` payload, made for each connection:
   * for a DPoP-bound token, `{ authorization: "DPoP <token>", dpop: <a new proof for GET and the https URL of /graphql> }`.
   */
  connectionParams?: (context: { refresh: boolean }) => Record<string, unknown> | Promise<Record<string, unknown>>;
  /** The cursor to resume after (the last one you stored); omit to start at the live edge. */
  after?: string;
  /** Narrow the stream: one person, a least severity. */
  variables?: { userId?: string; minSeverity?: "LOW" | "MEDIUM" | "HIGH" | "CRITICAL" };
  /** Your own selection; must declare `$after: String` and pass it to `alertCreated(after: $after)`. */
  query?: string;
  /**
   * Each alert, in order, one at a time: the next waits for the promise you return. Once it
   * resolves the alert counts as handled and its cursor becomes the one resumed from; store the
   * cursor with your own record of the alert to resume after a restart of your process too.
   */
  onAlert: (alert: A, meta: AlertMeta) => void | Promise<void>;
  /** Once, when the stream stops for good. */
  onStop?: (stop: AlertStreamStop) => void;
  /** Each time a connection failed or closed and another is about to be tried (for your logs). */
  onRetry?: (info: RetryInfo) => void;
  /** An event the gateway could not give you (no alert, only errors): skipped, its cursor kept. */
  onEventError?: (meta: AlertMeta) => void;
  /** The WebSocket class, where there is no global one (Node 20: `import WebSocket from "ws"`). */
  webSocketImpl?: unknown;
  /** Back-off between failed connections: `baseMs` doubling up to `maxMs`, half of each step random; `maxAttempts` failures in a row stop it (default: never). */
  retry?: { baseMs?: number; maxMs?: number; maxAttempts?: number };
}

export interface AlertStream {
  /** The cursor of the last alert handled (or the `after` you gave). */
  readonly cursor: string | undefined;
  /** Resolves once, when the stream stops for good (the same value `onStop` gets). */
  readonly stopped: Promise<AlertStreamStop>;
  /** Closes the socket and stops retrying; resolves when stopped. */
  stop(): Promise<AlertStreamStop>;
}

/** How one subscription attempt ended. */
type Outcome =
  | { kind: "closed"; code: number; message: string; acknowledged: boolean }
  | { kind: "unreachable"; message: string; acknowledged: boolean }
  | { kind: "rejected"; errors: readonly AlertError[] }
  | { kind: "completed"; acknowledged: boolean }
  | { kind: "handler_failed"; error: unknown }
  | { kind: "stopped" };

/** Close codes after which the gateway asks for a new connection, resumed with `after` (docs/realtime.md). */
const RETRY_CODES = new Set([1001, 1006, 1011, 1012, 1013, 1014, 4410, 4499,
  // "No connection_init in time": this client sends it as soon as the socket opens, so the
  // gateway was too busy to read it (an overloaded or restarting instance); another try is right.
  4408]);

/**
 * Subscribes to `alertCreated` and keeps the subscription going: after a restart of the
 * gateway, a network failure, a slow-reader close (4410) or an expired token (4401, with
 * `getToken`), it reconnects with back-off and resumes with `after` = the last cursor, so every
 * alert arrives once, in order. It stops, calling `onStop` once, on a revocation (4403) and on
 * anything else a retry cannot fix.
 */
export function subscribeToAlerts<A = Alert>(options: SubscribeToAlertsOptions<A>): AlertStream {
  const query = options.query ?? DEFAULT_ALERT_QUERY;
  if (!/\$after\s*:\s*String\b/.test(query)) throw new TypeError("`query` must declare `$after: String` and pass it to alertCreated(after: $after): without it a reconnection starts at the live edge and misses alerts");
  if (!options.token && !options.getToken && !options.connectionParams) throw new TypeError("Give `token`, `getToken` or `connectionParams`");
  const url = options.url.replace(/^http/, "ws");
  const baseMs = options.retry?.baseMs ?? 500;
  const maxMs = options.retry?.maxMs ?? 30_000;
  const maxAttempts = options.retry?.maxAttempts ?? Infinity;

  let cursor = options.after;
  let stopping = false;
  let client: Client | undefined;
  let wakeSleep: (() => void) | undefined;
  let settle!: (stop: AlertStreamStop) => void;
  const stopped = new Promise<AlertStreamStop>((resolve) => (settle = resolve));

  const connectionParams = async (refresh: boolean): Promise<Record<string, unknown>> => {
    if (options.connectionParams) return options.connectionParams({ refresh });
    const token = options.getToken ? await options.getToken({ refresh }) : options.token!;
    return { authorization: `Bearer ${token}` };
  };

  /** One connection and one subscription, until it ends; queued alerts are handled before it resolves. */
  const attempt = (params: Record<string, unknown>): Promise<Outcome> =>
    new Promise<Outcome>((resolve) => {
      let acknowledged = false;
      let closed: { code: number; reason: string } | undefined;
      let socketError: unknown;
      let handlerError: { error: unknown } | undefined;
      let refusal: readonly AlertError[] | undefined;
      let handled: Promise<void> = Promise.resolve();
      const end = (outcome: () => Outcome) => {
        void handled.then(() =>
          resolve(stopping ? { kind: "stopped" } : handlerError ? { kind: "handler_failed", error: handlerError.error } : refusal ? { kind: "rejected", errors: refusal } : outcome()),
        );
      };
      const current = createClient({
        url,
        webSocketImpl: options.webSocketImpl,
        lazy: true,
        retryAttempts: 0,
        connectionParams: params,
        on: {
          connected: () => (acknowledged = true),
          // Disposed at once: graphql-ws would otherwise reconnect by itself after some closes,
          // with the variables the subscription started with.
          closed: (event) => {
            const { code, reason } = event as { code: number; reason: string | Buffer };
            closed ??= { code, reason: String(reason ?? "") };
            dispose(current);
          },
          error: (error) => {
            socketError ??= error;
            dispose(current);
          },
        },
      });
      client = current;
      current.subscribe<A>(
        { query, variables: { ...options.variables, after: cursor } },
        {
          next: (result) => {
            // Every event carries a cursor; a result without one is the gateway refusing the
            // operation (it then completes the subscription): final, as the same request gets the same answer.
            if (typeof (result.extensions as { cursor?: unknown } | undefined)?.cursor !== "string" && result.errors?.length) {
              refusal ??= result.errors as readonly AlertError[];
              dispose(current);
              return;
            }
            handled = handled.then(async () => {
              if (handlerError || stopping) return;
              const eventCursor = (result.extensions as { cursor?: unknown } | undefined)?.cursor;
              const alert = (result.data as { alertCreated?: A | null } | null | undefined)?.alertCreated;
              const meta: AlertMeta = { cursor: typeof eventCursor === "string" ? eventCursor : (cursor ?? ""), errors: (result.errors ?? []) as readonly AlertError[] };
              try {
                if (alert) await options.onAlert(alert, meta);
                else options.onEventError?.(meta);
              } catch (error) {
                handlerError = { error };
                dispose(current);
                return;
              }
              if (typeof eventCursor === "string") cursor = eventCursor;
            });
          },
          error: (error) => {
            end(() => {
              if (closed) return { kind: "closed", code: closed.code, message: closed.reason, acknowledged };
              if (Array.isArray(error)) return { kind: "rejected", errors: error as AlertError[] };
              return { kind: "unreachable", message: describe(socketError ?? error), acknowledged };
            });
          },
          complete: () => {
            end(() => {
              if (closed) return { kind: "closed", code: closed.code, message: closed.reason, acknowledged };
              if (socketError) return { kind: "unreachable", message: describe(socketError), acknowledged };
              return { kind: "completed", acknowledged };
            });
          },
        },
      );
    });

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wakeSleep = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const run = async (): Promise<AlertStreamStop> => {
    const stop = (reason: StopReason, message: string, extra: { code?: number; error?: unknown } = {}): AlertStreamStop => ({ reason, message, cursor, ...extra });
    let failures = 0;
    let refresh = false;
    let refusedFreshToken = false;
    for (;;) {
      if (stopping) return stop("stopped", "stop() was called");
      let params: Record<string, unknown>;
      try {
        params = await connectionParams(refresh);
      } catch (error) {
        // A refresh token that no longer works is final; so, here, is a token endpoint that cannot be reached.
        return stop("unauthenticated", `getToken failed: ${describe(error)}`, { error });
      }
      refresh = false;
      if (stopping) return stop("stopped", "stop() was called");
      const outcome = await attempt(params);
      switch (outcome.kind) {
        case "stopped":
          return stop("stopped", "stop() was called");
        case "handler_failed":
          return stop("handler_failed", `onAlert threw: ${describe(outcome.error)}`, { error: outcome.error });
        case "rejected":
          return stop("rejected", outcome.errors.map((error) => error.message).join("; ") || "The gateway refused the subscription", { error: outcome.errors });
        case "closed":
          if (outcome.code === 4403) return stop("revoked", outcome.message, { code: outcome.code });
          if (outcome.code === 4429) return stop("too_many_connections", outcome.message, { code: outcome.code });
          if (outcome.code === 4401) {
            // A fresh token refused before the gateway ever accepted it will be refused again.
            if ((!options.getToken && !options.connectionParams) || (refusedFreshToken && !outcome.acknowledged)) {
              return stop("unauthenticated", outcome.message, { code: outcome.code });
            }
            refusedFreshToken = true;
            refresh = true;
            options.onRetry?.({ attempt: 1, delayMs: 0, code: outcome.code, message: outcome.message, cursor });
            continue;
          }
          if (!RETRY_CODES.has(outcome.code)) return stop("protocol", outcome.message || `Closed with ${outcome.code}`, { code: outcome.code });
          break;
        case "unreachable":
        case "completed":
          break;
      }
      refusedFreshToken = false;
      const connected = "acknowledged" in outcome && outcome.acknowledged;
      failures = connected ? 1 : failures + 1;
      if (failures > maxAttempts) {
        return stop("retries_exhausted", `${maxAttempts} connections failed in a row; the last: ${messageOf(outcome)}`, outcome.kind === "closed" ? { code: outcome.code } : {});
      }
      const step = Math.min(maxMs, baseMs * 2 ** (failures - 1));
      const delayMs = Math.round(step / 2 + Math.random() * (step / 2));
      options.onRetry?.({ attempt: failures, delayMs, code: outcome.kind === "closed" ? outcome.code : undefined, message: messageOf(outcome), cursor });
      await sleep(delayMs);
    }
  };

  void run().then((result) => {
    settle(result);
    options.onStop?.(result);
  });

  return {
    get cursor() {
      return cursor;
    },
    stopped,
    async stop() {
      stopping = true;
      wakeSleep?.();
      if (client) await Promise.resolve(client.dispose()).catch(() => undefined);
      return stopped;
    },
  };
}

/** graphql-ws's dispose may return a promise that rejects when the socket never opened: nothing to do then. */
function dispose(client: Client): void {
  void Promise.resolve(client.dispose()).catch(() => undefined);
}

function messageOf(outcome: Outcome): string {
  switch (outcome.kind) {
    case "closed":
      return outcome.message || `closed with ${outcome.code}`;
    case "unreachable":
      return outcome.message;
    case "completed":
      return "the gateway ended the subscription";
    default:
      return outcome.kind;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === "object" && error !== null && "message" in error) return String((error as { message: unknown }).message);
  return String(error);
}
