import { WebhookDispatcher } from "../realtime/webhooks/webhook-dispatcher.ts";
import { createPrismaClient, type DatabaseTarget } from "../platform/database/database.ts";
import type { Config } from "../platform/config/config.ts";
import { createEventBus } from "../realtime/events/create-event-bus.ts";
import { OutboxRelay } from "../realtime/events/outbox-relay.ts";
import type { Logger } from "../platform/logger.ts";
import { preventionConsumer } from "./prevention-consumer.ts";

export interface RunningRealtimeWorkers {
  relay: OutboxRelay;
  dispatcher: WebhookDispatcher;
  stop(): Promise<void>;
}

/**
 * The outbox relay (positions, webhook fan-out, bus announcements), the webhook dispatcher and
 * prevention's outbox consumer (`wellness.diagnosed`). Safe to run in every instance: relays
 * serialise on an advisory lock, dispatchers share deliveries with leases and consumers their
 * position with a lease.
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
  // Every instance hears the bus, so the one that holds the consumer's lease when an event
  // arrives runs again after its batch; the poll covers a bus that missed it.
  const prevention = preventionConsumer(prisma, log, { pollIntervalMs: config.realtime.relayPollMs });
  await prevention.start();
  const unsubscribe = await bus.subscribe((event) => {
    if (prevention.wants(event)) prevention.wake();
  });
  await relay.start();
  dispatcher.start();
  return {
    relay,
    dispatcher,
    async stop() {
      await relay.stop();
      await unsubscribe();
      await prevention.stop();
      await dispatcher.stop();
      await bus.close();
      await prisma.$disconnect();
    },
  };
}
