import { randomUUID } from "node:crypto";
import type { PartnerClient } from "../../generated/prisma/client.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import { checkDestination, type Resolver } from "../../platform/net/public-address.ts";
import { RestError } from "../rest/envelope.ts";
import { generateSecret, SecretBox } from "../../realtime/webhooks/webhook-secrets.ts";

export const WEBHOOK_EVENTS = ["alert.created"] as const;
export const MANAGE_SCOPE = "webhooks.manage";

export interface EndpointView {
  id: string;
  url: string;
  events: string[];
  status: string;
  created_at: string;
}

/** Partners' webhook endpoints: each client sees and changes only its own. */
export class WebhookEndpoints {
  private readonly box: SecretBox;

  constructor(
    private readonly prisma: PrismaClient,
    keyEncryptionKey: Uint8Array,
    private readonly rotationOverlapMs: number,
    /** How host names are resolved for the address policy (tests stand in a DNS of their own). */
    private readonly resolve?: Resolver,
  ) {
    this.box = new SecretBox(keyEncryptionKey);
  }

  async create(client: PartnerClient, url: string, events: readonly string[]): Promise<EndpointView & { secret: string }> {
    requireScope(client);
    await checkUrl(url, client.sandbox, this.resolve);
    const secret = generateSecret();
    const row = await this.prisma.webhookEndpoint.create({
      data: { id: `whe_${randomUUID().replaceAll("-", "")}`, clientId: client.id, url, events: [...new Set(events)], secretEncrypted: await this.box.seal({ current: secret }) },
    });
    return { ...view(row), secret };
  }

  async list(client: PartnerClient): Promise<EndpointView[]> {
    requireScope(client);
    const rows = await this.prisma.webhookEndpoint.findMany({ where: { clientId: client.id }, orderBy: { createdAt: "asc" } });
    return rows.map(view);
  }

  async remove(client: PartnerClient, id: string): Promise<void> {
    requireScope(client);
    const { count } = await this.prisma.webhookEndpoint.deleteMany({ where: { id, clientId: client.id } });
    if (count === 0) throw new RestError("NOT_FOUND", `No webhook endpoint ${id}`);
  }

  /** A new secret; the old one keeps signing beside it for the overlap window, so receivers can switch without losing deliveries. */
  async rotateSecret(client: PartnerClient, id: string): Promise<{ id: string; secret: string; previous_secret_valid_until: string }> {
    requireScope(client);
    const row = await this.prisma.webhookEndpoint.findFirst({ where: { id, clientId: client.id } });
    if (!row) throw new RestError("NOT_FOUND", `No webhook endpoint ${id}`);
    const old = await this.box.open(row.secretEncrypted);
    const secret = generateSecret();
    const previousUntil = Date.now() + this.rotationOverlapMs;
    await this.prisma.webhookEndpoint.update({ where: { id }, data: { secretEncrypted: await this.box.seal({ current: secret, previous: old.current, previousUntil }) } });
    return { id, secret, previous_secret_valid_until: new Date(previousUntil).toISOString() };
  }

  /** Dead (and failed) deliveries of the endpoint go back to the queue, attempts reset. */
  async replay(client: PartnerClient, id: string, since: Date | undefined): Promise<{ id: string; replayed: number }> {
    requireScope(client);
    const row = await this.prisma.webhookEndpoint.findFirst({ where: { id, clientId: client.id }, select: { id: true } });
    if (!row) throw new RestError("NOT_FOUND", `No webhook endpoint ${id}`);
    const { count } = await this.prisma.webhookDelivery.updateMany({
      where: { endpointId: id, status: { in: ["DEAD", "FAILED"] }, ...(since ? { createdAt: { gte: since } } : {}) },
      data: { status: "PENDING", attempts: 0, nextAttemptAt: new Date(), leasedUntil: null, lastError: null },
    });
    return { id, replayed: count };
  }
}

function requireScope(client: PartnerClient): void {
  if (!client.clientScopes.includes(MANAGE_SCOPE)) throw new RestError("FORBIDDEN", `Managing webhooks needs the client scope ${MANAGE_SCOPE}`);
}

function view(row: { id: string; url: string; events: string[]; status: string; createdAt: Date }): EndpointView {
  return { id: row.id, url: row.url, events: row.events, status: row.status.toLowerCase(), created_at: row.createdAt.toISOString() };
}

/**
 * No request forgery into private networks: the address policy (platform/net/public-address.ts)
 * at registration. The dispatcher applies it again at every send, since DNS can change.
 */
export async function checkUrl(raw: string, sandbox: boolean, resolve?: Resolver): Promise<void> {
  const checked = await checkDestination(raw, { sandbox, ...(resolve ? { resolve } : {}) });
  if (checked.ok) return;
  throw new RestError("BAD_USER_INPUT", `\`url\` ${checked.reason}`);
}
