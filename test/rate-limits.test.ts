// Per-client rate limits as a partner meets them (issue 16, item 3): requests and operation cost
// per window, failed client authentications per client id and per address, consent prompts per
// person; 429 RATE_LIMITED with Retry-After, `retry_after` and the RateLimit header fields, counted
// in a store two gateways share: PostgreSQL by default, Redis with REDIS_URL.
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { PGlite } from "@electric-sql/pglite";
import { Redis } from "ioredis";
import pg from "pg";
import { USER_SCOPES } from "../platform/auth/scopes.ts";
import { DEFAULT_RATE_LIMITS } from "../platform/config/rate-limit-config.ts";
import { allTenants, createPrismaClient, type PrismaClient } from "../platform/database/database.ts";
import { applyMigrations } from "../platform/database/schema-engine.ts";
import { hashSecret } from "../platform/secret-hash.ts";
import { BatchedCounts } from "../gateway/rate-limit/batched-counts.ts";
import { createLimiterStore } from "../gateway/rate-limit/limiter-store.ts";
import { RateLimitExceeded, RateLimits } from "../gateway/rate-limit/rate-limits.ts";
import { RequestMeter } from "../gateway/rate-limit/request-meter.ts";
import { createLogger } from "../platform/logger.ts";
import { startTestKamina } from "./support/kamina.ts";
import { createRealtimeDatabase, PERSON_A, PERSON_B } from "./support/realtime.ts";
import { assertEnvelope, rest, type RestResponse } from "./support/rest.ts";
import type { TestDatabase } from "../testkit/postgres.ts";
import { basic, bearer, CONSENT_TEXT_VERSION } from "../testkit/tokens.ts";

type Kamina = Awaited<ReturnType<typeof startTestKamina>>;

const REQUESTS = 25;
const COST = 400;
const AUTH_FAILURES_PER_CLIENT = 3;
const AUTH_FAILURES_PER_ADDRESS = 5;
const AUTH_WINDOW_SECONDS = 3;
const CONSENTS_PER_PERSON = 20;

/** Small limits for live clients, so a test reaches them in a few dozen requests. */
const LIMITS = {
  RATE_LIMIT_WINDOW_SECONDS: "60",
  RATE_LIMIT_REQUESTS_LIVE: String(REQUESTS),
  RATE_LIMIT_COST_LIVE: String(COST),
  RATE_LIMIT_AUTH_FAILURES_PER_CLIENT: String(AUTH_FAILURES_PER_CLIENT),
  RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: String(AUTH_FAILURES_PER_ADDRESS),
  RATE_LIMIT_AUTH_FAILURE_WINDOW_SECONDS: String(AUTH_WINDOW_SECONDS),
  RATE_LIMIT_CONSENTS_PER_PERSON_LIVE: String(CONSENTS_PER_PERSON),
};

const SECRET = "live-secret-0123456789";
/** `users(first: 100) { edges { node { id } } }` costs 1 + 100 × (edges 1 + node 1 + id 1) = 301 (platform/graphql-limits.ts). */
const COSTLY = "{ users(first: 100) { edges { node { id } } } }";
const CHEAP = "{ users(first: 1) { totalCount } }";

/** A live (not sandbox) partner client of its own per test, so no test spends another's quota. */
async function liveClient(prisma: PrismaClient, id: string): Promise<{ id: string; basic: Record<string, string> }> {
  await prisma.partnerClient.create({
    data: { id, name: id, secretHash: await hashSecret(SECRET), countries: ["MX"], allowedScopes: [...USER_SCOPES], clientScopes: ["reports.read"], sandbox: false },
  });
  return { id, basic: basic(id, SECRET) };
}

const tokenRequest = (origin: string, credentials: Record<string, string>) => rest(origin, "POST", "/v1/auth/token", { headers: credentials, form: { grant_type: "client_credentials" } });

async function partnerToken(origin: string, credentials: Record<string, string>): Promise<string> {
  const answer = await tokenRequest(origin, credentials);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body.access_token as string;
}

/** A structured-field list member's integer parameter: `"requests";r=3;t=42` → r = 3. */
function parameter(field: string | null, policy: string, name: string): number | undefined {
  const member = field?.split(",").map((part) => part.trim()).find((part) => part.startsWith(`"${policy}";`));
  const match = member ? new RegExp(`;${name}=(\\d+)`).exec(member) : null;
  return match ? Number(match[1]) : undefined;
}

function assertPolicy(headers: Headers, policy: string, quota: number, windowSeconds: number): void {
  const field = headers.get("ratelimit-policy");
  assert.equal(parameter(field, policy, "q"), quota, `RateLimit-Policy: ${field}`);
  assert.equal(parameter(field, policy, "w"), windowSeconds, `RateLimit-Policy: ${field}`);
}

function remaining(headers: Headers, policy: string): number | undefined {
  return parameter(headers.get("ratelimit"), policy, "r");
}

/**
 * The envelope's code with its fields (the token endpoint may add RFC 6749's `error` beside
 * them, so extra keys are let through here; assertEnvelope checks the exact set elsewhere).
 */
function assertCode(answer: RestResponse, status: number, code: string): void {
  const context = JSON.stringify(answer.body);
  assert.equal(answer.status, status, context);
  for (const key of ["code", "message", "retry_after", "request_id"]) assert.ok(Object.hasOwn(answer.body ?? {}, key), `${key} in ${context}`);
  assert.equal(answer.body.code, code, context);
}

/** 429 RATE_LIMITED in the envelope, `Retry-After` equal to `retry_after`, and the RateLimit fields saying none is left. */
function assertRateLimitedRest(answer: RestResponse, policy: string): void {
  assertCode(answer, 429, "RATE_LIMITED");
  const retryAfter = answer.body.retry_after as number;
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `retry_after ${retryAfter}`);
  assert.equal(answer.headers.get("retry-after"), String(retryAfter));
  assert.ok(answer.headers.get("ratelimit-policy")?.includes(`"${policy}";`), `RateLimit-Policy names ${policy}: ${answer.headers.get("ratelimit-policy")}`);
  assert.equal(remaining(answer.headers, policy), 0, `RateLimit: ${answer.headers.get("ratelimit")}`);
  assert.ok(parameter(answer.headers.get("ratelimit"), policy, "t")! >= 1);
}

/** POST /graphql as fetch does, keeping the headers. */
async function graphql(url: string, query: string, token: string) {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...bearer(token) }, body: JSON.stringify({ query }) });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: response.status, headers: response.headers, body: (await response.json()) as { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] } };
}

/** A REST call from a chosen loopback source address (the per-address count sees it as another machine). */
function restFrom(localAddress: string, origin: string, path: string, headers: Record<string, string>, form: Record<string, string>): Promise<RestResponse> {
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(`${origin}${path}`, { method: "POST", localAddress, headers: { ...headers, "content-type": "application/x-www-form-urlencoded", "content-length": Buffer.byteLength(body) } }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
      incoming.on("end", () => {
        const headersOut = new Headers();
        for (const [name, value] of Object.entries(incoming.headers)) if (typeof value === "string") headersOut.set(name, value);
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: incoming.statusCode ?? 0, headers: headersOut, body: text === "" ? null : JSON.parse(text) });
      });
    });
    outgoing.on("error", reject);
    outgoing.end(body);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("per-client rate limits, counted in PostgreSQL and shared by two gateways", () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let first: Kamina;
  let second: Kamina;

  before(async () => {
    ({ database, prisma } = await createRealtimeDatabase());
    first = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 4 }, LIMITS);
    second = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 4 }, LIMITS);
  });

  after(async () => {
    await first?.stop();
    await second?.stop();
    await prisma?.$disconnect();
    await database?.drop();
  });

  test("the gateways count in the database's rate_limit table", () => {
    assert.equal(first.gateway!.auth.rateLimits.storeKind, "postgres");
  });

  test("a live client's request past its quota is 429 on REST, with Retry-After, retry_after and RateLimit headers; another client is unaffected", async () => {
    const client = await liveClient(prisma, "live_rest");
    const other = await liveClient(prisma, "live_rest_other");
    const origin = first.gateway!.origin;
    for (let count = 1; count <= REQUESTS; count++) {
      const answer = await tokenRequest(origin, client.basic);
      assert.equal(answer.status, 200, `request ${count}: ${JSON.stringify(answer.body)}`);
      assertPolicy(answer.headers, "requests", REQUESTS, 60);
      assert.equal(remaining(answer.headers, "requests"), REQUESTS - count);
    }
    const refused = await tokenRequest(origin, client.basic);
    assertRateLimitedRest(refused, "requests");
    assert.match(refused.body.message, /live_rest is over its 25 requests per 60 s/);

    const unaffected = await tokenRequest(origin, other.basic);
    assert.equal(unaffected.status, 200, JSON.stringify(unaffected.body));
    assert.equal(remaining(unaffected.headers, "requests"), REQUESTS - 1);
  });

  test("a REST route that runs a stored operation reports both the requests and the cost policy, and a token's requests count against its client", async () => {
    const client = await liveClient(prisma, "live_report");
    const origin = first.gateway!.origin;
    const token = await partnerToken(origin, client.basic);
    const answer = await rest(origin, "GET", "/v1/reports/prevention?period=2026Q4", { headers: bearer(token) });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assertPolicy(answer.headers, "requests", REQUESTS, 60);
    assertPolicy(answer.headers, "cost", COST, 60);
    assert.equal(remaining(answer.headers, "requests"), REQUESTS - 2, "the token request, then this one");
    assert.ok(remaining(answer.headers, "cost")! < COST, `cost charged: ${answer.headers.get("ratelimit")}`);
  });

  test("a partner token's request past its client's quota is 429 RATE_LIMITED on /graphql with retryAfter and the headers; another client's token still reads", async () => {
    const client = await liveClient(prisma, "live_graphql");
    const other = await liveClient(prisma, "live_graphql_other");
    const token = await partnerToken(first.gateway!.origin, client.basic);
    const otherToken = await partnerToken(first.gateway!.origin, other.basic);
    for (let count = 2; count <= REQUESTS; count++) {
      const answer = await graphql(first.graphqlUrl, CHEAP, token);
      assert.equal(answer.status, 200, `request ${count}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.errors, undefined, JSON.stringify(answer.body.errors));
      assertPolicy(answer.headers, "requests", REQUESTS, 60);
      assertPolicy(answer.headers, "cost", COST, 60);
      assert.equal(remaining(answer.headers, "requests"), REQUESTS - count);
    }
    const refused = await graphql(first.graphqlUrl, CHEAP, token);
    assert.equal(refused.status, 429, JSON.stringify(refused.body));
    assert.equal(refused.body.data, undefined);
    const error = refused.body.errors?.[0];
    assert.equal(error?.extensions?.code, "RATE_LIMITED", JSON.stringify(refused.body));
    const retryAfter = error?.extensions?.retryAfter as number;
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `retryAfter ${retryAfter}`);
    assert.equal(refused.headers.get("retry-after"), String(retryAfter));
    assertPolicy(refused.headers, "requests", REQUESTS, 60);
    assert.equal(remaining(refused.headers, "requests"), 0);

    const unaffected = await graphql(first.graphqlUrl, CHEAP, otherToken);
    assert.equal(unaffected.status, 200, JSON.stringify(unaffected.body));
  });

  test("the estimated cost of what a client runs is counted per window: past it the operation is refused before it runs", async () => {
    const client = await liveClient(prisma, "live_cost");
    const token = await partnerToken(first.gateway!.origin, client.basic);
    const admitted = await graphql(first.graphqlUrl, COSTLY, token);
    assert.equal(admitted.status, 200, JSON.stringify(admitted.body));
    assert.equal(remaining(admitted.headers, "cost"), COST - 301);

    const refused = await graphql(second.graphqlUrl, COSTLY, token);
    assert.equal(refused.status, 429, JSON.stringify(refused.body));
    assert.equal(refused.body.errors?.[0]?.extensions?.code, "RATE_LIMITED");
    assert.match(refused.body.errors![0]!.message, /operation cost of 400 per 60 s \(this operation: 301\)/);
    assert.ok(Number(refused.headers.get("retry-after")) >= 1);
    assert.equal(remaining(refused.headers, "cost"), COST - 301, "what is left, the refused operation's cost given back");
    assert.equal(remaining(refused.headers, "requests"), REQUESTS - 3, "the request itself was counted, on the other gateway");

    const cheap = await graphql(second.graphqlUrl, CHEAP, token);
    assert.equal(cheap.status, 200, `what is left of the quota still serves a cheap operation: ${JSON.stringify(cheap.body)}`);
  });

  test("a /graphql request's count and its operation's cost are one statement: both rows are written by the same transaction", async () => {
    const client = await liveClient(prisma, "live_one_statement");
    const token = await partnerToken(first.gateway!.origin, client.basic);
    const answer = await graphql(first.graphqlUrl, CHEAP, token);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const rows = await prisma.$queryRaw<{ key: string; writer: string }[]>`SELECT key, xmin::text AS writer FROM rate_limit WHERE key IN (${`kamina:requests:${client.id}`}, ${`kamina:cost:${client.id}`}) ORDER BY key`;
    assert.equal(rows.length, 2, JSON.stringify(rows));
    assert.equal(rows[0]!.writer, rows[1]!.writer, `written by ${JSON.stringify(rows)}`);
  });

  test("requests with a revoked token are refused and spend nothing of their client's quota", async () => {
    const client = await liveClient(prisma, "live_revoked");
    const token = await partnerToken(first.gateway!.origin, client.basic);
    const revoked = await rest(first.gateway!.origin, "POST", "/v1/auth/revoke", { headers: client.basic, form: { token } });
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    const counted = async () => (await prisma.$queryRaw<{ points: number }[]>`SELECT points FROM rate_limit WHERE key = ${`kamina:requests:${client.id}`}`)[0]?.points;
    const before = await counted();
    const answers = await Promise.all(Array.from({ length: 10 }, () => graphql(first.graphqlUrl, CHEAP, token)));
    for (const answer of answers) assert.equal(answer.status, 401, JSON.stringify(answer.body));
    assert.equal(await counted(), before);
  });

  test("a request refused for its count is not charged the cost counted beside it, and its operation does not run", async () => {
    const client = await liveClient(prisma, "live_refund");
    const token = await partnerToken(first.gateway!.origin, client.basic);
    for (let count = 2; count <= REQUESTS; count++) assert.equal((await graphql(first.graphqlUrl, CHEAP, token)).status, 200);
    const costKey = `kamina:cost:${client.id}`;
    const spent = async () => (await prisma.$queryRaw<{ points: number }[]>`SELECT points FROM rate_limit WHERE key = ${costKey}`)[0]?.points;
    const before = await spent();
    assert.ok(before !== undefined && before > 0, `cost counted: ${before}`);
    const refused = await graphql(first.graphqlUrl, COSTLY, token);
    assert.equal(refused.status, 429, JSON.stringify(refused.body));
    assert.equal(refused.body.data, undefined);
    assert.equal(refused.body.errors?.[0]?.extensions?.code, "RATE_LIMITED");
    assert.match(refused.body.errors![0]!.message, /over its 25 requests per 60 s/);
    assert.equal(remaining(refused.headers, "requests"), 0);
    assert.equal(await spent(), before, "the refused operation's 301 given back");
  });

  test("failed Basic authentications lock a client id out after the quota: the right secret is refused with 429 until the window passes", async () => {
    const client = await liveClient(prisma, "live_auth");
    const other = await liveClient(prisma, "live_auth_other");
    const origin = first.gateway!.origin;
    const wrong = basic(client.id, "not-the-secret-000000");
    // From several addresses: the count is per client id, wherever the guesses come from.
    for (let count = 1; count <= AUTH_FAILURES_PER_CLIENT; count++) {
      const answer = await restFrom(`127.0.0.${10 + count}`, origin, "/v1/auth/token", wrong, { grant_type: "client_credentials" });
      assertCode(answer, 401, "UNAUTHENTICATED");
    }
    const locked = await restFrom("127.0.0.20", origin, "/v1/auth/token", client.basic, { grant_type: "client_credentials" });
    assertRateLimitedRest(locked, "auth-failures-client");
    assert.match(locked.body.message, /Too many failed client authentications from this client id/);
    assert.ok(locked.body.retry_after <= AUTH_WINDOW_SECONDS);
    const onTheOtherGateway = await restFrom("127.0.0.21", second.gateway!.origin, "/v1/auth/token", client.basic, { grant_type: "client_credentials" });
    assertCode(onTheOtherGateway, 429, "RATE_LIMITED");

    const unaffected = await restFrom("127.0.0.20", origin, "/v1/auth/token", other.basic, { grant_type: "client_credentials" });
    assert.equal(unaffected.status, 200, `another client from the same address: ${JSON.stringify(unaffected.body)}`);

    await sleep(locked.body.retry_after * 1000 + 200);
    const afterWindow = await restFrom("127.0.0.20", origin, "/v1/auth/token", client.basic, { grant_type: "client_credentials" });
    assert.equal(afterWindow.status, 200, `once the window has passed: ${JSON.stringify(afterWindow.body)}`);
  });

  test("failed Basic authentications lock a source address out across client ids, while the same client from elsewhere still authenticates", async () => {
    const client = await liveClient(prisma, "live_address");
    const origin = first.gateway!.origin;
    const attacker = "127.0.0.30";
    for (let count = 1; count <= AUTH_FAILURES_PER_ADDRESS; count++) {
      const answer = await restFrom(attacker, count % 2 ? origin : second.gateway!.origin, "/v1/auth/token", basic(`guessed_${count}`, "not-the-secret-000000"), { grant_type: "client_credentials" });
      assertCode(answer, 401, "UNAUTHENTICATED");
    }
    const locked = await restFrom(attacker, origin, "/v1/auth/token", client.basic, { grant_type: "client_credentials" });
    assertRateLimitedRest(locked, "auth-failures-address");
    assert.match(locked.body.message, /from this address/);
    const elsewhere = await restFrom("127.0.0.31", origin, "/v1/auth/token", client.basic, { grant_type: "client_credentials" });
    assert.equal(elsewhere.status, 200, JSON.stringify(elsewhere.body));
  });

  test("a live client's 21st consent request for the same person is 429 (each is a prompt in the person's app); another person's still passes", async () => {
    const client = await liveClient(prisma, "live_consent");
    const ask = (origin: string, userId: string) =>
      rest(origin, "POST", "/v1/auth/consent", {
        headers: client.basic,
        json: { client_id: client.id, user_external_id: userId, scopes: ["wellness.read"], country: "MX", consent_text_version: CONSENT_TEXT_VERSION },
      });
    for (let count = 1; count <= CONSENTS_PER_PERSON; count++) {
      const answer = await ask(count % 2 ? first.gateway!.origin : second.gateway!.origin, PERSON_A);
      assert.equal(answer.status, 202, `request ${count}: ${JSON.stringify(answer.body)}`);
      assertPolicy(answer.headers, "consent-prompts", CONSENTS_PER_PERSON, 86_400);
      assert.equal(remaining(answer.headers, "consent-prompts"), CONSENTS_PER_PERSON - count);
    }
    const refused = await ask(first.gateway!.origin, PERSON_A);
    assertRateLimitedRest(refused, "consent-prompts");
    assertEnvelope(refused, 429, "RATE_LIMITED");
    assert.match(refused.body.message, /asked this person for consent 20 times/);
    assert.equal(await prisma.consent.count({ where: { clientId: client.id, userId: PERSON_A } }), CONSENTS_PER_PERSON, "the refused request prompted no one");

    const otherPerson = await ask(first.gateway!.origin, PERSON_B);
    assert.equal(otherPerson.status, 202, JSON.stringify(otherPerson.body));
  });

  test("two gateways on one database share a client's quota: the request past it is refused on either", async () => {
    const client = await liveClient(prisma, "live_shared");
    for (let count = 1; count <= REQUESTS; count++) {
      const answer = await tokenRequest((count % 2 ? first : second).gateway!.origin, client.basic);
      assert.equal(answer.status, 200, `request ${count}: ${JSON.stringify(answer.body)}`);
    }
    assertRateLimitedRest(await tokenRequest(first.gateway!.origin, client.basic), "requests");
    assertRateLimitedRest(await tokenRequest(second.gateway!.origin, client.basic), "requests");
    const sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
    try {
      const { rows } = await sql.query<{ points: number }>("SELECT points FROM rate_limit WHERE key = $1", [`kamina:requests:${client.id}`]);
      assert.equal(rows[0]?.points, REQUESTS + 2, "one row, every gateway's requests in it");
    } finally {
      await sql.end();
    }
  });

  test("counts asked at the same moment share statements, and each is told exactly what a statement of its own would have: the quota admits that many, no more", async () => {
    const pool = new pg.Pool({ connectionString: database.url, max: 3 });
    let statements = 0;
    const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
    (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args) => {
      statements++;
      return query(...args);
    };
    const counts = new BatchedCounts(pool, "rate_limit", 3);
    const requests = counts.limiter({ storeClient: pool, storeType: "pool", tableName: "rate_limit", tableCreated: true, clearExpiredByTimeout: false, keyPrefix: "batched:requests", points: 30, duration: 60 });
    const cost = counts.limiter({ storeClient: pool, storeType: "pool", tableName: "rate_limit", tableCreated: true, clearExpiredByTimeout: false, keyPrefix: "batched:cost", points: 1000, duration: 60 });
    try {
      const asked = Array.from({ length: 40 }, (_, index) => [requests.consume(index % 2 ? "a" : "b"), cost.consume("a", 7)]).flat();
      const answers = await Promise.allSettled(asked);
      assert.ok(statements < asked.length / 4, `${statements} statements for ${asked.length} counts`);
      const consumed = (key: number) =>
        answers.filter((_, index) => index % 2 === 0 && ((index / 2) % 2 ? 1 : 0) === key).map((answer) => (answer.status === "fulfilled" ? answer.value.consumedPoints : (answer.reason as { consumedPoints: number }).consumedPoints));
      // 20 counts per key, each told a different total, 1 to 20, all admitted (quota 30).
      assert.deepEqual(consumed(1).sort((x, y) => x - y), Array.from({ length: 20 }, (_, index) => index + 1));
      assert.deepEqual(consumed(0).sort((x, y) => x - y), Array.from({ length: 20 }, (_, index) => index + 1));
      const costs = answers.filter((_, index) => index % 2 === 1);
      // 7 points each against 1,000: 142 fit, so all 40 (280 points) pass, each told its running total.
      assert.deepEqual(costs.map((answer) => (answer.status === "fulfilled" ? answer.value.consumedPoints : -1)).sort((x, y) => x - y), Array.from({ length: 40 }, (_, index) => 7 * (index + 1)));
      // Past the quota: 15 more of key "a" at once, 10 of them fit (20 + 10 = 30), 5 refused, told 31 to 35.
      const more = await Promise.allSettled(Array.from({ length: 15 }, () => requests.consume("a")));
      assert.equal(more.filter((answer) => answer.status === "fulfilled").length, 10);
      assert.deepEqual(more.filter((answer) => answer.status === "rejected").map((answer) => (answer.reason as { consumedPoints: number }).consumedPoints).sort((x, y) => x - y), [31, 32, 33, 34, 35]);
      const { rows } = await pool.query<{ key: string; points: number }>("SELECT key, points FROM rate_limit WHERE key LIKE 'batched:%' ORDER BY key");
      assert.deepEqual(rows.map((row) => [row.key, row.points]), [["batched:cost:a", 280], ["batched:requests:a", 35], ["batched:requests:b", 20]]);
    } finally {
      await pool.end();
    }
  });
});

/** Redis on this machine, or why it cannot be used. */
async function redisReachable(url: string): Promise<string | undefined> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1_000, retryStrategy: () => null });
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return undefined;
  } catch (error) {
    return `Redis is not reachable at ${url} (${(error as Error).message}): the Redis store is not tested here`;
  } finally {
    redis.disconnect();
  }
}

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const unreachable = await redisReachable(REDIS_URL);

describe("per-client rate limits counted in Redis (REDIS_URL)", { skip: unreachable }, () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let first: Kamina;
  let second: Kamina;
  // A key prefix of this run's own: Redis outlives test databases.
  const keyPrefix = `kamina-test-${randomBytes(6).toString("hex")}`;
  const redis = new Redis(REDIS_URL, { lazyConnect: true });

  before(async () => {
    ({ database, prisma } = await createRealtimeDatabase());
    const env = { ...LIMITS, REDIS_URL, RATE_LIMIT_KEY_PREFIX: keyPrefix };
    first = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 4 }, env);
    second = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 4 }, env);
    await redis.connect();
  });

  after(async () => {
    await first?.stop();
    await second?.stop();
    if (redis.status === "ready") {
      const keys = await redis.keys(`${keyPrefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    }
    await prisma?.$disconnect();
    await database?.drop();
  });

  test("two gateways share a client's quota in Redis, on REST and /graphql, and nothing is counted in the database", async () => {
    assert.equal(first.gateway!.auth.rateLimits.storeKind, "redis");
    const client = await liveClient(prisma, "live_redis");
    const other = await liveClient(prisma, "live_redis_other");
    const token = await partnerToken(first.gateway!.origin, client.basic);
    for (let count = 2; count <= REQUESTS; count++) {
      const kamina = count % 2 ? first : second;
      const answer = count % 3 ? await graphql(kamina.graphqlUrl, CHEAP, token) : await tokenRequest(kamina.gateway!.origin, client.basic);
      assert.equal(answer.status, 200, `request ${count}: ${JSON.stringify(answer.body)}`);
      assert.equal(remaining(answer.headers, "requests"), REQUESTS - count);
    }
    assertRateLimitedRest(await tokenRequest(second.gateway!.origin, client.basic), "requests");
    const refused = await graphql(first.graphqlUrl, CHEAP, token);
    assert.equal(refused.status, 429);
    assert.equal(refused.body.errors?.[0]?.extensions?.code, "RATE_LIMITED");
    assert.ok(Number(refused.headers.get("retry-after")) >= 1);

    assert.equal((await tokenRequest(second.gateway!.origin, other.basic)).status, 200, "another client is unaffected");
    assert.equal(Number(await redis.get(`${keyPrefix}:requests:${client.id}`)), REQUESTS + 2);
    const sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
    try {
      assert.equal((await sql.query("SELECT 1 FROM rate_limit")).rowCount, 0);
    } finally {
      await sql.end();
    }
  });

  test("failed authentications are counted in Redis too: the right secret is refused past the quota, on either gateway", async () => {
    const client = await liveClient(prisma, "live_redis_auth");
    const wrong = basic(client.id, "not-the-secret-000000");
    for (let count = 1; count <= AUTH_FAILURES_PER_CLIENT; count++) assertCode(await tokenRequest((count % 2 ? first : second).gateway!.origin, wrong), 401, "UNAUTHENTICATED");
    assertRateLimitedRest(await tokenRequest(first.gateway!.origin, client.basic), "auth-failures-client");
  });
});

describe("the embedded database (PGlite) counts in its own rate_limit table", () => {
  test("a quota is kept, refused past it with the time left, and per key", async () => {
    const pglite = new PGlite();
    const target = { kind: "pglite" as const, pglite };
    await applyMigrations(target);
    const prisma = createPrismaClient(target, { access: allTenants("test") });
    const config = { ...DEFAULT_RATE_LIMITS, clients: { ...DEFAULT_RATE_LIMITS.clients, requests: { sandbox: 100, live: 2 } } };
    const limits = new RateLimits(await createLimiterStore(config, target, createLogger("silent")), config, prisma);
    try {
      assert.equal(limits.storeKind, "pglite");
      const meter = new RequestMeter();
      await limits.countRequest(meter, "client_a", false);
      await limits.countRequest(meter, "client_a", false);
      assert.match(meter.headers()[1]![1], /^"requests";r=0;t=(59|60)$/);
      await assert.rejects(limits.countRequest(meter, "client_a", false), (error: unknown) => error instanceof RateLimitExceeded && error.retryAfterSeconds >= 59);
      await limits.countRequest(new RequestMeter(), "client_b", false);
      const { rows } = await pglite.query<{ key: string; points: number }>("SELECT key, points FROM rate_limit ORDER BY key");
      assert.deepEqual(rows.map((row) => [row.key, row.points]), [["kamina:requests:client_a", 3], ["kamina:requests:client_b", 1]]);
    } finally {
      await limits.close();
      await prisma.$disconnect();
      await pglite.close();
    }
  });
});
