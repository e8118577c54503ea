// What bench:gateway and bench:peers both stand on: a seeded, analysed PostgreSQL database in
// which every seeded person consented to the demo client with all its scopes, and the issue's
// layout on it: the five subgraphs in one `npm start` child (its own gateway idle) and our
// gateway in a child of its own over them.
import pg from "pg";
import { seedDatabase } from "../../prisma/seed/index.ts";
import { createTestDatabase, type TestDatabase } from "../../testkit/postgres.ts";
import { startServerChild, type ServerChild } from "../../testkit/server-child.ts";
import { grantFullConsents } from "./auth.ts";
import type { Cleanups } from "./lifecycle.ts";

/** Long enough for a server child started with NODE_ENV=production (platform/config/secret-policy.ts). */
export const SANDBOX_CLIENT_SECRET = "bench-sandbox-secret-for-production-runs";

/**
 * The sandbox client's quotas for a benchmark's gateway: past 1,000 identical pages a second the
 * defaults (60,000 requests and 50,000,000 cost points a minute) refuse the load itself. Every
 * request is still counted, so the rate limits' cost stays in the figures.
 */
export const BENCH_QUOTAS = { RATE_LIMIT_REQUESTS_SANDBOX: "1000000000", RATE_LIMIT_COST_SANDBOX: "1000000000000" } as const;

export interface BenchStack {
  database: TestDatabase;
  subgraphs: ServerChild;
  gateway: ServerChild;
}

export interface BenchStackOptions {
  users: number;
  seed: number;
  /** Node flags of both children (e.g. --cpu-prof). */
  nodeFlags?: string[];
  production?: boolean;
  /** Extra environment of the subgraphs' child. */
  subgraphsEnv?: Record<string, string>;
}

export async function startBenchStack(options: BenchStackOptions, cleanups: Cleanups, log: (message: string) => void): Promise<BenchStack> {
  let started = Date.now();
  const database = await createTestDatabase();
  cleanups.add("the database", () => database.drop());
  log(`created and migrated ${new URL(database.url).pathname.slice(1)} in ${Date.now() - started} ms`);

  started = Date.now();
  await seedDatabase({ kind: "postgres", url: database.url, poolSize: 4 }, { users: options.users, seed: options.seed, sandboxClientSecret: SANDBOX_CLIENT_SECRET });
  const consents = await grantFullConsents(database.url);
  log(`every one of ${consents} users in the demo client's countries gave it a consent with all its scopes`);
  // Fresh tables have no planner statistics until autovacuum gets to them; a live database has them.
  const sql = new pg.Client({ connectionString: database.url });
  await sql.connect();
  try {
    await sql.query("ANALYZE");
  } finally {
    await sql.end();
  }
  log(`seeded and analysed ${options.users} users in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  started = Date.now();
  const nodeEnv = options.production ? "production" : undefined;
  const nodeFlags = options.nodeFlags ?? [];
  const subgraphs = await startServerChild({ databaseUrl: database.url, nodeFlags, sandboxClientSecret: SANDBOX_CLIENT_SECRET, nodeEnv, ...(options.subgraphsEnv ? { env: options.subgraphsEnv } : {}) });
  cleanups.add("the subgraphs' child", () => subgraphs.stop());
  const gateway = await startServerChild({
    databaseUrl: database.url,
    nodeFlags,
    sandboxClientSecret: SANDBOX_CLIENT_SECRET,
    nodeEnv,
    env: { ...BENCH_QUOTAS },
    gatewayOver: { subgraphUrls: subgraphs.subgraphUrls, keyEncryptionKey: Buffer.from(subgraphs.config.tokens.keyEncryptionKey).toString("base64url") },
  });
  cleanups.add("the gateway's child", () => gateway.stop());
  log(`children ready in ${Date.now() - started} ms: gateway ${gateway.pid} at ${gateway.gatewayUrl}, subgraphs ${subgraphs.pid}`);
  return { database, subgraphs, gateway };
}
