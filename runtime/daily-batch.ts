// The daily diagnosis and prevention batch, run by the realtime workers themselves (no outside
// cron): once the configured UTC hour has come, an instance claims today's run and diagnoses
// every person (today's snapshot) and evaluates their prevention rules, in keyset batches, with
// progress in the logs.
//
// Once across all instances through a lease row per day (scheduled_run), not an advisory lock:
// an advisory lock is held by one session for the whole run and leaves no record, so an
// instance starting after the run had finished would run it again, and a crash would lose how
// far it got. The row says the day is done, and a run whose instance died (lease not renewed)
// is taken over from the last batch it recorded. A PG-backed job queue (pg-boss, graphile-worker)
// would do this too, with a schema and a polling loop of its own for one job a day.
import { randomUUID } from "node:crypto";
import type { PrismaClient } from "../platform/database/database.ts";
import type { Logger } from "../platform/logger.ts";
import { evaluateUsers } from "../subgraphs/alerts/prevention/evaluate.ts";
import { diagnoseUsers } from "../subgraphs/wellness/diagnosis/service.ts";

export const DAILY_BATCH_JOB = "daily-diagnosis";

export interface DailyBatchOptions {
  /** The UTC hour from which the day's run is due (a process started later that day catches up). */
  hourUtc: number;
  batchSize: number;
  checkEveryMs: number;
  /** A run not renewed for this long is taken over by another instance (default 5 minutes). */
  leaseMs?: number;
}

export interface DailyBatchReport {
  runDate: string;
  users: number;
  alertsRaised: number;
  /** True when this instance continued a run another instance had started. */
  tookOver: boolean;
}

export class DailyBatch {
  private readonly owner = randomUUID();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly logger: Logger,
    private readonly options: DailyBatchOptions,
  ) {}

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.running = this.runIfDue().catch((error: unknown) => this.logger.error({ err: error, job: DAILY_BATCH_JOB }, "daily batch failed; it is retried at the next check"));
      void this.running.finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.options.checkEveryMs);
      });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Runs today's batch when its hour has come and no instance has it; undefined when there was nothing to do here. */
  async runIfDue(now: Date = new Date()): Promise<DailyBatchReport | undefined> {
    if (now.getUTCHours() < this.options.hourUtc) return undefined;
    const runDate = now.toISOString().slice(0, 10);
    const claimed = await this.claim(runDate);
    if (!claimed) return undefined;
    const tookOver = claimed.lastUserId !== "" || claimed.usersDone > 0;
    const log = this.logger.child({ job: DAILY_BATCH_JOB, runDate });
    log.info({ after: claimed.lastUserId || undefined, usersDone: claimed.usersDone }, tookOver ? "daily batch: continuing a run another instance left" : "daily batch: started");
    const started = performance.now();
    let { lastUserId, usersDone, alertsRaised } = claimed;
    for (;;) {
      if (this.stopped) {
        log.info({ usersDone }, "daily batch: stopping with the process; another instance continues when the lease expires");
        return undefined;
      }
      const rows = await this.prisma.$queryRaw<{ id: string }[]>`SELECT id FROM app_user WHERE id > ${lastUserId} ORDER BY id LIMIT ${this.options.batchSize}`;
      if (rows.length === 0) break;
      const ids = rows.map((row) => row.id);
      // The batch evaluates the rules itself, so its diagnoses are not announced (the prevention
      // consumer would evaluate everyone a second time).
      await diagnoseUsers(this.prisma, ids, now);
      alertsRaised += (await evaluateUsers(this.prisma, ids, now)).raised.length;
      lastUserId = ids[ids.length - 1]!;
      usersDone += ids.length;
      if (!(await this.record(runDate, lastUserId, usersDone, alertsRaised))) {
        log.warn({ usersDone }, "daily batch: lease lost to another instance; leaving the run to it");
        return undefined;
      }
      log.info({ usersDone, alertsRaised }, "daily batch: progress");
    }
    await this.prisma.$executeRaw`
      UPDATE scheduled_run SET finished_at = now() WHERE job = ${DAILY_BATCH_JOB} AND run_date = ${runDate}::date AND lease_owner = ${this.owner}`;
    log.info({ users: usersDone, alertsRaised, seconds: Math.round((performance.now() - started) / 100) / 10 }, "daily batch: done");
    return { runDate, users: usersDone, alertsRaised, tookOver };
  }

  /** Today's run, when this instance now holds it: new, or left by an instance whose lease expired. */
  private async claim(runDate: string): Promise<{ lastUserId: string; usersDone: number; alertsRaised: number } | undefined> {
    const lease = this.options.leaseMs ?? 5 * 60_000;
    const [row] = await this.prisma.$queryRaw<{ lastUserId: string; usersDone: number; alertsRaised: number }[]>`
      INSERT INTO scheduled_run (job, run_date, lease_owner, leased_until)
      VALUES (${DAILY_BATCH_JOB}, ${runDate}::date, ${this.owner}, now() + ${lease}::int * interval '1 millisecond')
      ON CONFLICT (job, run_date) DO UPDATE SET lease_owner = EXCLUDED.lease_owner, leased_until = EXCLUDED.leased_until
        WHERE scheduled_run.finished_at IS NULL AND scheduled_run.leased_until < now()
      RETURNING last_user_id AS "lastUserId", users_done AS "usersDone", alerts_raised AS "alertsRaised"`;
    return row;
  }

  /** Records a batch and renews the lease; false when the lease is no longer this instance's. */
  private async record(runDate: string, lastUserId: string, usersDone: number, alertsRaised: number): Promise<boolean> {
    const lease = this.options.leaseMs ?? 5 * 60_000;
    const updated = await this.prisma.$executeRaw`
      UPDATE scheduled_run SET last_user_id = ${lastUserId}, users_done = ${usersDone}, alerts_raised = ${alertsRaised},
        leased_until = now() + ${lease}::int * interval '1 millisecond'
      WHERE job = ${DAILY_BATCH_JOB} AND run_date = ${runDate}::date AND lease_owner = ${this.owner}`;
    return updated === 1;
  }
}
