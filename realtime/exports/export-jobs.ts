import { randomBytes } from "node:crypto";
import type { ExportJob } from "../../generated/prisma/client.ts";
import type { PrismaClient } from "../../platform/database/database.ts";

export const EXPORT_FORMATS = ["csv", "jsonl"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** A job whose workers died this many times is failed rather than tried again. */
export const MAX_EXPORT_ATTEMPTS = 3;

export function newExportId(): string {
  return `exp_${randomBytes(16).toString("base64url")}`;
}

/**
 * The `export_job` rows: the gateway queues, the export workers claim, renew, finish. A job is
 * one worker's while its lease lasts; every write a worker makes names itself as the lease
 * owner, so a worker that lost its lease (it stalled past it and another took the job over)
 * changes nothing. No transaction is held while a job runs.
 */
export class ExportJobs {
  constructor(private readonly prisma: PrismaClient) {}

  create(job: { clientId: string; format: ExportFormat; scopes: readonly string[]; cohort?: string | undefined }): Promise<ExportJob> {
    return this.prisma.exportJob.create({ data: { id: newExportId(), clientId: job.clientId, format: job.format, scopes: [...job.scopes], cohort: job.cohort ?? null } });
  }

  /** The job by id and client together: another client's job and no job are the same answer. */
  find(id: string, clientId: string): Promise<ExportJob | null> {
    return this.prisma.exportJob.findFirst({ where: { id, clientId } });
  }

  /** The job by id alone: for the signed download URL, whose signature names the client. */
  findById(id: string): Promise<ExportJob | null> {
    return this.prisma.exportJob.findUnique({ where: { id } });
  }

  /**
   * Takes the oldest job that is queued, or running under a lease that lapsed (its worker died),
   * for `owner`. SKIP LOCKED: workers claiming at the same moment take different jobs.
   */
  async claim(owner: string, leaseMs: number): Promise<ExportJob | undefined> {
    const [job] = await this.prisma.$queryRaw<{ id: string }[]>`
      UPDATE export_job j
      SET status = 'RUNNING', lease_owner = ${owner}, leased_until = now() + make_interval(secs => ${leaseMs / 1000}),
          attempts = j.attempts + 1, started_at = now()
      WHERE j.id = (
        SELECT id FROM export_job
        WHERE (status = 'QUEUED' OR (status = 'RUNNING' AND leased_until < now())) AND attempts < ${MAX_EXPORT_ATTEMPTS}
        ORDER BY created_at, id
        LIMIT 1
        FOR UPDATE SKIP LOCKED)
      RETURNING j.id`;
    return job ? ((await this.prisma.exportJob.findUnique({ where: { id: job.id } })) ?? undefined) : undefined;
  }

  /** Extends `owner`'s lease; false when the job is no longer its own. */
  async renew(id: string, owner: string, leaseMs: number): Promise<boolean> {
    const updated = await this.prisma.$executeRaw`
      UPDATE export_job SET leased_until = now() + make_interval(secs => ${leaseMs / 1000})
      WHERE id = ${id} AND lease_owner = ${owner} AND status = 'RUNNING'`;
    return updated === 1;
  }

  /** Records the written file; false when the job was no longer `owner`'s (the file is then not this job's). */
  async succeed(id: string, owner: string, result: { rows: number; bytes: number; fileKey: string; expiresAt: Date }): Promise<boolean> {
    const { count } = await this.prisma.exportJob.updateMany({
      where: { id, leaseOwner: owner, status: "RUNNING" },
      data: { status: "SUCCEEDED", rows: result.rows, bytes: BigInt(result.bytes), fileKey: result.fileKey, expiresAt: result.expiresAt, finishedAt: new Date(), leaseOwner: null, leasedUntil: null },
    });
    return count === 1;
  }

  /** A failure the partner may read (`reason` is written for them, never an internal message). */
  async fail(id: string, owner: string, reason: string): Promise<void> {
    await this.prisma.exportJob.updateMany({
      where: { id, leaseOwner: owner, status: "RUNNING" },
      data: { status: "FAILED", error: reason, finishedAt: new Date(), leaseOwner: null, leasedUntil: null },
    });
  }

  /** Gives the job back at once (this worker stops): the next worker need not wait for the lease. */
  async release(id: string, owner: string): Promise<void> {
    await this.prisma.exportJob.updateMany({
      where: { id, leaseOwner: owner, status: "RUNNING" },
      data: { status: "QUEUED", attempts: { decrement: 1 }, leaseOwner: null, leasedUntil: null },
    });
  }

  /** Jobs whose workers died MAX_EXPORT_ATTEMPTS times: failed, not tried again. */
  async failAbandoned(): Promise<number> {
    return this.prisma.$executeRaw`
      UPDATE export_job SET status = 'FAILED', error = 'The export could not be completed; create a new one', finished_at = now(),
                            lease_owner = NULL, leased_until = NULL
      WHERE status = 'RUNNING' AND leased_until < now() AND attempts >= ${MAX_EXPORT_ATTEMPTS}`;
  }

  /** Finished exports past their retention, a batch at a time; `expired` marks them once their files are gone. */
  dueForExpiry(limit = 100): Promise<{ id: string; fileKey: string | null }[]> {
    return this.prisma.$queryRaw<{ id: string; fileKey: string | null }[]>`
      SELECT id, file_key AS "fileKey" FROM export_job
      WHERE status = 'SUCCEEDED' AND expires_at < now()
      ORDER BY expires_at LIMIT ${limit}`;
  }

  async expired(ids: readonly string[]): Promise<void> {
    await this.prisma.exportJob.updateMany({ where: { id: { in: [...ids] }, status: "SUCCEEDED" }, data: { status: "EXPIRED", fileKey: null } });
  }
}
