import type { AuditEvent } from "../../generated/prisma/client.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import { AuthError } from "./auth-error.ts";

/** The audit action of a consent receipt: one per call that read personal data. */
export const RECEIPT_ACTION = "consent.receipt";
export const DEFAULT_RECEIPT_PAGE = 50;
export const MAX_RECEIPT_PAGE = 200;

export interface ReceiptPage {
  receipts: AuditEvent[];
  /** Opaque; null on the last page. */
  nextCursor: string | null;
}

/** Reads a consent's receipts, newest first, a page at a time. Ownership is checked by the caller. */
export class ConsentReceipts {
  constructor(private readonly prisma: PrismaClient) {}

  async list(consentId: string, page: { limit: number; cursor: string | undefined }): Promise<ReceiptPage> {
    const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
    const rows = await this.prisma.auditEvent.findMany({
      where: {
        consentId,
        action: RECEIPT_ACTION,
        ...(after ? { OR: [{ at: { lt: after.at } }, { at: after.at, id: { lt: after.id } }] } : {}),
      },
      orderBy: [{ at: "desc" }, { id: "desc" }],
      take: page.limit + 1,
    });
    const receipts = rows.slice(0, page.limit);
    const last = receipts.at(-1);
    return { receipts, nextCursor: rows.length > page.limit && last ? encodeCursor(last) : null };
  }
}

function encodeCursor(row: AuditEvent): string {
  return Buffer.from(JSON.stringify([row.at.toISOString(), row.id.toString()]), "utf8").toString("base64url");
}

function decodeCursor(cursor: string): { at: Date; id: bigint } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === "string" && typeof value[1] === "string" && /^\d{1,19}$/.test(value[1])) {
      const at = new Date(value[0]);
      if (!Number.isNaN(at.getTime())) return { at, id: BigInt(value[1]) };
    }
  } catch {
    // fall through to the one error below
  }
  throw new AuthError("BAD_USER_INPUT", "`cursor` is not a cursor this endpoint returned");
}
