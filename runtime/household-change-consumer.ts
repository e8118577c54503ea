import { HOUSEHOLD_CHANGED_TOPIC, householdChangedOf } from "../domain/household/household-change-event.ts";
import type { PrismaClient } from "../platform/database/database.ts";
import type { Logger } from "../platform/logger.ts";
import { EventConsumer } from "../realtime/events/event-consumer.ts";
import { evaluateUsers } from "../subgraphs/alerts/prevention/evaluate.ts";
import { diagnoseUsers } from "../subgraphs/wellness/diagnosis/service.ts";

/** Its row in `event_consumer`. */
export const HOUSEHOLD_CHANGE_CONSUMER = "household-changes";

/**
 * The household-change consumer: a write of the Kamina app (or an import) changed a person's
 * records, so that person's diagnosis (today's snapshot) and prevention rules run again, for the
 * people of each batch together. Alerts the rules raise go out through the outbox like any
 * other. At least once: a person diagnosed twice rewrites the same day's snapshot, and cool-downs
 * (decided under a lock) keep a second evaluation from raising an alert twice.
 */
export function householdChangeConsumer(prisma: PrismaClient, logger: Logger, options: { pollIntervalMs: number }): EventConsumer {
  return new EventConsumer(prisma, logger, {
    name: HOUSEHOLD_CHANGE_CONSUMER,
    topics: [HOUSEHOLD_CHANGED_TOPIC],
    pollIntervalMs: options.pollIntervalMs,
    async handle(events) {
      const people = new Set<string>();
      for (const event of events) {
        const changed = householdChangedOf(event);
        if (changed) people.add(changed.user_id);
        else logger.warn({ position: event.position.toString() }, "a household.changed event that names no person; passed over");
      }
      if (people.size === 0) return;
      const now = new Date();
      const started = performance.now();
      await diagnoseUsers(prisma, [...people], now);
      const report = await evaluateUsers(prisma, [...people], now);
      logger.debug({ people: people.size, raised: report.raised.length, ms: Math.round(performance.now() - started) }, "household changes: diagnosis and prevention run again");
    },
  });
}
