import type { GraphQLPersonIds } from "../pairwise/graphql-person-ids.ts";
import type { GraphQLDataSource } from "@apollo/gateway";
import type { EventFeed } from "../../realtime/events/event-feed.ts";
import type { createErrorFormatter } from "../../platform/http/format-error.ts";
import type { Logger } from "../../platform/logger.ts";
import type { TokenVerifier } from "../../platform/auth/token-verifier.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import type { GatewayContext } from "../context.ts";
import type { SubscriptionPlanner } from "./subscription-planner.ts";

export interface HubOptions {
  feed: EventFeed;
  planner: SubscriptionPlanner;
  /** The subgraph data sources by name (the same kind the gateway queries through). */
  services: Record<string, GraphQLDataSource<GatewayContext>>;
  prisma: PrismaClient;
  verifier: TokenVerifier;
  logger: Logger;
  formatError: ReturnType<typeof createErrorFormatter>;
  /** Person ids as each subscriber's client sees them (issue 16, item 6). */
  personIds: GraphQLPersonIds;
  /** Results waiting for one subscriber before it is closed as too slow. */
  maxQueuedPerSubscriber?: number;
  /** Unsent bytes on one socket before it is closed as too slow. */
  maxBufferedBytes?: number;
  /** Live events held for one shared stream while it works; beyond that it reads the outbox instead. */
  maxQueuedPerStream?: number;
}
