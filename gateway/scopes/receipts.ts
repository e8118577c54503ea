import type { ReceiptReport } from "../../platform/auth/field-access.ts";
import { StatementBatcher } from "../../platform/database/statement-batcher.ts";
import type { Viewer } from "../../platform/auth/viewer.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import { queryRows } from "../../platform/database/prepared-reads.ts";
import { Prisma } from "../../generated/prisma/client.ts";
import { RECEIPT_ACTION } from "../auth/consent-receipts.ts";

/**
 * Gathers, over one gateway request, what each subgraph reported it returned (the
 * `kaminaReceipts` response extension), merged per consent: one receipt per consent per request.
 */
export class ReceiptCollector {
  private readonly byConsent = new Map<string, Set<string>>();

  /** Takes a subgraph's report; anything not shaped like one is ignored. */
  add(reported: unknown): void {
    if (reported === null || typeof reported !== "object" || Array.isArray(reported)) return;
    for (const [consentId, fields] of Object.entries(reported as ReceiptReport)) {
      if (!Array.isArray(fields)) continue;
      let known = this.byConsent.get(consentId);
      if (!known) this.byConsent.set(consentId, (known = new Set()));
      for (const field of fields) if (typeof field === "string") known.add(field);
    }
  }

  /** What was collected, in the form `add` takes. */
  report(): ReceiptReport {
    return Object.fromEntries([...this.byConsent].map(([consentId, fields]) => [consentId, [...fields]]));
  }

  get isEmpty(): boolean {
    return this.byConsent.size === 0;
  }

  /** Per consent, the field coordinates returned under it, sorted. */
  entries(): { consentId: string; fields: string[] }[] {
    return [...this.byConsent].map(([consentId, fields]) => ({ consentId, fields: [...fields].sort() }));
  }
}

interface ReceiptRow {
  request_id: string;
  client_id: string;
  consent_id: string;
  fields: string[];
  detail: Record<string, unknown>;
  /** The product the request is billed as (platform/metering/), when it is billed. */
  product: string | undefined;
}

/**
 * Writes the consent receipts: one `consent.receipt` audit event per consent per request,
 * written before the response is released, so a response that carries personal data never
 * goes out without its receipt. The person, the country and the scopes come from the consent
 * row itself, joined on the consent id and the caller's client; a report naming any other
 * consent fails the write, and with it the response. The receipts of concurrent requests share
 * one statement (StatementBatcher); a request's receipts are never split across two. The rows
 * travel as parallel arrays (Prisma's createMany spends about ten times the CPU), which `unnest`
 * counts for the planner, so each consent is found by key; a JSON recordset is estimated at 100
 * rows, which the planner answered with a hash join over the whole consent table. The statement
 * is a prepared one sent through `pg` (prepared-reads.ts): its text never changes, so PostgreSQL
 * plans it once per connection, and Prisma's raw-query pipeline was the gateway's only Prisma
 * work per request (about a twentieth of its CPU under bench:gateway's distinct-pages load).
 *
 * A billed request (pay-per-call metering) is counted by the same statement, once per request
 * whose receipts were written, so usage never disagrees with the receipts.
 */
export class ReceiptWriter {
  private readonly batcher: StatementBatcher<ReceiptRow, void>;

  constructor(private readonly prisma: PrismaClient) {
    this.batcher = new StatementBatcher((rows) => this.insert(rows), 2000);
  }

  /** `product`: what the request is billed as; none when it is not billed (a subscription's events, an operation already counted). */
  async write(request: { requestId: string; viewer: Viewer; operationName: string | null; product?: string | undefined }, receipts: readonly { consentId: string; fields: string[] }[]): Promise<void> {
    const detail = { tokenUse: request.viewer.kind, operationName: request.operationName };
    await Promise.all(
      receipts.map((receipt) =>
        this.batcher.add({ request_id: request.requestId, client_id: request.viewer.clientId, consent_id: receipt.consentId, fields: receipt.fields, detail, product: request.product }),
      ),
    );
  }

  private async insert(rows: readonly ReceiptRow[]): Promise<void[]> {
    const column = <T>(pick: (row: ReceiptRow) => T): T[] => rows.map(pick);
    // Each distinct list of fields is sent once, its items in one flat array that each row slices
    // (a JSON document per list, expanded per row, was ~5 % of the statement), and each distinct
    // detail once as JSON, named by its place (from 1): a request's receipts share their detail,
    // and a page's people most often their fields.
    const items: string[] = [];
    const spans = new Map<string, { from: number; to: number }>();
    const spanOf = (fields: string[]): { from: number; to: number } => {
      const key = JSON.stringify(fields);
      let span = spans.get(key);
      if (span === undefined) {
        span = { from: items.length + 1, to: items.length + fields.length };
        items.push(...fields);
        spans.set(key, span);
      }
      return span;
    };
    const fieldSpans = rows.map((row) => spanOf(row.fields));
    const documents: string[] = [];
    const details = new Map<object, number>();
    const detailPlace = (detail: object): number => {
      let found = details.get(detail);
      if (found === undefined) details.set(detail, (found = documents.push(JSON.stringify(detail))));
      return found;
    };
    const billed = new Map<string, { clientId: string; product: string }>();
    for (const row of rows) if (row.product !== undefined) billed.set(row.request_id, { clientId: row.client_id, product: row.product });
    const [result] = await queryRows<{ written: number }>(this.prisma, Prisma.sql`
      WITH written AS (
        INSERT INTO audit_event (action, request_id, client_id, user_id, consent_id, country, scopes, fields, detail)
        SELECT ${RECEIPT_ACTION}, r.request_id, c.client_id, c.user_id, c.id, c.country, c.scopes,
               d.items[r.fields_from:r.fields_to], d.documents[r.detail_at]
        FROM unnest(${column((row) => row.request_id)}::text[], ${column((row) => row.client_id)}::text[], ${column((row) => row.consent_id)}::text[],
                    ${fieldSpans.map((span) => span.from)}::int[], ${fieldSpans.map((span) => span.to)}::int[], ${column((row) => detailPlace(row.detail))}::int[])
               AS r(request_id, client_id, consent_id, fields_from, fields_to, detail_at)
        CROSS JOIN (SELECT ${items}::text[] AS items, ${documents}::jsonb[] AS documents) AS d
        JOIN consent c ON c.id = r.consent_id AND c.client_id = r.client_id
        RETURNING request_id
      ), billed AS (
        INSERT INTO usage_counter (client_id, product, day, count)
        SELECT b.client_id, b.product, (now() AT TIME ZONE 'UTC')::date, count(*)
        FROM unnest(${[...billed.keys()]}::text[], ${[...billed.values()].map((bill) => bill.clientId)}::text[], ${[...billed.values()].map((bill) => bill.product)}::text[])
             AS b(request_id, client_id, product)
        WHERE EXISTS (SELECT 1 FROM written w WHERE w.request_id = b.request_id)
        GROUP BY b.client_id, b.product
        ON CONFLICT (client_id, product, day) DO UPDATE SET count = usage_counter.count + EXCLUDED.count
      )
      SELECT count(*)::int AS written FROM written`);
    const written = result?.written ?? 0;
    if (written !== rows.length) throw new Error(`${rows.length - written} of ${rows.length} consent receipts name no consent of their client`);
    return rows.map(() => undefined);
  }
}
