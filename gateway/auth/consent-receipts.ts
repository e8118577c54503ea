import type { AuditEvent } from "../../generated/prisma/client.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import { RECEIPT_ACTION } from "../../platform/audit/audit-chain.ts";
import { auditPage } from "./audit-log.ts";

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
    const { events, nextCursor } = await auditPage(this.prisma, { consentId, action: RECEIPT_ACTION }, page);
    return { receipts: events, nextCursor };
  }
}
