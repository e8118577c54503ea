import { WELLNESS_DIAGNOSED_TOPIC, wellnessDiagnosedOf } from "../domain/diagnosis/diagnosis-event.ts";
import type { PrismaClient } from "../platform/database/database.ts";
import type { Logger } from "../platform/logger.ts";
import { EventConsumer } from "../realtime/events/event-consumer.ts";
import { evaluateUsers } from "../subgraphs/alerts/prevention/evaluate.ts";

/** Its row in `event_consumer`. */
export const PREVENTION_CONSUMER = "prevention";

/**
 * Prevention's outbox consumer: a diagnosis is a data change, so the people of each batch of
 * `wellness.diagnosed` events are evaluated again, together. Delivery is at least once, and
 * evaluating a person twice raises nothing twice: cool-downs are decided under a lock.
 */
export function preventionConsumer(prisma: PrismaClient, logger: Logger, options: { pollIntervalMs: number }): EventConsumer {
  return new EventConsumer(prisma, logger, {
    name: PREVENTION_CONSUMER,
    topics: [WELLNESS_DIAGNOSED_TOPIC],
    pollIntervalMs: options.pollIntervalMs,
    async handle(events) {
      const people = new Set<string>();
      for (const event of events) {
        const diagnosed = wellnessDiagnosedOf(event);
        if (diagnosed) people.add(diagnosed.user_id);
        else logger.warn({ position: event.position.toString() }, "a wellness.diagnosed event that names no person; passed over");
      }
      if (people.size > 0) await evaluateUsers(prisma, [...people], new Date());
    },
  });
}
