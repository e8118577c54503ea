import { join } from "node:path";
import { z } from "zod";
import { pairwiseSecret } from "../auth/pairwise-ids.ts";
import { checkSecrets, LOCAL_KEY_ENCRYPTION_KEY, refusalMessage } from "./secret-policy.ts";
import { realtimeConfigSchema, toRealtimeConfig, type RealtimeConfig } from "./realtime-config.ts";
import { limitsConfigSchema, toLimitsConfig, type LimitsConfig } from "./limits-config.ts";
import { retentionConfigSchema, toRetentionConfig, type RetentionConfig } from "./retention-config.ts";
import { rateLimitConfigSchema, toRateLimitConfig, type RateLimitConfig } from "./rate-limit-config.ts";
import { securityConfigSchema, toSecurityConfig, type SecurityConfig } from "./security-config.ts";
import { observabilityConfigSchema, toObservabilityConfig, type ObservabilityConfig } from "./observability-config.ts";

export const SUBGRAPH_NAMES = ["wellness", "debts", "expenses", "coach", "alerts"] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

const DEFAULT_SUBGRAPH_PORTS: Record<SubgraphName, number> = {
  wellness: 4001,
  debts: 4002,
  expenses: 4003,
  coach: 4004,
  alerts: 4005,
};

/** Where the embedded PGlite keeps its files when no DATABASE_URL is given. */
export const DEFAULT_DATA_DIR = ".data";

const port = z.coerce.number().int().min(0).max(65535);

const environment = z.object({
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: port.default(4000),
  DATABASE_URL: z.string().url().optional(),
  DATA_DIR: z.string().min(1).default(DEFAULT_DATA_DIR),
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(5),
  SEED_USERS: z.coerce.number().int().min(0).default(200),
  SEED: z.coerce.number().int().default(42),
  SANDBOX_CLIENT_SECRET: z.string().min(12).default("kamina-sandbox-secret"),
  LIVE_CLIENT_SECRET: z.string().min(12).default("kamina-live-secret"),
  TOKEN_ISSUER: z.string().min(1).default("urn:kamina-graph:local"),
  TOKEN_AUDIENCE: z.string().min(1).default("kamina-graph"),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(3600),
  REFRESH_TOKEN_TTL_SECONDS: z.coerce.number().int().min(300).default(30 * 86_400),
  KEY_ENCRYPTION_KEY: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, "must be 32 bytes, base64url-encoded (43 characters)")
    .optional(),
  KEY_ENCRYPTION_KEY_PREVIOUS: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}(,[A-Za-z0-9_-]{43})*$/, "must be one or more 32-byte keys, base64url-encoded (43 characters), comma-separated")
    .optional(),
  PAIRWISE_ID_KEY: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, "must be 32 bytes, base64url-encoded (43 characters)")
    .optional(),
  APP_API_KEY: z.string().min(16).default("kamina-app-local-key"),
  PUBLIC_URL: z
    .string()
    .url()
    .regex(/^https?:\/\/[^?#]*$/, "must be an http(s) URL without query or fragment")
    .optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  SHARE_INFLIGHT_FETCHES: z.enum(["true", "false"]).default("true"),
  REPORT_MIN_CELL: z.coerce.number().int().min(2).max(1000).default(10),
  UNSAFE_DISABLE_SCOPE_ENFORCEMENT: z.enum(["true", "false"]).default("false"),
  UNSAFE_UNSIGNED_SUBGRAPH_REQUESTS: z.enum(["true", "false"]).default("false"),
  EXPORT_DIR: z.string().min(1).optional(),
  EXPORT_URL_TTL_SECONDS: z.coerce.number().int().min(10).max(7 * 86_400).default(3600),
  EXPORT_RETENTION_HOURS: z.coerce.number().int().min(1).default(24),
  EXPORT_POLL_MS: z.coerce.number().int().min(10).default(1_000),
});

const subgraphEnvironment = z.object(
  Object.fromEntries(
    SUBGRAPH_NAMES.flatMap((name) => [
      [`SUBGRAPH_${name.toUpperCase()}_PORT`, port.default(DEFAULT_SUBGRAPH_PORTS[name])],
      [`SUBGRAPH_${name.toUpperCase()}_URL`, z.string().url().optional()],
    ]),
  ),
);

export interface Config {
  host: string;
  port: number;
  /**
   * Local use: loopback HOST, NODE_ENV not production, no public PUBLIC_URL. Only there may the
   * secrets with public defaults (`publicDefaults`, said loudly at start) stay unset; elsewhere
   * loadConfig refuses them, and weak explicit values too (secret-policy.ts).
   */
  secrets: { localUse: boolean; publicDefaults: string[] };
  /** PostgreSQL connection string; absent means the embedded PGlite under `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  dbPoolSize: number;
  seedUsers: number;
  seed: number;
  /** Secret of the sandbox partner client `of_lab_demo` (local use only). */
  sandboxClientSecret: string;
  /** Secret of the live-flow demo client `of_lab_live`, a non-sandbox client the seed writes (local use only). */
  liveClientSecret: string;
  logLevel: string;
  tokens: {
    issuer: string;
    audience: string;
    accessTtlSeconds: number;
    refreshTtlSeconds: number;
    /** Encrypts signing keys and webhook secrets at rest, and wraps the tenants' data keys (platform/encryption). */
    keyEncryptionKey: Uint8Array;
    /** KEY_ENCRYPTION_KEY_PREVIOUS: older KEKs that still unwrap data keys and open signing keys and webhook secrets until `npm run keys:rotate` seals them again. */
    previousKeyEncryptionKeys: Uint8Array[];
    /** True when no KEY_ENCRYPTION_KEY was given and the local development key is in use. */
    usingLocalKeyEncryptionKey: boolean;
    /** Derives each client's pairwise person ids (PAIRWISE_ID_KEY, else derived from the key-encryption key; platform/auth/pairwise-ids.ts). */
    pairwiseIdKey: Uint8Array;
  };
  /** Authenticates the Kamina app's calls that stand in for the person (authorising a consent). */
  appApiKey: string;
  /**
   * The URL clients call the gateway at (PUBLIC_URL, e.g. `https://api.bank.example` or with a
   * path prefix a proxy strips), without a trailing slash. DPoP proofs name it in `htu`. Unset,
   * the gateway takes its own scheme and the request's Host header, which only fits a gateway
   * clients reach directly; behind a proxy or TLS terminator set it (X-Forwarded-* are never trusted).
   */
  publicUrl: string | undefined;
  subgraphTimeoutMs: number;
  /** Identical subgraph queries in flight for the same caller and consent state share one fetch (gateway/inflight-fetches.ts). */
  shareInflightFetches: boolean;
  /**
   * For benchmarks only (`UNSAFE_DISABLE_SCOPE_ENFORCEMENT=true`): the gateway and the subgraphs
   * skip the per-field `@requiresScopes`/`@authenticated` checks and write no consent receipts.
   * Tokens are still verified, and which people a token can see (consent, tenant) still applies.
   */
  unsafeDisableScopeEnforcement: boolean;
  /**
   * Local use only (`UNSAFE_UNSIGNED_SUBGRAPH_REQUESTS=true`, refused anywhere else): the subgraphs
   * serve requests the gateway did not sign, so that another router (stock `@apollo/gateway`, Hive
   * Gateway) can be benchmarked over them. In local use the key-encryption key is usually the
   * public default, with which anyone could sign anyway.
   */
  unsafeUnsignedSubgraphRequests: boolean;
  /** Aggregate reports (GET /v1/reports/prevention). */
  reports: {
    /** REPORT_MIN_CELL: a figure standing on fewer people than this (but not none) is withheld. */
    minCell: number;
  };
  subgraphs: Record<SubgraphName, { port: number; url: string }>;
  /** Event bus (NATS_URL), subscriptions and webhooks. */
  realtime: RealtimeConfig;
  /** Per-client rate limits shared by every instance: requests, cost, failed authentications, consent prompts (rate-limit-config.ts). */
  rateLimits: RateLimitConfig;
  /** What one request may cost: GraphQL operation limits, WebSocket and HTTP limits (limits-config.ts). */
  limits: LimitsConfig;
  /** Trusted documents, introspection, suggestions, CORS and HSTS (security-config.ts). */
  security: SecurityConfig;
  /** Batch exports (POST /v1/exports/wellness). */
  exports: {
    /** Where the local-filesystem export storage keeps files (EXPORT_DIR, default `<DATA_DIR>/exports`). */
    dir: string;
    /** How long a signed download URL stays valid. */
    urlTtlSeconds: number;
    /** How long a finished export's file is kept before it is deleted. */
    retentionMs: number;
    /** How often the export worker looks for queued jobs. */
    pollMs: number;
  };
  /** How long each class of data is kept, per country, and the purge's schedule (retention-config.ts). */
  retention: RetentionConfig;
  /** The metrics listener (METRICS_PORT, METRICS_HOST, METRICS_TOKEN); traces follow OTEL_* (observability-config.ts). */
  observability: ObservabilityConfig;
}

export class ConfigError extends Error {}

/** Reads and validates the environment once; the rest of the code receives typed values. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const values = parseOrThrow(environment, env);
  // Public default secrets are for a laptop: anywhere else they unlock everything (secret-policy.ts).
  const secrets = checkSecrets(env, values.HOST, values.PUBLIC_URL);
  if (secrets.problems.length > 0) throw new ConfigError(refusalMessage(secrets));
  if (values.UNSAFE_UNSIGNED_SUBGRAPH_REQUESTS === "true" && !secrets.localUse) {
    throw new ConfigError(`UNSAFE_UNSIGNED_SUBGRAPH_REQUESTS=true is for local benchmarks only; this process is not in local use (${secrets.exposure.join("; ")}): unset it, subgraphs serve only the gateway`);
  }
  const subgraphValues = parseOrThrow(subgraphEnvironment, env) as Record<string, unknown>;
  const realtimeValues = parseOrThrow(realtimeConfigSchema(), env);
  const subgraphs = Object.fromEntries(
    SUBGRAPH_NAMES.map((name) => {
      const key = name.toUpperCase();
      const subgraphPort = subgraphValues[`SUBGRAPH_${key}_PORT`] as number;
      const url = (subgraphValues[`SUBGRAPH_${key}_URL`] as string | undefined) ?? `http://127.0.0.1:${subgraphPort}/graphql`;
      return [name, { port: subgraphPort, url }];
    }),
  ) as Config["subgraphs"];
  return {
    host: values.HOST,
    port: values.PORT,
    secrets: { localUse: secrets.localUse, publicDefaults: secrets.publicDefaults },
    databaseUrl: values.DATABASE_URL,
    dataDir: values.DATA_DIR,
    dbPoolSize: values.DB_POOL_SIZE,
    seedUsers: values.SEED_USERS,
    seed: values.SEED,
    sandboxClientSecret: values.SANDBOX_CLIENT_SECRET,
    liveClientSecret: values.LIVE_CLIENT_SECRET,
    logLevel: values.LOG_LEVEL,
    tokens: {
      issuer: values.TOKEN_ISSUER,
      audience: values.TOKEN_AUDIENCE,
      accessTtlSeconds: values.ACCESS_TOKEN_TTL_SECONDS,
      refreshTtlSeconds: values.REFRESH_TOKEN_TTL_SECONDS,
      keyEncryptionKey: values.KEY_ENCRYPTION_KEY ? Buffer.from(values.KEY_ENCRYPTION_KEY, "base64url") : LOCAL_KEY_ENCRYPTION_KEY,
      usingLocalKeyEncryptionKey: !values.KEY_ENCRYPTION_KEY,
      pairwiseIdKey: pairwiseSecret(
        values.PAIRWISE_ID_KEY ? Buffer.from(values.PAIRWISE_ID_KEY, "base64url") : undefined,
        values.KEY_ENCRYPTION_KEY ? Buffer.from(values.KEY_ENCRYPTION_KEY, "base64url") : LOCAL_KEY_ENCRYPTION_KEY,
      ),
      previousKeyEncryptionKeys: (values.KEY_ENCRYPTION_KEY_PREVIOUS ?? "").split(",").filter(Boolean).map((key) => Buffer.from(key, "base64url")),
    },
    appApiKey: values.APP_API_KEY,
    publicUrl: values.PUBLIC_URL?.replace(/\/+$/, ""),
    subgraphTimeoutMs: values.SUBGRAPH_TIMEOUT_MS,
    shareInflightFetches: values.SHARE_INFLIGHT_FETCHES === "true",
    unsafeDisableScopeEnforcement: values.UNSAFE_DISABLE_SCOPE_ENFORCEMENT === "true",
    unsafeUnsignedSubgraphRequests: values.UNSAFE_UNSIGNED_SUBGRAPH_REQUESTS === "true",
    reports: { minCell: values.REPORT_MIN_CELL },
    subgraphs,
    realtime: toRealtimeConfig(realtimeValues),
    rateLimits: toRateLimitConfig(parseOrThrow(rateLimitConfigSchema(), env)),
    limits: toLimitsConfig(parseOrThrow(limitsConfigSchema(), env)),
    security: toSecurityConfig(parseOrThrow(securityConfigSchema(), env), values.PUBLIC_URL),
    exports: {
      dir: values.EXPORT_DIR ?? join(values.DATA_DIR, "exports"),
      urlTtlSeconds: values.EXPORT_URL_TTL_SECONDS,
      retentionMs: values.EXPORT_RETENTION_HOURS * 3600 * 1000,
      pollMs: values.EXPORT_POLL_MS,
    },
    retention: toRetentionConfig(parseOrThrow(retentionConfigSchema(), env)),
    observability: toObservabilityConfig(parseOrThrow(observabilityConfigSchema(), env)),
  };
}

function parseOrThrow<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv): z.infer<T> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
  throw new ConfigError(`Invalid configuration:\n  ${problems.join("\n  ")}`);
}
