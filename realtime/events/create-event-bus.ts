import type { DatabaseTarget, PrismaClient } from "../../platform/database/database.ts";
import type { Logger } from "../../platform/logger.ts";
import type { EventBus } from "./event-bus.ts";
import { NatsEventBus } from "./nats-event-bus.ts";
import { PostgresEventBus } from "./postgres-event-bus.ts";
import type { RealtimeConfig } from "../../platform/config/realtime-config.ts";

/** NATS JetStream when NATS_URL is set, PostgreSQL LISTEN/NOTIFY otherwise. */
export async function createEventBus(config: RealtimeConfig, prisma: PrismaClient, database: DatabaseTarget, logger: Logger): Promise<EventBus> {
  if (config.natsUrl) return NatsEventBus.connect(config.natsUrl, prisma, logger);
  return new PostgresEventBus(prisma, database, logger);
}
