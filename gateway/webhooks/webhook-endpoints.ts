import { randomUUID } from "node:crypto";
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { PartnerClient } from "../../generated/prisma/client.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
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
  ) {
    this.box = new SecretBox(keyEncryptionKey);
  }

  async create(client: PartnerClient, url: string, events: readonly string[]): Promise<EndpointView & { secret: string }> {
    requireScope(client);
    await checkUrl(url, client.sandbox);
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
 * No request forgery into private networks: outside the sandbox an endpoint is `https` and every
 * address its host resolves to is public. Sandbox clients may also use loopback `http`, for
 * local receivers.
 */
export async function checkUrl(raw: string, sandbox: boolean): Promise<void> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new RestError("BAD_USER_INPUT", "`url` is not an absolute URL");
  }
  if (url.username || url.password) throw new RestError("BAD_USER_INPUT", "`url` must not carry credentials");
  const host = url.hostname.replace(/^\[|\]$/g, "");
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((entry) => entry.address);
  } catch {
    throw new RestError("BAD_USER_INPUT", `\`url\`'s host ${host} does not resolve`);
  }
  const loopback = addresses.length > 0 && addresses.every(isLoopback);
  if (sandbox && loopback && (url.protocol === "http:" || url.protocol === "https:")) return;
  if (url.protocol !== "https:") throw new RestError("BAD_USER_INPUT", "`url` must be https");
  if (addresses.some((address) => !isPublic(address))) throw new RestError("BAD_USER_INPUT", "`url` must resolve to public addresses only");
}

function isLoopback(address: string): boolean {
  return address === "::1" || address.startsWith("127.") || address === "::ffff:127.0.0.1";
}

function isPublic(address: string): boolean {
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  if (isIP(v4) === 4) {
    const [a = 0, b = 0] = v4.split(".").map(Number);
    if (a === 0 || a === 10 || a === 127 || a >= 224) return false;
    if (a === 100 && b >= 64 && b <= 127) return false;
    if (a === 169 && b === 254) return false;
    if (a === 172 && b >= 16 && b <= 31) return false;
    if (a === 192 && b === 168) return false;
    if (a === 198 && (b === 18 || b === 19)) return false;
    return true;
  }
  const lower = address.toLowerCase();
  return !(lower === "::" || lower === "::1" || lower.startsWith("fc") || lower.startsWith("fd") || lower.startsWith("fe80") || lower.startsWith("ff"));
}
