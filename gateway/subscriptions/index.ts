import { GraphQLPersonIds } from "../pairwise/graphql-person-ids.ts";
import { PairwiseIds } from "../../platform/auth/pairwise-ids.ts";
import type { Server } from "node:http";
import type { Config, SubgraphName } from "../../platform/config/config.ts";
import { createEventBus } from "../../realtime/events/create-event-bus.ts";
import { listen } from "../../platform/database/database-listener.ts";
import { EventFeed } from "../../realtime/events/event-feed.ts";
import type { createErrorFormatter } from "../../platform/http/format-error.ts";
import type { Logger } from "../../platform/logger.ts";
import type { ProofPolicy } from "../../platform/auth/dpop.ts";
import type { TokenVerifier } from "../../platform/auth/token-verifier.ts";
import type { DatabaseTarget, PrismaClient } from "../../platform/database/database.ts";
import { parseRevocationNotice, REVOCATION_CHANNEL } from "../auth/revocation-notice.ts";
import { SubgraphDataSource } from "../subgraph-data-source.ts";
import { GatewaySignature } from "../../platform/auth/gateway-signature.ts";
import { alertRoute, SubscriptionHub } from "./subscription-hub.ts";
import { SubscriptionPlanner } from "./subscription-planner.ts";
import { attachSubscriptionServer, type SubscriptionServerOptions } from "./websocket-server.ts";

export interface SubscriptionsOptions {
  server: Server;
  config: Config;
  database: DatabaseTarget;
  prisma: PrismaClient;
  verifier: TokenVerifier;
  /** DPoP proofs of bound tokens, checked at connection_init. */
  proofs: Extract<ProofPolicy, { edge: true }>;
  supergraphSdl: string;
  subgraphUrls: Record<SubgraphName, string>;
  formatError: ReturnType<typeof createErrorFormatter>;
  logger: Logger;
  trustedDocuments?: SubscriptionServerOptions["trustedDocuments"];
}

export interface RunningSubscriptions {
  hub: SubscriptionHub;
  stop(): Promise<void>;
}

/** GraphQL subscriptions over graphql-ws on the gateway's /graphql, fed by the event bus. */
export async function startSubscriptions(options: SubscriptionsOptions): Promise<RunningSubscriptions> {
  const { config, logger } = options;
  const bus = await createEventBus(config.realtime, options.prisma, options.database, logger);
  const feed = await EventFeed.start(bus, logger, alertRoute);
  const planner = new SubscriptionPlanner(options.supergraphSdl, !config.unsafeDisableScopeEnforcement);
  const signature = new GatewaySignature(config.tokens.keyEncryptionKey);
  const services = Object.fromEntries(
    Object.entries(options.subgraphUrls).map(([name, url]) => [name, new SubgraphDataSource(name, url, config.subgraphTimeoutMs, signature)]),
  );
  const hub = new SubscriptionHub({
    feed,
    planner,
    services,
    prisma: options.prisma,
    verifier: options.verifier,
    logger,
    formatError: options.formatError,
    personIds: new GraphQLPersonIds(new PairwiseIds(config.tokens.pairwiseIdKey)),
    maxQueuedPerSubscriber: config.realtime.subscriberQueue,
  });
  const server = attachSubscriptionServer({
    server: options.server,
    path: "/graphql",
    hub,
    verifier: options.verifier,
    proofs: options.proofs,
    logger,
    recheckIntervalMs: config.realtime.subscriptionRecheckMs,
    keepAliveMs: config.realtime.subscriptionKeepAliveMs,
    limits: config.limits,
    ...(options.trustedDocuments ? { trustedDocuments: options.trustedDocuments } : {}),
  });
  // Revocation closes the sockets it concerns at once (gateway/auth/revocation-notice.ts). On the
  // PostgreSQL this gateway shares with every other instance, whichever event bus carries alerts.
  const unlisten = await listen(
    options.database,
    REVOCATION_CHANNEL,
    (payload) => {
      const notice = parseRevocationNotice(payload);
      server.recheckWhere(
        (viewer) =>
          notice === undefined ||
          notice.tokenIds.includes(viewer.tokenId) ||
          notice.clientIds.includes(viewer.clientId) ||
          (viewer.kind === "consent" && notice.consentIds.includes(viewer.consentId)),
      );
    },
    logger,
  );
  return {
    hub,
    async stop() {
      await unlisten();
      await server.close();
      await feed.stop();
      await bus.close();
    },
  };
}
