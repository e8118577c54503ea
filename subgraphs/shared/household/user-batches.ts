// Walks every user in id order, one batch at a time (keyset pagination), so a job over all
// users holds one batch in memory whatever their number. The next batch's ids are read while
// the current batch is processed.
import type { PrismaClient } from "../../../generated/prisma/client.ts";

export interface BatchProgress {
  batches: number;
  users: number;
}

/** Runs `run` on each batch of user ids in turn. */
export function forEachUserBatch(
  prisma: PrismaClient,
  batchSize: number,
  run: (userIds: string[], progress: BatchProgress) => Promise<void>,
  options: { limit?: number } = {},
): Promise<BatchProgress> {
  return pipelineUserBatches(prisma, batchSize, async (userIds) => userIds, run, options);
}

/**
 * Like forEachUserBatch, but the next batch is loaded while the current one is processed, so
 * the database and the CPU work at the same time. At most two batches are in memory.
 */
export async function pipelineUserBatches<Loaded>(
  prisma: PrismaClient,
  batchSize: number,
  load: (userIds: string[]) => Promise<Loaded>,
  process: (loaded: Loaded, progress: BatchProgress) => Promise<void>,
  options: { limit?: number } = {},
): Promise<BatchProgress> {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const page = async (after: string, size: number): Promise<string[]> => {
    if (size <= 0) return [];
    const rows = await prisma.$queryRaw<{ id: string }[]>`SELECT id FROM app_user WHERE id > ${after} ORDER BY id LIMIT ${size}`;
    return rows.map((row) => row.id);
  };
  const progress: BatchProgress = { batches: 0, users: 0 };
  let ids = await page("", Math.min(batchSize, limit));
  let loading = ids.length > 0 ? load(ids) : undefined;
  while (loading) {
    const loaded = await loading;
    const count = ids.length;
    ids = await page(ids[ids.length - 1]!, Math.min(batchSize, limit - progress.users - count));
    loading = ids.length > 0 ? load(ids) : undefined;
    // Keep a failed prefetch from being reported as unhandled while this batch is processed.
    loading?.catch(() => undefined);
    progress.batches++;
    progress.users += count;
    await process(loaded, progress);
  }
  return progress;
}
