// Where the rate limits count: one store shared by every gateway instance. rate-limiter-flexible
// gives the same limiter over each: RateLimiterPostgres (the `rate_limit` table, made by our
// migration, one atomic INSERT ... ON CONFLICT per statement, the counts asked at the same moment
// sharing one: batched-counts.ts) on a small pg pool of its own, or on the embedded PGlite (one
// per count); RateLimiterRedis (one Lua script per count) when REDIS_URL is set.
import type { PGlite } from "@electric-sql/pglite";
import { Redis } from "ioredis";
import pg from "pg";
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRedis, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { RateLimitConfig } from "../../platform/config/rate-limit-config.ts";
import type { DatabaseTarget } from "../../platform/database/database.ts";
import type { Logger } from "../../platform/logger.ts";
import { surviveConnectionErrors } from "../../platform/database/pool-errors.ts";
import { BatchedCounts } from "./batched-counts.ts";

/** The table of prisma/schema.prisma's RateLimitCounter. */
const TABLE = "rate_limit";
/** Connections of the limiter's own pool: one statement per count, none held across a request. */
const POOL_SIZE = 3;
/** A Redis command that takes longer is failed and counted in memory instead (the insurance limiter). */
const REDIS_COMMAND_TIMEOUT_MS = 500;

export interface LimiterStore {
  /** Where the counts live, for the start-up log and the tests. */
  readonly kind: "postgres" | "pglite" | "redis" | "memory";
  /** A limiter of `quota` points per `windowSeconds`, its keys under `name`. */
  limiter(name: string, quota: number, windowSeconds: number): RateLimiterAbstract;
  close(): Promise<void>;
}

export async function createLimiterStore(config: RateLimitConfig, database: DatabaseTarget, logger: Logger): Promise<LimiterStore> {
  if (config.redisUrl) return redisStore(config, logger);
  if (database.kind === "pglite") return pgliteStore(config, database.pglite);
  // A count need not wait for its commit to reach the disk: a crash loses at most the last
  // counts of a window, and waiting cost 3.2 ms a count here against 0.3 ms without.
  const pool = new pg.Pool({ connectionString: database.url, max: POOL_SIZE, idleTimeoutMillis: 30_000, options: "-c synchronous_commit=off" });
  surviveConnectionErrors(pool, (error) => logger.warn({ err: error }, "rate limits: an idle database connection failed; the pool opens another"));
  return postgresStore(config, pool);
}

/** Counts in this process only: for pieces started without a gateway (benchmarks' token minting). */
export function memoryStore(config: Pick<RateLimitConfig, "keyPrefix">): LimiterStore {
  return {
    kind: "memory",
    limiter: (name, quota, windowSeconds) => new RateLimiterMemory({ keyPrefix: `${config.keyPrefix}:${name}`, points: quota, duration: windowSeconds }),
    close: async () => undefined,
  };
}

function postgresStore(config: RateLimitConfig, pool: pg.Pool): LimiterStore {
  let sweeper = true;
  const counts = new BatchedCounts(pool, TABLE, POOL_SIZE);
  return {
    kind: "postgres",
    limiter(name, quota, windowSeconds) {
      // Every limiter shares the table: one of them deleting expired rows (every five minutes) is enough.
      const clearExpiredByTimeout = sweeper;
      sweeper = false;
      return counts.limiter({ storeClient: pool, storeType: "pool", tableName: TABLE, tableCreated: true, clearExpiredByTimeout, keyPrefix: `${config.keyPrefix}:${name}`, points: quota, duration: windowSeconds });
    },
    close: () => pool.end(),
  };
}

/** The embedded database: the limiter's statements through PGlite's own `query`, which answers as pg does. */
function pgliteStore(config: RateLimitConfig, pglite: PGlite): LimiterStore {
  const client = { query: (statement: { text: string; values?: unknown[] }) => pglite.query(statement.text, statement.values ?? []) };
  let sweeper = true;
  return {
    kind: "pglite",
    limiter(name, quota, windowSeconds) {
      const clearExpiredByTimeout = sweeper;
      sweeper = false;
      return new RateLimiterPostgres({ storeClient: client, storeType: "client", tableName: TABLE, tableCreated: true, clearExpiredByTimeout, keyPrefix: `${config.keyPrefix}:${name}`, points: quota, duration: windowSeconds });
    },
    close: async () => undefined,
  };
}

/**
 * Redis. While it cannot be reached, each instance counts in its own memory (rate-limiter-flexible's
 * insurance limiter) rather than refusing every request or admitting every one; said in the log.
 */
async function redisStore(config: RateLimitConfig, logger: Logger): Promise<LimiterStore> {
  const redis = new Redis(config.redisUrl!, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: REDIS_COMMAND_TIMEOUT_MS });
  let down = false;
  redis.on("error", (error: Error) => {
    if (!down) logger.warn({ err: error }, "rate limits: Redis cannot be reached; counting in this instance's memory until it can");
    down = true;
  });
  redis.on("ready", () => {
    if (down) logger.info("rate limits: Redis is back");
    down = false;
  });
  try {
    await redis.connect();
  } catch (error) {
    logger.warn({ err: error }, "rate limits: Redis cannot be reached at start; counting in this instance's memory until it can");
  }
  return {
    kind: "redis",
    limiter(name, quota, windowSeconds) {
      const keyPrefix = `${config.keyPrefix}:${name}`;
      return new RateLimiterRedis({
        storeClient: redis,
        rejectIfRedisNotReady: true,
        keyPrefix,
        points: quota,
        duration: windowSeconds,
        insuranceLimiter: new RateLimiterMemory({ keyPrefix, points: quota, duration: windowSeconds }),
      });
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
