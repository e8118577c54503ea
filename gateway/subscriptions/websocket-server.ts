import type { Server } from "node:http";
import { GraphQLError } from "graphql";
import type { Context } from "graphql-ws";
import { useServer, type Extra } from "graphql-ws/use/ws";
import { WebSocket, WebSocketServer } from "ws";
import type { LimitsConfig } from "../../platform/config/limits-config.ts";
import type { Logger } from "../../platform/logger.ts";
import { presented } from "../../platform/auth/authenticate.ts";
import { checkTokenBinding, DpopError, type ProofPolicy } from "../../platform/auth/dpop.ts";
import { AuthenticationError, type TokenVerifier } from "../../platform/auth/token-verifier.ts";
import type { Viewer } from "../../platform/auth/viewer.ts";
import { isDatabaseUnavailable } from "../../platform/database/unavailable.ts";
import { CLOSE_CODES, closeCodeForRejectedToken, closeReason } from "./close-codes.ts";
import { DocumentCache } from "./document-cache.ts";
import { Rounds } from "./rounds.ts";
import type { TrustedDocumentGate } from "../trusted-documents/trusted-document-gate.ts";
import type { SubscriberConnection, SubscriptionHub } from "./subscription-hub.ts";

export interface SubscriptionServerOptions {
  server: Server;
  path: string;
  hub: SubscriptionHub;
  verifier: TokenVerifier;
  /** DPoP proofs of bound tokens, checked at connection_init. */
  proofs: Extract<ProofPolicy, { edge: true }>;
  logger: Logger;
  /** How often an idle connection's token is checked again (revocation closes it even without events). */
  recheckIntervalMs: number;
  /** How often each connection is pinged; one that has not answered the previous ping by then is dropped. */
  keepAliveMs: number;
  /** Message size, sockets per client and the `connection_init` wait (`websocket`); the operation limits (`graphql`). */
  limits: Pick<LimitsConfig, "websocket" | "graphql">;
  /** With TRUSTED_DOCUMENTS=enforce, a subscription runs only a document registered for its client, as over HTTP. */
  trustedDocuments?: Pick<TrustedDocumentGate, "admit">;
}

export interface RunningSubscriptionServer {
  connectionCount(): number;
  /** Checks the token of every connection whose viewer matches now, closing those that no longer hold (a revocation notice). */
  recheckWhere(matches: (viewer: Viewer) => boolean): number;
  close(): Promise<void>;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** What graphql-ws hands onConnect: the socket, its upgrade request and, once admitted, its Connection. */
type ConnectContext = Context<Record<string, unknown> | undefined, Extra & Partial<{ connection?: Connection }>>;

class Connection implements SubscriberConnection {
  private readonly timers: NodeJS.Timeout[] = [];
  private awaitingPong = false;

  constructor(
    readonly socket: WebSocket,
    readonly viewer: Viewer,
    readonly authorization: string,
    readonly dpop: string | undefined,
  ) {
    socket.on("pong", () => (this.awaitingPong = false));
  }

  /** Pings the peer; one that never answered the last ping is gone (a dead network path), and dropped. */
  keepAlive(): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    if (this.awaitingPong) {
      this.socket.terminate();
      return;
    }
    this.awaitingPong = true;
    this.socket.ping();
  }

  bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  close(code: number, reason: string): void {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) this.socket.close(code, closeReason(reason));
  }

  track(timer: NodeJS.Timeout): void {
    timer.unref();
    this.timers.push(timer);
  }

  dispose(): void {
    for (const timer of this.timers) clearTimeout(timer);
  }
}

/**
 * graphql-ws on the gateway's own HTTP server and /graphql path. The token travels in
 * `connection_init` (`{ "authorization": "Bearer <access token>" }`, or for a DPoP-bound token
 * `{ "authorization": "DPoP <access token>", "dpop": "<proof>" }`): none or a bad one closes
 * with 4401. The token is checked again on every event, every `recheckIntervalMs`, and the
 * connection closes when it expires (4401) or its consent is revoked (4403); a token refused at
 * connect gets the same code as it would on a live socket (closeCodeForRejectedToken).
 */
export function attachSubscriptionServer(options: SubscriptionServerOptions): RunningSubscriptionServer {
  const { hub, verifier, logger } = options;
  const { websocket: socketLimits } = options.limits;
  // `ws` reads messages of up to 100 MiB by default, before anyone is authenticated; a larger
  // message than this closes the socket (1009) as it arrives, unparsed.
  const wss = new WebSocketServer({ server: options.server, path: options.path, maxPayload: socketLimits.maxPayloadBytes });
  const connections = new Map<WebSocket, Connection>();
  /** Open, authenticated sockets per partner client (a consent token counts for its client). */
  const perClient = new Map<string, number>();

  const recheck = async (connection: Connection) => {
    try {
      await verifier.verifyAuthorization(connection.authorization);
    } catch (error) {
      if (error instanceof AuthenticationError) connection.close(closeCodeForRejectedToken(error), error.reason);
      else logger.warn({ err: error }, "could not re-check a subscription token; trying again later");
    }
  };
  const rechecks = new Rounds<Connection>(options.recheckIntervalMs, (connection) => void recheck(connection));
  const pings = new Rounds<Connection>(options.keepAliveMs, (connection) => connection.keepAlive());

  const documents = new DocumentCache(hub.options.planner.apiSchema, options.limits.graphql);

  /** Checks a socket's connection_init: its token, its DPoP proof and the client's socket count. */
  const admit = async (ctx: ConnectContext): Promise<boolean> => {
    const socket = ctx.extra.socket;
    const params = ctx.connectionParams ?? {};
    const given = params.authorization ?? params.Authorization;
    const authorization = typeof given === "string" ? given : undefined;
    if (!authorization) {
      socket.close(CLOSE_CODES.UNAUTHENTICATED, 'Send connection_init with { "authorization": "Bearer <access token>" }');
      return false;
    }
    let verified;
    try {
      verified = await verifier.verifyAuthorization(authorization);
    } catch (error) {
      if (!(error instanceof AuthenticationError)) throw error;
      // The code a live socket would close with for the same refusal: a revoked consent is 4403 here too.
      socket.close(closeCodeForRejectedToken(error), closeReason(error.reason));
      return false;
    }
    if (!verified) {
      socket.close(CLOSE_CODES.UNAUTHENTICATED, "A bearer access token is required");
      return false;
    }
    // A token bound to a key (RFC 9449) needs its proof in connection_init (`dpop`), made for
    // GET on the http(s) URL of /graphql; the gateway forwards it with every event's fetches.
    let dpop: string | undefined;
    try {
      dpop = await checkTokenBinding(presented(verified), typeof params.dpop === "string" ? params.dpop : undefined, ctx.extra.request, options.proofs);
    } catch (error) {
      if (!(error instanceof DpopError || error instanceof AuthenticationError)) throw error;
      socket.close(CLOSE_CODES.UNAUTHENTICATED, closeReason(error.message));
      return false;
    }
    // Closed while its token was checked: nothing to count or watch.
    if (socket.readyState !== WebSocket.OPEN) return false;
    const clientId = verified.viewer.clientId;
    const open = perClient.get(clientId) ?? 0;
    if (open >= socketLimits.maxConnectionsPerClient) {
      socket.close(CLOSE_CODES.TOO_MANY_CONNECTIONS, closeReason(`This client already has ${open} open subscription sockets, the most it may`));
      return false;
    }
    perClient.set(clientId, open + 1);
    const connection = new Connection(socket, verified.viewer, authorization, dpop);
    if (verified.claims.exp) {
      const untilExpiry = verified.claims.exp * 1000 - Date.now();
      connection.track(setTimeout(() => connection.close(CLOSE_CODES.UNAUTHENTICATED, "The token has expired"), Math.min(Math.max(untilExpiry, 0), MAX_TIMER_MS)));
    }
    rechecks.add(connection);
    pings.add(connection);
    connections.set(socket, connection);
    ctx.extra.connection = connection;
    return true;
  };

  const disposer = useServer<Record<string, unknown> | undefined, { connection?: Connection }>(
    {
      schema: hub.options.planner.apiSchema,
      onSubscribe: async (ctx, _id, payload) => {
        const connection = ctx.extra.connection;
        if (!connection || !options.trustedDocuments) return documents.prepare(payload);
        try {
          // graphql-ws requires a `query`: an empty one stands for "the hash names it".
          const trusted = await options.trustedDocuments.admit(connection.viewer.clientId, { method: "POST", search: "", body: { ...payload, query: payload.query || undefined } });
          return documents.prepare(trusted === undefined ? payload : { ...payload, query: trusted });
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
      },
      onConnect: async (ctx) => {
        try {
          return await admit(ctx);
        } catch (error) {
          // graphql-ws would close with 4500 and the error's own message: neither is for a client.
          const unavailable = isDatabaseUnavailable(error);
          if (unavailable) logger.warn({ err: error }, "a subscription socket could not be admitted: the database is unavailable");
          else logger.error({ err: error }, "a subscription socket could not be admitted");
          ctx.extra.socket.close(
            unavailable ? CLOSE_CODES.TRY_AGAIN_LATER : 4500,
            unavailable ? "The database is unavailable for now: reconnect and resume with `after`" : "Internal server error",
          );
          return false;
        }
      },
      subscribe: (args) => {
        const connection = (args.contextValue as { connection?: Connection } | undefined)?.connection;
        if (!connection) return { errors: [new GraphQLError("Not authenticated", { extensions: { code: "UNAUTHENTICATED" } })] };
        return hub.subscribe(connection, args);
      },
      context: (ctx) => ({ connection: ctx.extra.connection }),
      execute: () => ({
        errors: [new GraphQLError("This socket serves subscriptions; send queries and mutations with HTTP POST /graphql", { extensions: { code: "BAD_REQUEST" } })],
      }),
      onClose: (ctx) => {
        const connection = ctx.extra.connection;
        if (!connection) return;
        connection.dispose();
        rechecks.delete(connection);
        pings.delete(connection);
        connections.delete(connection.socket);
        const open = (perClient.get(connection.viewer.clientId) ?? 1) - 1;
        if (open > 0) perClient.set(connection.viewer.clientId, open);
        else perClient.delete(connection.viewer.clientId);
      },
      connectionInitWaitTimeout: socketLimits.connectionInitTimeoutMs,
    },
    wss,
    // graphql-ws's own keep-alive (two timers per socket, pings bunched as the sockets were
    // opened) is off: `pings` above does it. A socket that never sends connection_init is
    // closed by graphql-ws's init timeout (connectionInitWaitTimeout, 4408) instead.
    0,
  );

  return {
    connectionCount: () => connections.size,
    recheckWhere(matches) {
      let checked = 0;
      for (const connection of connections.values()) {
        if (!matches(connection.viewer)) continue;
        checked++;
        void recheck(connection);
      }
      return checked;
    },
    async close() {
      rechecks.stop();
      pings.stop();
      for (const client of wss.clients) client.close(CLOSE_CODES.GOING_AWAY, "The gateway is shutting down: resume with `after`");
      for (const connection of connections.values()) connection.dispose();
      await disposer.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
