import { WebhookDispatcher } from "../realtime/webhooks/webhook-dispatcher.ts";
import { createPrismaClient, type DatabaseTarget } from "../platform/database/database.ts";
import type { Config } from "../platform/config/config.ts";
import { createEventBus } from "../realtime/events/create-event-bus.ts";
import { OutboxRelay } from "../realtime/events/outbox-relay.ts";
import type { Logger } from "../platform/logger.ts";

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
  // The relay creates the webhook deliveries as it positions events, and wakes the dispatcher
  // when a run created some (the dispatcher also polls on its own).
  const relay = new OutboxRelay(prisma, database, bus, log, {
    pollIntervalMs: config.realtime.relayPollMs,
    onDeliveries: () => dispatcher.wake(),
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
