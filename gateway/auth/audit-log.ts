import type { AuditEvent, Prisma } from "../../generated/prisma/client.ts";
import { encodeCursor, readCursor } from "../../platform/cursor.ts";
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

  list(query: AuditQuery): Promise<AuditPage> {
    const at = { ...(query.from ? { gte: query.from } : {}), ...(query.to ? { lt: query.to } : {}) };
    return auditPage(this.prisma, {
      clientId: query.clientId,
      ...(query.consentId !== undefined ? { consentId: query.consentId } : {}),
      ...(query.from || query.to ? { at } : {}),
    }, query);
  }
}

/** Every request an audit event records: its `request_ids` when it records several, else its `request_id` alone. */
export function requestsOf(event: Pick<AuditEvent, "requestId" | "requestIds">): string[] {
  if (event.requestIds !== null && event.requestIds.length > 0) return event.requestIds;
  return event.requestId === null ? [] : [event.requestId];
}

/** A page of audit events matching `where`, newest first (at, then id), after a cursor this returned. */
export async function auditPage(prisma: PrismaClient, where: Prisma.AuditEventWhereInput, page: { limit: number; cursor: string | undefined }): Promise<AuditPage> {
  const after = page.cursor === undefined ? undefined : readCursor(page.cursor, ["timestamp", "int8"] as const);
  if (page.cursor !== undefined && !after) throw new AuthError("BAD_USER_INPUT", "`cursor` is not a cursor this endpoint returned");
  const rows = await prisma.auditEvent.findMany({
    where: { ...where, ...(after ? { OR: [{ at: { lt: after[0] } }, { at: after[0], id: { lt: after[1] } }] } : {}) },
    orderBy: [{ at: "desc" }, { id: "desc" }],
    take: page.limit + 1,
  });
  const events = rows.slice(0, page.limit);
  const last = events.at(-1);
  return { events, nextCursor: rows.length > page.limit && last ? encodeCursor([last.at.toISOString(), last.id.toString()]) : null };
}
