import type { Viewer } from "../../subgraphs/shared/auth/viewer.ts";
import type { ReceiptEntry } from "../../subgraphs/shared/auth/field-access.ts";
import type { PrismaClient } from "../../subgraphs/shared/database.ts";
import { StatementBatcher } from "../../subgraphs/shared/auth/statement-batcher.ts";
import { RECEIPT_ACTION } from "../auth/consent-receipts.ts";

/**
 * Gathers, over one gateway request, what each subgraph reported it returned (the
 * `kaminaReceipts` response extension), merged per consent: one receipt per consent per request.
 */
export class ReceiptCollector {
  private readonly byConsent = new Map<string, { entry: ReceiptEntry; fields: Set<string> }>();

  /** Takes a subgraph's report; anything not shaped like one is ignored. */
  add(reported: unknown): void {
    if (!Array.isArray(reported)) return;
    for (const entry of reported) {
      if (!isReceiptEntry(entry)) continue;
      const known = this.byConsent.get(entry.consentId);
      if (known) for (const field of entry.fields) known.fields.add(field);
      else this.byConsent.set(entry.consentId, { entry, fields: new Set(entry.fields) });
    }
  }

  get isEmpty(): boolean {
    return this.byConsent.size === 0;
  }

  entries(): ReceiptEntry[] {
    return [...this.byConsent.values()].map(({ entry, fields }) => ({ ...entry, fields: [...fields].sort() }));
  }
}

interface ReceiptRow {
  request_id: string;
  client_id: string;
  user_id: string;
  consent_id: string;
  country: string;
  scopes: string[];
  fields: string[];
  detail: Record<string, unknown>;
}

/**
 * Writes the consent receipts: one `consent.receipt` audit event per consent per request,
 * written before the response is released, so a response that carries personal data never
 * goes out without its receipt. The receipts of concurrent requests share one statement
 * (StatementBatcher): a request's receipts are never in more than one. The rows travel as one
 * JSON parameter: Prisma's createMany spends about ten times the CPU building a 20-row insert.
 */
export class ReceiptWriter {
  private readonly batcher: StatementBatcher<ReceiptRow, void>;

  constructor(private readonly prisma: PrismaClient) {
    this.batcher = new StatementBatcher((rows) => this.insert(rows), 2000);
  }

  async write(request: { requestId: string; viewer: Viewer; operationName: string | null }, receipts: readonly ReceiptEntry[]): Promise<void> {
    const detail = { tokenUse: request.viewer.kind, operationName: request.operationName };
    await Promise.all(
      receipts.map((receipt) =>
        this.batcher.add({
          request_id: request.requestId,
          client_id: request.viewer.clientId,
          user_id: receipt.userId,
          consent_id: receipt.consentId,
          country: receipt.country,
          scopes: receipt.scopes,
          fields: receipt.fields,
          detail,
        }),
      ),
    );
  }

  private async insert(rows: readonly ReceiptRow[]): Promise<void[]> {
    await this.prisma.$executeRaw`
      INSERT INTO audit_event (action, request_id, client_id, user_id, consent_id, country, scopes, fields, detail)
      SELECT ${RECEIPT_ACTION}, r.request_id, r.client_id, r.user_id, r.consent_id, r.country::"Country",
             ARRAY(SELECT jsonb_array_elements_text(r.scopes)), ARRAY(SELECT jsonb_array_elements_text(r.fields)), r.detail
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        AS r(request_id text, client_id text, user_id text, consent_id text, country text, scopes jsonb, fields jsonb, detail jsonb)`;
    return rows.map(() => undefined);
  }
}

function isReceiptEntry(value: unknown): value is ReceiptEntry {
  if (value === null || typeof value !== "object") return false;
  const entry = value as Record<string, unknown>;
  const strings = (list: unknown) => Array.isArray(list) && list.every((item) => typeof item === "string");
  return (
    typeof entry.consentId === "string" &&
    typeof entry.userId === "string" &&
    typeof entry.country === "string" &&
    strings(entry.scopes) &&
    strings(entry.fields)
  );
}
