// Per-client rate limits, counted in a store every gateway instance shares (limiter-store.ts):
// - requests per window, per partner client (a consent token counts against its client);
// - the estimated cost of the GraphQL operations run, per client and window (the cost the
//   operation limits compute, platform/graphql-limits.ts, charged once the operation is admitted);
// - failed HTTP Basic client authentications, per client id and per source address: past the
//   quota every attempt is refused, a right secret too, until the window passes;
// - consent requests per (client, person): a live client's request is a prompt in the person's app.
// Sandbox clients get the generous quotas, live clients the tight ones (docs/operations.md).
import { createHash } from "node:crypto";
import ipaddr from "ipaddr.js";
import { RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { RateLimitConfig, Tier } from "../../platform/config/rate-limit-config.ts";
import type { DatabaseTarget, PrismaClient } from "../../platform/database/database.ts";
import type { Logger } from "../../platform/logger.ts";
import { LruMap } from "../../platform/lru-map.ts";
import { activeMetrics } from "../../platform/observability/metrics.ts";
import { createLimiterStore, memoryStore, type LimiterStore } from "./limiter-store.ts";
import { PlanQuotas } from "./plan-quotas.ts";
import type { LimitState, Policy, RequestMeter } from "./request-meter.ts";

/** How long a client's sandbox flag is taken as read: it is set when the client is registered. */
const TIER_TTL_MS = 60_000;
const TIERS_KEPT = 10_000;

/** A count over its quota; the answer is 429 RATE_LIMITED with `Retry-After`. */
export class RateLimitExceeded extends Error {
  constructor(
    message: string,
    /** Whole seconds until the window that refused it ends (at least 1). */
    readonly retryAfterSeconds: number,
    /** Every state this request was counted against, the refusing one among them, for the RateLimit headers. */
    readonly states: readonly LimitState[],
  ) {
    super(message);
    // The policies are a fixed set (requests, cost, consent prompts, failed authentications, a plan quota per product).
    activeMetrics()?.rateLimitRefusals.inc({ limit: states[0]?.policy.name ?? "unknown" });
  }
}

type Tiered<T> = { sandbox: T; live: T };

interface Limiter {
  policy: Policy;
  store: RateLimiterAbstract;
}

export class RateLimits {
  private readonly requests: Tiered<Limiter>;
  private readonly cost: Tiered<Limiter>;
  private readonly consentPrompts: Tiered<Limiter>;
  private readonly failuresByClient: Limiter;
  private readonly failuresByAddress: Limiter;
  private readonly tiers = new LruMap<string, { sandbox: boolean; until: number }>(TIERS_KEPT);
  private readonly planQuotas: PlanQuotas;

  constructor(
    private readonly store: LimiterStore,
    config: RateLimitConfig,
    private readonly prisma: PrismaClient,
  ) {
    const limiter = (name: string, quota: number, windowSeconds: number): Limiter => ({ policy: { name, quota, windowSeconds }, store: store.limiter(name, quota, windowSeconds) });
    const tiered = (name: string, quotas: Tier, windowSeconds: number): Tiered<Limiter> => ({
      sandbox: limiter(`${name}-sandbox`, quotas.sandbox, windowSeconds),
      live: limiter(name, quotas.live, windowSeconds),
    });
    this.requests = tiered("requests", config.clients.requests, config.clients.windowSeconds);
    this.cost = tiered("cost", config.clients.cost, config.clients.windowSeconds);
    this.consentPrompts = tiered("consent-prompts", config.consentPrompts.perPerson, config.consentPrompts.windowSeconds);
    this.failuresByClient = limiter("auth-failures-client", config.authFailures.perClient, config.authFailures.windowSeconds);
    this.failuresByAddress = limiter("auth-failures-address", config.authFailures.perAddress, config.authFailures.windowSeconds);
    this.planQuotas = new PlanQuotas(prisma);
  }

  get storeKind(): LimiterStore["kind"] {
    return this.store.kind;
  }

  /** One request of an authenticated client. `sandbox` when already known (Basic authentication read the client). */
  async countRequest(meter: RequestMeter, clientId: string, sandbox?: boolean): Promise<void> {
    const limiter = await this.tierOf(this.requests, clientId, sandbox);
    await this.consume(meter, limiter, clientId, 1, `Client ${clientId} is over its ${limiter.policy.quota} requests per ${limiter.policy.windowSeconds} s`);
  }

  /** A billable call of `product` (metering): refused once the client's plan quota for the month is spent. */
  async spendQuota(meter: RequestMeter, clientId: string, product: string): Promise<void> {
    const standing = await this.planQuotas.check(clientId, product);
    if (!standing) return;
    meter.record(standing.state);
    if (standing.refusal) throw new RateLimitExceeded(standing.refusal, standing.state.resetSeconds, [standing.state]);
  }

  /** The estimated cost of an operation the client runs (never 0 or less: nothing to count). */
  async chargeCost(meter: RequestMeter, clientId: string, cost: number): Promise<void> {
    if (!(cost > 0) || !Number.isFinite(cost)) return;
    const limiter = await this.tierOf(this.cost, clientId);
    const points = Math.ceil(cost);
    // A refused operation does not run: what it would have cost is given back, and a cheaper one still fits.
    await this.consume(meter, limiter, clientId, points, `Client ${clientId} is over its operation cost of ${limiter.policy.quota} per ${limiter.policy.windowSeconds} s (this operation: ${points}); ask for less per operation or wait`, { refundRefused: true });
  }

  /** Gives back an admitted operation's cost: the request it belongs to was refused (graphql-rate-limits.ts). */
  async refundCost(meter: RequestMeter, clientId: string, cost: number): Promise<void> {
    if (!(cost > 0) || !Number.isFinite(cost)) return;
    const limiter = await this.tierOf(this.cost, clientId);
    meter.record(stateOf(limiter.policy, await limiter.store.reward(clientId, Math.ceil(cost))));
  }

  /** A consent request for one person: each one a live client sends is a prompt in the person's app. */
  async countConsentPrompt(meter: RequestMeter, client: { id: string; sandbox: boolean }, userId: string): Promise<void> {
    const limiter = this.consentPrompts[client.sandbox ? "sandbox" : "live"];
    await this.consume(meter, limiter, `${client.id}:${digest(userId)}`, 1, `Client ${client.id} has asked this person for consent ${limiter.policy.quota} times in ${limiter.policy.windowSeconds} s; wait for the person's answer`);
  }

  /**
   * Before a Basic authentication is tried: refused while the client id or the source address has
   * used up its failures. The id is as sent (unverified), so it is hashed into the key.
   */
  async refuseLockedOut(clientId: string | undefined, address: string | undefined): Promise<void> {
    const checks: [Limiter, string][] = [];
    if (clientId !== undefined) checks.push([this.failuresByClient, digest(clientId)]);
    if (address !== undefined) checks.push([this.failuresByAddress, addressKey(address)]);
    const found = await Promise.all(checks.map(async ([limiter, key]) => ({ limiter, res: await limiter.store.get(key) })));
    const locked = found.filter(({ limiter, res }) => res !== null && res.consumedPoints >= limiter.policy.quota);
    if (locked.length === 0) return;
    const states = locked.map(({ limiter, res }) => stateOf(limiter.policy, res!));
    const retryAfter = Math.max(...states.map((state) => state.resetSeconds));
    throw new RateLimitExceeded(`Too many failed client authentications from this ${locked[0]!.limiter === this.failuresByClient ? "client id" : "address"}; every attempt is refused for ${retryAfter} s`, retryAfter, states);
  }

  /** A Basic authentication that failed: counts against the id sent (when there was one) and the address. */
  async authenticationFailed(clientId: string | undefined, address: string | undefined): Promise<void> {
    await Promise.all([
      clientId !== undefined ? this.failuresByClient.store.penalty(digest(clientId)) : undefined,
      address !== undefined ? this.failuresByAddress.store.penalty(addressKey(address)) : undefined,
    ]);
  }

  close(): Promise<void> {
    return this.store.close();
  }

  private async consume(meter: RequestMeter, limiter: Limiter, key: string, points: number, message: string, options: { refundRefused?: boolean } = {}): Promise<void> {
    try {
      meter.record(stateOf(limiter.policy, await limiter.store.consume(key, points)));
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) throw refusal;
      const refunded = options.refundRefused ? await limiter.store.reward(key, points) : undefined;
      // Refunded, what is left is said as it is: less than this operation needs, maybe not none.
      const state = stateOf(limiter.policy, refunded ?? refusal);
      meter.record(state);
      throw new RateLimitExceeded(`${message}: retry in ${state.resetSeconds} s`, state.resetSeconds, [state]);
    }
  }

  /** The client's tier of `tiered`; `sandbox` when already known (Basic authentication read the client). */
  private async tierOf<T>(tiered: Tiered<T>, clientId: string, sandbox?: boolean): Promise<T> {
    return tiered[(sandbox ?? (await this.isSandbox(clientId))) ? "sandbox" : "live"];
  }

  private async isSandbox(clientId: string): Promise<boolean> {
    const known = this.tiers.get(clientId);
    if (known && known.until > Date.now()) return known.sandbox;
    const client = await this.prisma.partnerClient.findUnique({ where: { id: clientId }, select: { sandbox: true } });
    const sandbox = client?.sandbox ?? false;
    this.tiers.set(clientId, { sandbox, until: Date.now() + TIER_TTL_MS });
    return sandbox;
  }
}

/** The gateway's limits, counted where every instance sees them: Redis with REDIS_URL, else the database. */
export async function startRateLimits(config: RateLimitConfig, database: DatabaseTarget, prisma: PrismaClient, logger: Logger): Promise<RateLimits> {
  const limits = new RateLimits(await createLimiterStore(config, database, logger), config, prisma);
  logger.info({ store: limits.storeKind }, "rate limits counted in a shared store");
  return limits;
}

/** The same limits counted in this process only, for pieces that serve no partner (token minting in benchmarks). */
export function localRateLimits(config: RateLimitConfig, prisma: PrismaClient): RateLimits {
  return new RateLimits(memoryStore(config), config, prisma);
}

function stateOf(policy: Policy, res: RateLimiterRes): LimitState {
  return {
    policy,
    remaining: Math.max(0, policy.quota - res.consumedPoints),
    resetSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
  };
}

/** Keys hold what the caller sent only as a digest: any length, any character, fits the store's key. */
function digest(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("base64url").slice(0, 32);
}

/**
 * An IPv4 address as is (an IPv4-mapped IPv6 one as its IPv4 form); an IPv6 address by its /64,
 * the block one host is given, so walking the addresses of one's own block gains nothing.
 */
export function addressKey(address: string): string {
  if (!ipaddr.isValid(address)) return digest(address);
  const parsed = ipaddr.process(address);
  if (parsed.kind() === "ipv4") return parsed.toString();
  const parts = (parsed as ipaddr.IPv6).parts.slice(0, 4);
  return `${parts.map((part) => part.toString(16)).join(":")}::/64`;
}
