import { PairwiseIds } from "../platform/auth/pairwise-ids.ts";
import { partnerIdsOver } from "../platform/partner-ids/partner-ids.ts";
import { WebhookDispatcher } from "../realtime/webhooks/webhook-dispatcher.ts";
import { allTenants, createPrismaClient, type DatabaseTarget } from "../platform/database/database.ts";
import type { Config } from "../platform/config/config.ts";
import { createEventBus } from "../realtime/events/create-event-bus.ts";
import { OutboxRelay } from "../realtime/events/outbox-relay.ts";
import type { Logger } from "../platform/logger.ts";
import { preventionConsumer } from "./prevention-consumer.ts";
import { householdChangeConsumer } from "./household-change-consumer.ts";
import { DailyBatch } from "./daily-batch.ts";
import { ExportWorker } from "../realtime/exports/export-worker.ts";
import { createExportStorage } from "../realtime/exports/export-storage.ts";
import { RetentionPurge, RetentionWorker } from "../realtime/retention/retention-purge.ts";
import { databaseReadiness } from "../platform/database/readiness.ts";
import { reportOutboxBacklog } from "../platform/observability/metrics.ts";

export interface RunningRealtimeWorkers {
  relay: OutboxRelay;
  dispatcher: WebhookDispatcher;
  /** Whether its database answers (/readyz on the metrics port). */
  ready(): Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * The outbox relay (positions, webhook fan-out, bus announcements), the webhook dispatcher and
 * prevention's outbox consumer (`wellness.diagnosed`), the household-change consumer
 * (`household.changed`: the app's writes re-run the person's diagnosis and rules), the export worker and the retention purge. Safe to run in every instance: relays
 * serialise on an advisory lock, dispatchers share deliveries with leases and consumers their
 * position with a lease.
 */
export async function startRealtimeWorkers(config: Config, database: DatabaseTarget, logger: Logger): Promise<RunningRealtimeWorkers> {
  const log = logger.child({ component: "realtime" });
  const prisma = createPrismaClient(database, { access: allTenants("realtime-workers") });
  const bus = await createEventBus(config.realtime, prisma, database, log);
  const partnerIds = partnerIdsOver(prisma, config.tokens);
  const dispatcher = new WebhookDispatcher(prisma, config.realtime.webhooks, config.tokens, log, undefined, new PairwiseIds(config.tokens.pairwiseIdKey), partnerIds);
  // The relay creates the webhook deliveries as it positions events, and wakes the dispatcher
  // when a run created some (the dispatcher also polls on its own).
  // Prevention's consumer wakes when this process's relay positions an event of its topic; in
  // other instances (whose relays found the lock taken) its poll picks the event up.
  const prevention = preventionConsumer(prisma, log, { pollIntervalMs: config.realtime.relayPollMs });
  // The Kamina app's writes and imports (household.changed): the person's diagnosis and rules again.
  const householdChanges = householdChangeConsumer(prisma, log, { pollIntervalMs: config.realtime.relayPollMs });
  const relay = new OutboxRelay(prisma, database, bus, log, {
    pollIntervalMs: config.realtime.relayPollMs,
    batchWindowMs: config.realtime.relayBatchWindowMs,
    onDeliveries: () => dispatcher.wake(),
    onPositioned: (events) => {
      if (events.some((event) => prevention.wants(event))) prevention.wake();
      if (events.some((event) => householdChanges.wants(event))) householdChanges.wake();
    },
  });
  // Batch exports (POST /v1/exports/wellness): jobs are claimed with a lease, one instance each.
  const exports = new ExportWorker(prisma, createExportStorage(config.exports), log, { pollMs: config.exports.pollMs, retentionMs: config.exports.retentionMs, pairwiseIds: new PairwiseIds(config.tokens.pairwiseIdKey), partnerIds });
  // Retention (docs/compliance/retention.md): every RETENTION_PURGE_INTERVAL_MS, in every instance
  // (each statement deletes rows no other instance has; the audit chains purge under a lock).
  const retention = new RetentionWorker(new RetentionPurge(prisma, config.retention, log.child({ job: "retention" })), config.retention.purgeIntervalMs, log);
  // The daily diagnosis and prevention batch at DAILY_BATCH_HOUR (UTC): once across all instances.
  const { hourUtc, batchSize, checkEveryMs } = config.realtime.dailyBatch;
  const dailyBatch = hourUtc === null ? undefined : new DailyBatch(prisma, log, { hourUtc, batchSize, checkEveryMs });
  // kamina_outbox_lag_seconds, read at scrape time only (no query unless Prometheus asks).
  const unreport = reportOutboxBacklog(async () => {
    const [row] = await prisma.$queryRaw<{ pending: number; oldest: number }[]>`
      SELECT count(*)::int AS pending, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS oldest
      FROM (SELECT created_at FROM outbox_event WHERE published_at IS NULL ORDER BY published_at, id LIMIT 100000) AS waiting`;
    return { pending: row?.pending ?? 0, oldestSeconds: row?.oldest ?? 0 };
  });
  await prevention.start();
  await householdChanges.start();
  await relay.start();
  dispatcher.start();
  exports.start();
  retention.start();
  dailyBatch?.start();
  return {
    relay,
    dispatcher,
    ready: databaseReadiness(prisma),
    async stop() {
      unreport();
      await relay.stop();
      await prevention.stop();
      await householdChanges.stop();
      await dispatcher.stop();
      await exports.stop();
      await retention.stop();
      await dailyBatch?.stop();
      await bus.close();
      await prisma.$disconnect();
    },
  };
}
