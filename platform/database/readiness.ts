import type { PrismaClient } from "./database.ts";

/** How long a probe waits for the database before calling the process not ready. */
const PROBE_TIMEOUT_MS = 2_000;
/** Answers within this long of the last check reuse it: /readyz is reachable by whoever reaches the port, and must not become a way to load the database. */
const REUSE_MS = 1_000;

/**
 * Whether the database answers `SELECT 1` within 2 s: the readiness probes' question (/readyz).
 * Checks run one at a time and their answer is reused for a second.
 */
export function databaseReadiness(prisma: PrismaClient): () => Promise<boolean> {
  let last: { at: number; ready: boolean } | undefined;
  let running: Promise<boolean> | undefined;
  const check = async (): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS);
    });
    try {
      return await Promise.race([prisma.$queryRaw`SELECT 1`.then(() => true, () => false), timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
  return async () => {
    if (last && Date.now() - last.at < REUSE_MS) return last.ready;
    running ??= check().then((ready) => {
      last = { at: Date.now(), ready };
      running = undefined;
      return ready;
    });
    return running;
  };
}
