import type { AuditEvent } from "../../generated/prisma/client.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import { AuthError } from "./auth-error.ts";

export const DEFAULT_AUDIT_PAGE = 50;
export const MAX_AUDIT_PAGE = 200;

export interface AuditQuery {
  clientId: string;
  consentId: string | undefined;
  /** Inclusive. */
  from: Date | undefined;
  /** Exclusive. */
  to: Date | undefined;
  limit: number;
  cursor: string | undefined;
}

export interface AuditPage {
  events: AuditEvent[];
  /** Opaque; null on the last page. */
  nextCursor: string | null;
}

/**
 * A partner client's own audit events (its receipts and anything else recorded about its
 * calls), newest first, by consent and time. Served by the (client_id, at) index; the
 * consent's (consent_id, at) index when one is named.
 */
export class AuditLog {
  constructor(private readonly prisma: PrismaClient) {}

  async list(query: AuditQuery): Promise<AuditPage> {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const at = { ...(query.from ? { gte: query.from } : {}), ...(query.to ? { lt: query.to } : {}) };
    const rows = await this.prisma.auditEvent.findMany({
      where: {
        clientId: query.clientId,
        ...(query.consentId !== undefined ? { consentId: query.consentId } : {}),
        ...(query.from || query.to ? { at } : {}),
        ...(after ? { OR: [{ at: { lt: after.at } }, { at: after.at, id: { lt: after.id } }] } : {}),
      },
      orderBy: [{ at: "desc" }, { id: "desc" }],
      take: query.limit + 1,
    });
    const events = rows.slice(0, query.limit);
    const last = events.at(-1);
    return { events, nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null };
  }
}

function encodeCursor(row: AuditEvent): string {
  return Buffer.from(JSON.stringify([row.at.toISOString(), row.id.toString()]), "utf8").toString("base64url");
}

function decodeCursor(cursor: string): { at: Date; id: bigint } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === "string" && typeof value[1] === "string" && /^\d{1,18}$/.test(value[1])) {
      const at = new Date(value[0]);
      if (!Number.isNaN(at.getTime())) return { at, id: BigInt(value[1]) };
    }
  } catch {
    // fall through to the one error below
  }
  throw new AuthError("BAD_USER_INPUT", "`cursor` is not a cursor this endpoint returned");
}
