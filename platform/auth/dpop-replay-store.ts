import type { Logger } from "../logger.ts";
import type { ProofReplayStore } from "./dpop.ts";
import type { PrismaClient } from "../database/database.ts";

/** How often one gateway deletes expired proofs; rows live about two minutes. */
const PURGE_INTERVAL_MS = 60_000;
/** Rows deleted per statement, so a purge after a long pause stays a short statement. */
const PURGE_BATCH = 5_000;

/**
 * Accepted DPoP proofs in the `dpop_proof` table, shared by every gateway instance: the
 * primary key decides which of two racing requests with one proof wins, on any instance.
 * Expired rows are purged opportunistically, at most once a minute per instance, beside the
 * request that notices it is time (never in its way).
 */
export class PostgresProofReplayStore implements ProofReplayStore {
  private nextPurgeAt = 0;
  private purging = false;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly logger: Logger,
  ) {}

  async remember(key: string, expiresAt: Date): Promise<boolean> {
    const inserted = await this.prisma.$executeRaw`
      INSERT INTO dpop_proof (jti, expires_at) VALUES (${key}, ${expiresAt}) ON CONFLICT (jti) DO NOTHING`;
    if (Date.now() >= this.nextPurgeAt && !this.purging) void this.purge();
    return inserted === 1;
  }

  /** Deletes expired rows; returns how many. */
  async purge(): Promise<number> {
    this.purging = true;
    this.nextPurgeAt = Date.now() + PURGE_INTERVAL_MS;
    try {
      const deleted = await this.prisma.$executeRaw`
        DELETE FROM dpop_proof WHERE jti IN (SELECT jti FROM dpop_proof WHERE expires_at < now() LIMIT ${PURGE_BATCH})`;
      // A full batch means more are waiting: the next request may purge again.
      if (deleted === PURGE_BATCH) this.nextPurgeAt = 0;
      return deleted;
    } catch (error) {
      this.logger.warn({ err: error }, "could not purge expired DPoP proofs; trying again later");
      return 0;
    } finally {
      this.purging = false;
    }
  }
}
