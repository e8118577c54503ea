import { randomUUID } from "node:crypto";
import type { PartnerClient } from "../../generated/prisma/client.ts";
import type { DeliveryStatus } from "../../generated/prisma/enums.ts";
import { messageId } from "../../domain/alerts/alert-event.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import { checkDestination, type Resolver } from "../../platform/net/public-address.ts";
import { RestError } from "../rest/envelope.ts";
import { generateSecret, SecretBox } from "../../realtime/webhooks/webhook-secrets.ts";
import type { KeyEncryptionKeys } from "../../platform/encryption/vault-factory.ts";

export const WEBHOOK_EVENTS = ["alert.created"] as const;
export const MANAGE_SCOPE = "webhooks.manage";
export const DELIVERY_STATUSES = ["pending", "delivered", "failed", "dead"] as const;
export const DEFAULT_DELIVERY_PAGE = 50;
export const MAX_DELIVERY_PAGE = 200;

/** One delivery of one event to one endpoint, as a partner debugging its receiver sees it. */
export interface DeliveryView {
  id: string;
  /** The `webhook-id` header every attempt carried (`msg_<event>`): what the receiver logs. */
  message_id: string;
  event: string;
  status: (typeof DELIVERY_STATUSES)[number];
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  created_at: string;
  delivered_at: string | null;
}

export interface ReplayOptions {
  since?: Date;
  until?: Date;
  /** Delivered deliveries in the window go out again too (a receiver being debugged). */
  includeDelivered?: boolean;
}

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
    keys: KeyEncryptionKeys,
    private readonly rotationOverlapMs: number,
    /** How host names are resolved for the address policy (tests stand in a DNS of their own). */
    private readonly resolve?: Resolver,
  ) {
    this.box = new SecretBox(keys);
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

  /**
   * Dead (and failed) deliveries of the endpoint go back to the queue, attempts reset; with
   * `includeDelivered`, the delivered ones of the window too (same `webhook-id` as before, so a
   * receiver that deduplicates answers 2xx without acting again).
   */
  async replay(client: PartnerClient, id: string, options: ReplayOptions = {}): Promise<{ id: string; replayed: number }> {
    await this.owned(client, id);
    const statuses: DeliveryStatus[] = options.includeDelivered ? ["DEAD", "FAILED", "DELIVERED"] : ["DEAD", "FAILED"];
    const window = options.since || options.until ? { createdAt: { ...(options.since ? { gte: options.since } : {}), ...(options.until ? { lt: options.until } : {}) } } : {};
    const { count } = await this.prisma.webhookDelivery.updateMany({
      // A row leased right now is being sent: left alone, or it could go out twice at once.
      where: { endpointId: id, status: { in: statuses }, OR: [{ leasedUntil: null }, { leasedUntil: { lt: new Date() } }], ...window },
      data: { status: "PENDING", attempts: 0, nextAttemptAt: new Date(), leasedUntil: null, lastError: null, deliveredAt: null },
    });
    return { id, replayed: count };
  }

  /** The endpoint's deliveries, newest event first, a page at a time, optionally of one status. */
  async deliveries(
    client: PartnerClient,
    id: string,
    page: { status?: (typeof DELIVERY_STATUSES)[number] | undefined; limit: number; cursor: string | undefined },
  ): Promise<{ items: DeliveryView[]; nextCursor: string | null }> {
    await this.owned(client, id);
    const before = page.cursor === undefined ? undefined : decodeDeliveryCursor(page.cursor);
    const rows = await this.prisma.webhookDelivery.findMany({
      where: {
        endpointId: id,
        ...(page.status ? { status: page.status.toUpperCase() as DeliveryStatus } : {}),
        ...(before !== undefined ? { eventId: { lt: before } } : {}),
      },
      orderBy: { eventId: "desc" },
      take: page.limit + 1,
    });
    const items = rows.slice(0, page.limit);
    const last = items.at(-1);
    return { items: items.map(deliveryView), nextCursor: rows.length > page.limit && last ? encodeDeliveryCursor(last.eventId) : null };
  }

  private async owned(client: PartnerClient, id: string): Promise<void> {
    requireScope(client);
    const row = await this.prisma.webhookEndpoint.findFirst({ where: { id, clientId: client.id }, select: { id: true } });
    if (!row) throw new RestError("NOT_FOUND", `No webhook endpoint ${id}`);
  }
}

function requireScope(client: PartnerClient): void {
  if (!client.clientScopes.includes(MANAGE_SCOPE)) throw new RestError("FORBIDDEN", `Managing webhooks needs the client scope ${MANAGE_SCOPE}`);
}

function deliveryView(row: {
  id: string;
  eventId: bigint;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: Date;
  createdAt: Date;
  deliveredAt: Date | null;
}): DeliveryView {
  const waiting = row.status === "PENDING" || row.status === "FAILED";
  return {
    id: row.id,
    message_id: messageId(row.eventId),
    // The only event endpoints subscribe to today (WEBHOOK_EVENTS); deliveries are made for no other.
    event: "alert.created",
    status: row.status.toLowerCase() as DeliveryView["status"],
    attempts: row.attempts,
    last_status_code: row.lastStatusCode,
    last_error: row.lastError,
    next_attempt_at: waiting ? row.nextAttemptAt.toISOString() : null,
    created_at: row.createdAt.toISOString(),
    delivered_at: row.deliveredAt?.toISOString() ?? null,
  };
}

function encodeDeliveryCursor(eventId: bigint): string {
  return Buffer.from(`d:${eventId}`, "utf8").toString("base64url");
}

function decodeDeliveryCursor(cursor: string): bigint {
  const match = /^d:(\d{1,19})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!match?.[1]) throw new RestError("BAD_USER_INPUT", "`cursor` is not a cursor this endpoint returned");
  return BigInt(match[1]);
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
