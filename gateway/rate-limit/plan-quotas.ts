// Plan quotas (pay-per-call metering): a client's monthly allowance of billable calls per product,
// from `usage_quota`, spent as `usage_counter` counts them. Once spent, calls of that product are
// refused with 429 RATE_LIMITED until the UTC month ends. Checked before a call runs and counted
// after, so calls running at the same moment may pass the quota by as many as run at once.
import type { PrismaClient } from "../../platform/database/database.ts";
import { LruMap } from "../../platform/lru-map.ts";
import { monthlyQuotas, spentThisMonth } from "../../platform/metering/usage-counter.ts";
import type { LimitState } from "./request-meter.ts";

/** How long a client's quotas are taken as read: an operator's change is in force within a minute. */
const QUOTAS_TTL_MS = 60_000;
const CLIENTS_KEPT = 10_000;

export class PlanQuotas {
  private readonly quotas = new LruMap<string, { byProduct: Map<string, bigint>; until: number }>(CLIENTS_KEPT);

  constructor(private readonly prisma: PrismaClient) {}

  /** Where the client stands against its quota of `product` this month, and when it is spent, why; nothing for a client without one. */
  async check(clientId: string, product: string, now = new Date()): Promise<{ state: LimitState; refusal: string | undefined } | undefined> {
    const quota = (await this.quotasOf(clientId)).get(product);
    if (quota === undefined) return undefined;
    const spent = await spentThisMonth(this.prisma, clientId, product);
    const nextMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
    const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
    const state: LimitState = {
      policy: { name: `quota:${product}`, quota: Number(quota), windowSeconds: Math.round((nextMonth - monthStart) / 1000) },
      remaining: Number(spent >= quota ? 0n : quota - spent),
      resetSeconds: Math.max(1, Math.ceil((nextMonth - now.getTime()) / 1000)),
    };
    const refusal = spent >= quota ? `Client ${clientId} has spent its plan's ${quota} calls of ${product} this month; the quota is whole again on ${new Date(nextMonth).toISOString().slice(0, 10)}` : undefined;
    return { state, refusal };
  }

  private async quotasOf(clientId: string): Promise<Map<string, bigint>> {
    const known = this.quotas.get(clientId);
    if (known && known.until > Date.now()) return known.byProduct;
    const byProduct = await monthlyQuotas(this.prisma, clientId);
    this.quotas.set(clientId, { byProduct, until: Date.now() + QUOTAS_TTL_MS });
    return byProduct;
  }
}
