import { z } from "zod";

/** Settings of the event bus, subscriptions and webhooks; part of Config (`config.realtime`). */
export interface RealtimeConfig {
  /** NATS JetStream server; unset means PostgreSQL LISTEN/NOTIFY. */
  natsUrl: string | undefined;
  /** Run the outbox relay and the webhook dispatcher in this process (any number of instances may). */
  workers: boolean;
  relayPollMs: number;
  /** A busy relay runs at most once per this many ms, so one run positions and announces the commits of that moment together. */
  relayBatchWindowMs: number;
  /** How often an open subscription's token is checked again without events. */
  subscriptionRecheckMs: number;
  /** How often each subscription socket is pinged; one that misses a ping's answer is dropped. */
  subscriptionKeepAliveMs: number;
  /** Results queued for one subscriber before it is closed as too slow (4410). */
  subscriberQueue: number;
  /** The daily diagnosis and prevention batch (runtime/daily-batch.ts); null hour: not scheduled here. */
  dailyBatch: { hourUtc: number | null; batchSize: number; checkEveryMs: number };
  webhooks: {
    maxAttempts: number;
    backoffBaseMs: number;
    backoffMaxMs: number;
    /** Deliveries per second per endpoint. */
    ratePerSecond: number;
    timeoutMs: number;
    pollMs: number;
    /** How long a rotated secret keeps signing beside the new one. */
    rotationOverlapMs: number;
  };
}

const int = (min: number) => z.coerce.number().int().min(min);

const environment = z.object({
  NATS_URL: z.string().url().optional(),
  REALTIME_WORKERS: z.enum(["true", "false"]).default("true"),
  RELAY_POLL_MS: int(10).default(1_000),
  RELAY_BATCH_WINDOW_MS: int(0).default(5),
  SUBSCRIPTION_RECHECK_SECONDS: int(1).default(30),
  SUBSCRIPTION_KEEPALIVE_SECONDS: int(1).default(12),
  SUBSCRIPTION_QUEUE: int(1).default(100),
  DAILY_BATCH_HOUR: z
    .string()
    .regex(/^(off|\d|1\d|2[0-3])$/, "must be an hour of the day in UTC, 0 to 23, or off")
    .default("8"),
  DAILY_BATCH_SIZE: int(1).default(500),
  DAILY_BATCH_CHECK_MS: int(100).default(60_000),
  WEBHOOK_MAX_ATTEMPTS: int(1).default(10),
  WEBHOOK_BACKOFF_BASE_MS: int(1).default(5_000),
  WEBHOOK_BACKOFF_MAX_MS: int(1).default(6 * 3600 * 1000),
  WEBHOOK_RATE_PER_SECOND: int(1).default(20),
  WEBHOOK_TIMEOUT_MS: int(100).default(10_000),
  WEBHOOK_POLL_MS: int(10).default(1_000),
  WEBHOOK_ROTATION_OVERLAP_HOURS: int(0).default(24),
});

/** Parsed with the rest of the configuration (platform/config/config.ts), once, at start. */
export function realtimeConfigSchema() {
  return environment;
}

export function toRealtimeConfig(values: z.infer<typeof environment>): RealtimeConfig {
  return {
    natsUrl: values.NATS_URL,
    workers: values.REALTIME_WORKERS === "true",
    relayPollMs: values.RELAY_POLL_MS,
    relayBatchWindowMs: values.RELAY_BATCH_WINDOW_MS,
    subscriptionRecheckMs: values.SUBSCRIPTION_RECHECK_SECONDS * 1000,
    subscriptionKeepAliveMs: values.SUBSCRIPTION_KEEPALIVE_SECONDS * 1000,
    subscriberQueue: values.SUBSCRIPTION_QUEUE,
    dailyBatch: {
      hourUtc: values.DAILY_BATCH_HOUR === "off" ? null : Number(values.DAILY_BATCH_HOUR),
      batchSize: values.DAILY_BATCH_SIZE,
      checkEveryMs: values.DAILY_BATCH_CHECK_MS,
    },
    webhooks: {
      maxAttempts: values.WEBHOOK_MAX_ATTEMPTS,
      backoffBaseMs: values.WEBHOOK_BACKOFF_BASE_MS,
      backoffMaxMs: values.WEBHOOK_BACKOFF_MAX_MS,
      ratePerSecond: values.WEBHOOK_RATE_PER_SECOND,
      timeoutMs: values.WEBHOOK_TIMEOUT_MS,
      pollMs: values.WEBHOOK_POLL_MS,
      rotationOverlapMs: values.WEBHOOK_ROTATION_OVERLAP_HOURS * 3600 * 1000,
    },
  };
}
