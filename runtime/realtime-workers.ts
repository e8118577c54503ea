import { WebhookDispatcher } from "../gateway/webhooks/webhook-dispatcher.ts";
import { fanOutWebhooks } from "../gateway/webhooks/webhook-fan-out.ts";
import { createPrismaClient, type DatabaseTarget } from "../subgraphs/shared/database.ts";
import type { Config } from "./config.ts";
import { createEventBus } from "./events/create-event-bus.ts";
import { OutboxRelay } from "./events/outbox-relay.ts";
import type { Logger } from "./logger.ts";

export interface RunningRealtimeWorkers {
  relay: OutboxRelay;
  dispatcher: WebhookDispatcher;
  stop(): Promise<void>;
}

/**
 * The outbox relay (positions, webhook fan-out, bus announcements) and the webhook dispatcher.
 * Safe to run in every instance: relays serialise on an advisory lock and dispatchers share
 * deliveries with leases.
 */
export async function startRealtimeWorkers(config: Config, database: DatabaseTarget, logger: Logger): Promise<RunningRealtimeWorkers> {
  const log = logger.child({ component: "realtime" });
  const prisma = createPrismaClient(database);
  const bus = await createEventBus(config.realtime, prisma, database, log);
  const dispatcher = new WebhookDispatcher(prisma, config.realtime.webhooks, config.tokens.keyEncryptionKey, log);
  // The dispatcher is woken when a publication created deliveries (it also polls on its own).
  let created = 0;
  const relay = new OutboxRelay(prisma, database, bus, log, {
    pollIntervalMs: config.realtime.relayPollMs,
    inTransaction: async (tx, events) => void (created += await fanOutWebhooks(tx, events)),
    afterPublish: () => {
      if (created === 0) return;
      created = 0;
      dispatcher.wake();
    },
  });
  await relay.start();
  dispatcher.start();
  return {
    relay,
    dispatcher,
    async stop() {
      await relay.stop();
      await dispatcher.stop();
      await bus.close();
      await prisma.$disconnect();
    },
  };
}
