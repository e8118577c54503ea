import { z } from "zod";

/**
 * Per-client rate limits (gateway/rate-limit/); part of Config (`config.rateLimits`). Counted in
 * the shared store, so every gateway instance sees the same counts: Redis when REDIS_URL is set,
 * PostgreSQL (the `rate_limit` table) otherwise. Sandbox clients get generous quotas, live
 * clients tighter ones; every quota and window is an environment variable (docs/operations.md).
 */
export interface RateLimitConfig {
  /** Redis holding the counters (REDIS_URL); unset means the database. */
  redisUrl: string | undefined;
  /** Begins every counter's key (RATE_LIMIT_KEY_PREFIX): deployments that share one Redis keep their counts apart. */
  keyPrefix: string;
  /** Requests and operation cost per partner client (and per consent token's client), per window. */
  clients: {
    windowSeconds: number;
    requests: Tier;
    /** The estimated cost of the GraphQL operations run (the one the operation limits compute), summed. */
    cost: Tier;
  };
  /** Failed HTTP Basic client authentications, before the next attempt is refused (429) until the window passes. */
  authFailures: {
    windowSeconds: number;
    /** Per client id sent, from any address: a secret cannot be guessed from many machines. */
    perClient: number;
    /** Per source address, for any client id: one machine cannot try secrets across clients. */
    perAddress: number;
  };
  /** POST /v1/auth/consent per (client, person): each live request is a prompt in the person's app. */
  consentPrompts: {
    windowSeconds: number;
    perPerson: Tier;
  };
}

export interface Tier {
  sandbox: number;
  live: number;
}

const int = (min: number) => z.coerce.number().int().min(min);

const environment = z.object({
  REDIS_URL: z.string().url().regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL").optional(),
  RATE_LIMIT_KEY_PREFIX: z.string().regex(/^[\w.-]{1,40}$/, "must be 1 to 40 letters, digits, '_', '.' or '-'").default("kamina"),
  RATE_LIMIT_WINDOW_SECONDS: int(1).default(60),
  RATE_LIMIT_REQUESTS_SANDBOX: int(1).default(60_000),
  RATE_LIMIT_REQUESTS_LIVE: int(1).default(1_200),
  RATE_LIMIT_COST_SANDBOX: int(1).default(50_000_000),
  RATE_LIMIT_COST_LIVE: int(1).default(2_000_000),
  RATE_LIMIT_AUTH_FAILURE_WINDOW_SECONDS: int(1).default(900),
  RATE_LIMIT_AUTH_FAILURES_PER_CLIENT: int(1).default(10),
  RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: int(1).default(100),
  RATE_LIMIT_CONSENT_WINDOW_SECONDS: int(1).default(86_400),
  RATE_LIMIT_CONSENTS_PER_PERSON_SANDBOX: int(1).default(1_000),
  RATE_LIMIT_CONSENTS_PER_PERSON_LIVE: int(1).default(10),
});

/** Parsed with the rest of the configuration (platform/config/config.ts), once, at start. */
export function rateLimitConfigSchema() {
  return environment;
}

export function toRateLimitConfig(values: z.infer<typeof environment>): RateLimitConfig {
  return {
    redisUrl: values.REDIS_URL,
    keyPrefix: values.RATE_LIMIT_KEY_PREFIX,
    clients: {
      windowSeconds: values.RATE_LIMIT_WINDOW_SECONDS,
      requests: { sandbox: values.RATE_LIMIT_REQUESTS_SANDBOX, live: values.RATE_LIMIT_REQUESTS_LIVE },
      cost: { sandbox: values.RATE_LIMIT_COST_SANDBOX, live: values.RATE_LIMIT_COST_LIVE },
    },
    authFailures: {
      windowSeconds: values.RATE_LIMIT_AUTH_FAILURE_WINDOW_SECONDS,
      perClient: values.RATE_LIMIT_AUTH_FAILURES_PER_CLIENT,
      perAddress: values.RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS,
    },
    consentPrompts: {
      windowSeconds: values.RATE_LIMIT_CONSENT_WINDOW_SECONDS,
      perPerson: { sandbox: values.RATE_LIMIT_CONSENTS_PER_PERSON_SANDBOX, live: values.RATE_LIMIT_CONSENTS_PER_PERSON_LIVE },
    },
  };
}

/** The defaults, for servers started without a configuration (tests of one piece). */
export const DEFAULT_RATE_LIMITS: RateLimitConfig = toRateLimitConfig(environment.parse({}));
