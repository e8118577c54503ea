import { environmentOf, type PairwiseIds } from "../../platform/auth/pairwise-ids.ts";
import type { PartnerIds } from "../../platform/partner-ids/partner-ids.ts";
import { randomUUID } from "node:crypto";
import type { ExportJob } from "../../generated/prisma/client.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import type { Logger } from "../../platform/logger.ts";
import { DrainLoop } from "../events/drain-loop.ts";
import { ExportJobs, type ExportFormat } from "./export-jobs.ts";
import type { ExportStorage } from "./export-storage.ts";
import { exportFile, wellnessExportRows, type WellnessExportRow } from "./wellness-export.ts";

export interface ExportWorkerOptions {
  /** How often it looks for queued jobs (and for finished ones past their retention). */
  pollMs: number;
  /** How long a finished export's file is kept. */
  retentionMs: number;
  /** How long a claimed job is this worker's without a renewal (default 30 s; renewed every third of it). */
  leaseMs?: number;
  /** People read per statement (default 1000). */
  batchSize?: number;
  /** Each client's pairwise person ids: the `user_id` of a row is the exporting client's (issue 16, item 6). */
  pairwiseIds: PairwiseIds;
  /** Each client's own ids for people: a row's `customer_id` and `bureau_id` are the exporting client's (issue 21, item 1). */
  partnerIds: PartnerIds;
}

/**
 * Runs the export jobs the gateway queues (`export_job`), one at a time per instance, in every
 * instance that runs the realtime workers. A job is claimed with a lease (FOR UPDATE SKIP
 * LOCKED, so two instances never take the same one) that the worker renews while it writes;
 * a worker that dies stops renewing, and once the lease lapses the next worker claims the job
 * and writes it again from the start (each attempt to its own file key; only the attempt that
 * still holds the lease records its file). A worker that is stopped gives its job back at once.
 */
export class ExportWorker {
  private readonly owner = randomUUID();
  private readonly jobs: ExportJobs;
  private readonly loop = new DrainLoop(
    () => this.runOnce(),
    (error) => this.logger.error({ err: error }, "export worker run failed; retrying on the next poll"),
  );
  private readonly stopping = new AbortController();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly storage: ExportStorage,
    private readonly logger: Logger,
    private readonly options: ExportWorkerOptions,
  ) {
    this.jobs = new ExportJobs(prisma);
  }

  start(): void {
    this.loop.pollEvery(this.options.pollMs);
    this.wake();
  }

  wake(): void {
    this.loop.wake();
  }

  /** Stops taking jobs; a job being written is abandoned and given back to the queue. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop.stop();
  }

  /** Expires old files, then runs the next job, if any; returns how many jobs it ran (0 or 1). */
  async runOnce(): Promise<number> {
    await this.expireOldFiles();
    await this.jobs.failAbandoned();
    if (this.stopping.signal.aborted) return 0;
    const job = await this.jobs.claim(this.owner, this.leaseMs);
    if (!job) return 0;
    await this.run(job);
    return 1;
  }

  private get leaseMs(): number {
    return this.options.leaseMs ?? 30_000;
  }

  private async run(job: ExportJob): Promise<void> {
    const log = this.logger.child({ exportId: job.id, attempt: job.attempts });
    const lost = new AbortController();
    const signal = AbortSignal.any([lost.signal, this.stopping.signal]);
    const heartbeat = setInterval(() => {
      this.jobs.renew(job.id, this.owner, this.leaseMs).then(
        (held) => held || lost.abort(new Error("lease lost")),
        (error) => log.warn({ err: error }, "could not renew the export lease"),
      );
    }, Math.max(10, Math.floor(this.leaseMs / 3)));
    const format = job.format as ExportFormat;
    const fileKey = `${job.id}.${job.attempts}.${format}`;
    let written = false;
    try {
      const client = await this.prisma.partnerClient.findUnique({ where: { id: job.clientId }, select: { status: true, countries: true, sandbox: true } });
      if (!client || client.status !== "ACTIVE") {
        await this.jobs.fail(job.id, this.owner, "The client is not active");
        return;
      }
      const started = performance.now();
      let rows = 0;
      const counted = async function* (source: AsyncIterable<WellnessExportRow>) {
        for await (const row of source) {
          rows++;
          yield row;
        }
      };
      const source = wellnessExportRows(this.prisma, this.options.pairwiseIds, this.options.partnerIds, { id: job.id, clientId: job.clientId, countries: client.countries, scopes: job.scopes, environment: environmentOf(client), cohort: job.cohort }, { batchSize: this.options.batchSize ?? 1000, signal });
      const { bytes } = await this.storage.write(fileKey, exportFile(counted(source), format), { signal });
      written = true;
      const recorded = await this.jobs.succeed(job.id, this.owner, { rows, bytes, fileKey, expiresAt: new Date(Date.now() + this.options.retentionMs) });
      if (!recorded) {
        log.warn("export finished after its lease passed to another worker; its file is discarded");
        await this.storage.delete(fileKey);
        return;
      }
      log.info({ rows, bytes, ms: Math.round(performance.now() - started) }, "export written");
    } catch (error) {
      if (written) await this.storage.delete(fileKey).catch(() => undefined);
      if (this.stopping.signal.aborted) {
        await this.jobs.release(job.id, this.owner).catch(() => undefined);
        log.info("export worker stopping: job given back to the queue");
      } else if (lost.signal.aborted) {
        log.warn("export lease lost to another worker; abandoning this attempt");
      } else {
        log.error({ err: error }, "export failed");
        await this.jobs.fail(job.id, this.owner, "The export could not be written; create a new one");
      }
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async expireOldFiles(): Promise<void> {
    const due = await this.jobs.dueForExpiry();
    if (due.length === 0) return;
    for (const { fileKey } of due) if (fileKey) await this.storage.delete(fileKey);
    await this.jobs.expired(due.map((job) => job.id));
  }
}
