// The retention purge: deletes the rows each data class keeps no longer than its window (per
// country, platform/config/retention-config.ts), with what derives from them, a batch per
// statement. Idempotent: a second run finds nothing older and does nothing. Safe in every
// instance at once (each statement deletes rows another has not, and the audit chains purge
// under their head's lock). A run that purged anything records what it purged, per class and
// country, as a `retention.purge` audit event; the audit log's own rows go through audit_purge,
// which chains an `audit.purge` checkpoint before it deletes (docs/compliance/retention.md).
import type { PrismaClient } from "../../platform/database/database.ts";
import type { Logger } from "../../platform/logger.ts";
import { GLOBAL_CHAIN } from "../../platform/audit/audit-chain.ts";
import { RETENTION_CLASSES, RETENTION_COUNTRIES, type RetentionClass, type RetentionConfig, type RetentionCountry } from "../../platform/config/retention-config.ts";

export const RETENTION_PURGE_ACTION = "retention.purge";
const DAY_MS = 24 * 60 * 60 * 1000;
/** The payload an outbox event keeps when its alert is purged but the event must stay (it holds the newest position). */
const PURGED_PAYLOAD = JSON.stringify({ purged: true });

type Scope = RetentionCountry | "default";

export interface PurgeReport {
  startedAt: Date;
  /** Rows purged per class, per country (`default`: rows of no country), only where some were. */
  purged: Partial<Record<RetentionClass, Partial<Record<Scope, number>>>>;
  /** Rows deleted (or emptied) because a purged row derived them: outbox events, webhook deliveries. */
  derived: { outbox_events: number; webhook_deliveries: number };
  total: number;
  /** The `retention.purge` audit event, when anything was purged. */
  eventId: string | null;
  durationMs: number;
}

export interface RetentionPurgeOptions {
  /** The clock the windows are measured from (tests move it). */
  now?: () => Date;
}

/** One batch of one class in one country: the rows deleted, and what derived from them. */
type Batch = (scope: Scope, cutoff: Date, limit: number) => Promise<{ rows: number; events?: number; deliveries?: number }>;

export class RetentionPurge {
  private readonly now: () => Date;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly config: RetentionConfig,
    private readonly logger: Logger,
    options: RetentionPurgeOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
  }

  async run(): Promise<PurgeReport> {
    const startedAt = this.now();
    const report: PurgeReport = { startedAt, purged: {}, derived: { outbox_events: 0, webhook_deliveries: 0 }, total: 0, eventId: null, durationMs: 0 };
    const started = performance.now();
    for (const dataClass of RETENTION_CLASSES) {
      const batch = this.batches[dataClass];
      // Export jobs have no country; every other class is purged country by country, and the
      // audit log's `global` chain (rows of no country) by the default window.
      const scopes: Scope[] = dataClass === "exports" ? ["default"] : dataClass === "audit" ? [...RETENTION_COUNTRIES, "default"] : [...RETENTION_COUNTRIES];
      for (const scope of scopes) {
        const cutoff = new Date(startedAt.getTime() - this.config.days[dataClass][scope] * DAY_MS);
        let rows = 0;
        for (;;) {
          const done = await batch(scope, cutoff, this.config.purgeBatch);
          rows += done.rows;
          report.derived.outbox_events += done.events ?? 0;
          report.derived.webhook_deliveries += done.deliveries ?? 0;
          if (done.rows < this.config.purgeBatch) break;
        }
        if (rows > 0) (report.purged[dataClass] ??= {})[scope] = rows;
        report.total += rows;
      }
    }
    if (report.total > 0) {
      const event = await this.prisma.auditEvent.create({
        data: {
          action: RETENTION_PURGE_ACTION,
          scopes: [],
          fields: [],
          detail: { purged: report.purged, derived: report.derived, total: report.total, now: startedAt.toISOString(), windows_days: this.config.days },
        },
        select: { id: true },
      });
      report.eventId = event.id.toString();
    }
    report.durationMs = Math.round(performance.now() - started);
    this.logger.info({ purged: report.purged, derived: report.derived, total: report.total, eventId: report.eventId, durationMs: report.durationMs }, "retention purge");
    return report;
  }

  private readonly batches: Record<RetentionClass, Batch> = {
    audit: async (scope, cutoff, limit) => {
      const chain = scope === "default" ? GLOBAL_CHAIN : scope;
      const [result] = await this.prisma.$queryRaw<{ purged: bigint }[]>`SELECT purged FROM audit_purge(${chain}, ${cutoff}, ${limit}::int)`;
      return { rows: Number(result?.purged ?? 0) };
    },
    expenses: async (scope, cutoff, limit) => ({
      rows: await this.prisma.$executeRaw`
        DELETE FROM expense WHERE id IN (SELECT id FROM expense WHERE country = ${scope}::"Country" AND occurred_at < ${cutoff} LIMIT ${limit})`,
    }),
    diagnoses: async (scope, cutoff, limit) => {
      // The daily scores (a row per person and year) go with the diagnoses: whole years before the
      // cutoff's year, and in that year the days before the cutoff become NULL.
      const [result] = await this.prisma.$queryRaw<{ rows: number }[]>`
        WITH bounds AS (
          SELECT extract(year FROM ${cutoff}::date)::int AS year,
                 ${cutoff}::date - make_date(extract(year FROM ${cutoff}::date)::int, 1, 1) AS days_before
        ), snapshots AS (
          DELETE FROM wellness_snapshot WHERE id IN (
            SELECT id FROM wellness_snapshot WHERE country = ${scope}::"Country" AND snapshot_date < ${cutoff}::date LIMIT ${limit})
          RETURNING 1
        ), old_years AS (
          DELETE FROM wellness_daily WHERE (user_id, year) IN (
            SELECT w.user_id, w.year FROM wellness_daily w, bounds b WHERE w.country = ${scope}::"Country" AND w.year < b.year LIMIT ${limit})
          RETURNING 1
        ), trimmed AS (
          UPDATE wellness_daily d SET scores = array_fill(NULL::smallint, ARRAY[b.days_before]) || d.scores[b.days_before + 1:]
          FROM bounds b
          WHERE (d.user_id, d.year) IN (
            SELECT w.user_id, w.year FROM wellness_daily w, bounds c
            WHERE w.country = ${scope}::"Country" AND w.year = c.year AND c.days_before > 0
              AND EXISTS (SELECT 1 FROM unnest(w.scores[1:c.days_before]) AS score WHERE score IS NOT NULL)
            LIMIT ${limit})
          RETURNING 1
        )
        SELECT ((SELECT count(*) FROM snapshots) + (SELECT count(*) FROM old_years) + (SELECT count(*) FROM trimmed))::int AS rows`;
      return { rows: result?.rows ?? 0 };
    },
    coach_sessions: async (scope, cutoff, limit) => ({
      // Transcripts go with their session (ON DELETE CASCADE).
      rows: await this.prisma.$executeRaw`
        DELETE FROM coach_session WHERE id IN (SELECT id FROM coach_session WHERE country = ${scope}::"Country" AND ended_at < ${cutoff} LIMIT ${limit})`,
    }),
    coach_transcripts: async (scope, cutoff, limit) => ({
      rows: await this.prisma.$executeRaw`
        DELETE FROM coach_transcript WHERE session_id IN (
          SELECT t.session_id FROM coach_transcript t JOIN coach_session s ON s.id = t.session_id
          WHERE t.country = ${scope}::"Country" AND s.started_at < ${cutoff} LIMIT ${limit})`,
    }),
    alerts: async (scope, cutoff, limit) => {
      // An alert's outbox event and its webhook deliveries derive from it and go with it. The event
      // holding the newest position stays, emptied: the relay numbers the next event after it.
      const [result] = await this.prisma.$queryRaw<{ rows: number; events: number; deliveries: number }[]>`
        WITH gone AS (
          DELETE FROM alert WHERE id IN (SELECT id FROM alert WHERE country = ${scope}::"Country" AND created_at < ${cutoff} LIMIT ${limit})
          RETURNING id
        ), newest AS (SELECT max(position) AS position FROM outbox_event),
        events AS (
          SELECT o.id, (o.position IS NOT NULL AND o.position < newest.position) AS droppable
          FROM outbox_event o JOIN gone g ON o.aggregate_id = g.id, newest WHERE o.topic = 'alert.created'
        ), deliveries AS (
          DELETE FROM webhook_delivery d USING events e WHERE d.event_id = e.id RETURNING d.id
        ), dropped AS (
          DELETE FROM outbox_event o USING events e WHERE o.id = e.id AND e.droppable RETURNING o.id
        ), emptied AS (
          UPDATE outbox_event o SET payload = ${PURGED_PAYLOAD}::jsonb FROM events e WHERE o.id = e.id AND NOT e.droppable RETURNING o.id
        )
        SELECT (SELECT count(*) FROM gone)::int AS rows, ((SELECT count(*) FROM dropped) + (SELECT count(*) FROM emptied))::int AS events,
               (SELECT count(*) FROM deliveries)::int AS deliveries`;
      return { rows: result?.rows ?? 0, events: result?.events ?? 0, deliveries: result?.deliveries ?? 0 };
    },
    events: async (scope, cutoff, limit) => {
      // Only events every durable consumer has handled, whose deliveries are all finished, and
      // never the newest positioned one (the relay numbers the next event after it).
      const [result] = await this.prisma.$queryRaw<{ rows: number; deliveries: number }[]>`
        WITH horizon AS (
          SELECT least(coalesce((SELECT min(position) FROM event_consumer), max(position)), max(position) - 1) AS position FROM outbox_event
        ), gone AS (
          DELETE FROM outbox_event WHERE id IN (
            SELECT o.id FROM outbox_event o, horizon h
            WHERE o.country = ${scope}::"Country" AND o.position IS NOT NULL AND o.position <= h.position AND o.created_at < ${cutoff}
              AND NOT EXISTS (SELECT 1 FROM webhook_delivery d WHERE d.event_id = o.id AND d.status IN ('PENDING', 'FAILED'))
            LIMIT ${limit})
          RETURNING id
        ), deliveries AS (
          DELETE FROM webhook_delivery d USING gone g WHERE d.event_id = g.id RETURNING d.id
        )
        SELECT (SELECT count(*) FROM gone)::int AS rows, (SELECT count(*) FROM deliveries)::int AS deliveries`;
      return { rows: result?.rows ?? 0, deliveries: result?.deliveries ?? 0 };
    },
    idempotency_keys: async (scope, cutoff, limit) => ({
      // The person's country is the tenant: the kept answer (the written record) is theirs.
      rows: await this.prisma.$executeRaw`
        DELETE FROM app_write_request WHERE (user_id, idempotency_key) IN (
          SELECT r.user_id, r.idempotency_key FROM app_write_request r JOIN app_user u ON u.id = r.user_id
          WHERE u.country = ${scope}::"Country" AND r.created_at < ${cutoff} LIMIT ${limit})`,
    }),
    exports: async (_scope, cutoff, limit) => ({
      // The file is deleted when the job expires (the export worker); the job's row goes later.
      rows: await this.prisma.$executeRaw`
        DELETE FROM export_job WHERE id IN (
          SELECT id FROM export_job WHERE status IN ('EXPIRED', 'FAILED') AND created_at < ${cutoff} LIMIT ${limit})`,
    }),
  };
}

/** Runs the purge every `intervalMs` (the first run one interval after start); a run never overlaps the previous one. */
export class RetentionWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly purge: RetentionPurge,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.purge
        .run()
        .catch((error: unknown) => this.logger.error({ err: error }, "retention purge failed; it runs again at the next interval"))
        .finally(() => {
          this.running = undefined;
        });
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
