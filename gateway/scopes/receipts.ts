import type { ReceiptReport } from "../../platform/auth/field-access.ts";
import { StatementBatcher } from "../../platform/database/statement-batcher.ts";
import type { Viewer } from "../../platform/auth/viewer.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import { queryRows } from "../../platform/database/prepared-reads.ts";
import { Prisma } from "../../generated/prisma/client.ts";
import { RECEIPT_ACTION } from "../../platform/audit/audit-chain.ts";
import { isJsonObject } from "../../platform/json-object.ts";

/**
 * Gathers, over one gateway request, what each subgraph reported it returned (the
 * `kaminaReceipts` or `kaminaReceiptLists` response extension, field-access.ts), merged per
 * consent: one receipt per consent per request.
 *
 * A consent keeps the lists it was reported under, not their fields one by one: a page's people
 * are mostly read under the same few lists, so their merged fields are worked out once per
 * combination of lists and shared by every consent read under it.
 */
export class ReceiptCollector {
  private readonly byConsent = new Map<string, (readonly string[])[]>();
  /** Each list taken, its place: a combination of lists is named by their places. */
  private readonly places = new Map<readonly string[], number>();
  private listed: ConsentReceipt[] | undefined;

  /** Takes a subgraph's `kaminaReceipts` (ReceiptReport); anything not shaped like one is ignored. */
  add(reported: unknown): void {
    if (!isJsonObject(reported)) return;
    for (const [consentId, fields] of Object.entries(reported)) {
      if (Array.isArray(fields)) this.take(consentId, stringsOf(fields));
    }
  }

  /** Takes a subgraph's `kaminaReceiptLists` (ReceiptLists); a consent that names no list is ignored. */
  addLists(reported: unknown): void {
    if (!isJsonObject(reported) || !Array.isArray(reported.fields) || !isJsonObject(reported.consents)) return;
    const lists = reported.fields.map((fields: unknown) => (Array.isArray(fields) ? stringsOf(fields) : undefined));
    for (const [consentId, place] of Object.entries(reported.consents)) {
      const fields = typeof place === "number" ? lists[place] : undefined;
      if (fields) this.take(consentId, fields);
    }
  }

  /** Takes everything `other` collected (its lists as they are: they are checked already). */
  addAll(other: ReceiptCollector): void {
    for (const [consentId, lists] of other.byConsent) for (const fields of lists) this.take(consentId, fields);
  }

  /** What was collected, in the form `add` takes. */
  report(): ReceiptReport {
    return Object.fromEntries(this.entries().map(({ consentId, fields }) => [consentId, [...fields]]));
  }

  get isEmpty(): boolean {
    return this.byConsent.size === 0;
  }

  /**
   * Per consent, the field coordinates returned under it, sorted. The same list until something
   * is added: the requests that shared one execution hand the writer the same list; consents read
   * under the same lists share one array of fields.
   */
  entries(): readonly ConsentReceipt[] {
    if (this.listed) return this.listed;
    const merged = new Map<string, string[]>();
    this.listed = [...this.byConsent].map(([consentId, lists]) => {
      const key = lists.map((list) => this.places.get(list)).join(",");
      let fields = merged.get(key);
      if (fields === undefined) merged.set(key, (fields = [...new Set(lists.flat())].sort()));
      return { consentId, fields };
    });
    return this.listed;
  }

  private take(consentId: string, fields: readonly string[]): void {
    this.listed = undefined;
    if (!this.places.has(fields)) this.places.set(fields, this.places.size);
    const lists = this.byConsent.get(consentId);
    if (lists) lists.push(fields);
    else this.byConsent.set(consentId, [fields]);
  }
}

/** The list itself when it holds only strings (as a subgraph sends it), else its strings. */
function stringsOf(items: unknown[]): readonly string[] {
  return items.every((item) => typeof item === "string") ? (items as string[]) : items.filter((item): item is string => typeof item === "string");
}

export interface ConsentReceipt {
  consentId: string;
  fields: string[];
}

/** One request's receipts, as the writer batches them. */
interface RequestReceipts {
  requestId: string;
  clientId: string;
  /** JSON of how it was read: the token kind and the operation name. */
  detail: string;
  receipts: readonly ConsentReceipt[];
  /** The product the request is billed as (platform/metering/), when it is billed. */
  product: string | undefined;
}

/** One audit row: the receipts of one client for one consent with the same fields and detail, one per request. */
interface ReceiptGroup {
  clientId: string;
  consentId: string;
  fields: string[];
  detail: string;
  requestIds: string[];
}

/**
 * Writes the consent receipts before the response is released, so a response that carries
 * personal data never goes out without its receipt. The person, the country and the scopes come
 * from the consent row itself, joined on the consent id and the caller's client; a report naming
 * any other consent fails the write, and with it the response. The receipts of concurrent
 * requests share one statement (StatementBatcher); a request's receipts are never split across two.
 *
 * One `consent.receipt` audit event per consent per request, except that the receipts of one
 * statement that differ only by their request (the same client, consent, fields and detail:
 * identical reads of a person at the same moment, such as dashboards polling one page) are one
 * event naming every request (`request_ids`, the first being `request_id`). Twenty identical
 * 20-person pages in flight were 400 chained rows, half of each request's time; they are 20.
 *
 * The rows travel as parallel arrays (Prisma's createMany spends about ten times the CPU), which
 * `unnest` counts for the planner, so each consent is found by key; a JSON recordset is estimated
 * at 100 rows, which the planner answered with a hash join over the whole consent table. The
 * statement is a prepared one sent through `pg` (prepared-reads.ts): its text never changes, so
 * PostgreSQL plans it once per connection.
 *
 * A billed request (pay-per-call metering) is counted by the same statement, once per request
 * whose receipts were written, so usage never disagrees with the receipts.
 */
export class ReceiptWriter {
  private readonly batcher: StatementBatcher<RequestReceipts, void>;

  constructor(private readonly prisma: PrismaClient) {
    this.batcher = new StatementBatcher((requests) => this.insert(requests), 100);
  }

  /** `product`: what the request is billed as; none when it is not billed (a subscription's events, an operation already counted). */
  async write(request: { requestId: string; viewer: Viewer; operationName: string | null; product?: string | undefined }, receipts: readonly ConsentReceipt[]): Promise<void> {
    if (receipts.length === 0) return;
    const detail = JSON.stringify({ tokenUse: request.viewer.kind, operationName: request.operationName });
    await this.batcher.add({ requestId: request.requestId, clientId: request.viewer.clientId, detail, receipts, product: request.product });
  }

  private async insert(requests: readonly RequestReceipts[]): Promise<void[]> {
    const fieldLists = new FlatLists();
    const groups = groupByRead(requests, fieldLists);
    // Each distinct list of fields is sent once, its items in one flat array that each row slices
    // (a JSON document per list, expanded per row, was ~5 % of the statement); so are the request
    // ids of a group of several. Each distinct detail is sent once as JSON, named by its place
    // (from 1): a request's receipts share their detail, and a page's people most often their fields.
    const requestLists = new FlatLists();
    const fieldSpans = groups.map((group) => fieldLists.spanOf(group.fields));
    const requestSpans = groups.map((group) => (group.requestIds.length > 1 ? requestLists.spanOf(group.requestIds) : { from: 0, to: 0 }));
    const documents: string[] = [];
    const details = new Map<string, number>();
    const detailPlace = (detail: string): number => {
      let found = details.get(detail);
      if (found === undefined) details.set(detail, (found = documents.push(detail)));
      return found;
    };
    const billed = new Map<string, { clientId: string; product: string }>();
    for (const request of requests) if (request.product !== undefined) billed.set(request.requestId, { clientId: request.clientId, product: request.product });
    const column = <T>(pick: (group: ReceiptGroup) => T): T[] => groups.map(pick);
    const [result] = await queryRows<{ written: number }>(this.prisma, Prisma.sql`
      WITH written AS (
        INSERT INTO audit_event (action, request_id, request_ids, client_id, user_id, consent_id, country, scopes, fields, detail)
        SELECT ${RECEIPT_ACTION}, r.request_id, CASE WHEN r.requests_from > 0 THEN d.requests[r.requests_from:r.requests_to] END,
               c.client_id, c.user_id, c.id, c.country, c.scopes, d.items[r.fields_from:r.fields_to], d.documents[r.detail_at]
        FROM unnest(${column((group) => group.requestIds[0])}::text[], ${column((group) => group.clientId)}::text[], ${column((group) => group.consentId)}::text[],
                    ${fieldSpans.map((span) => span.from)}::int[], ${fieldSpans.map((span) => span.to)}::int[], ${column((group) => detailPlace(group.detail))}::int[],
                    ${requestSpans.map((span) => span.from)}::int[], ${requestSpans.map((span) => span.to)}::int[])
               AS r(request_id, client_id, consent_id, fields_from, fields_to, detail_at, requests_from, requests_to)
        CROSS JOIN (SELECT ${fieldLists.items}::text[] AS items, ${requestLists.items}::text[] AS requests, ${documents}::jsonb[] AS documents) AS d
        JOIN consent c ON c.id = r.consent_id AND c.client_id = r.client_id
        RETURNING request_id, request_ids
      ), billed AS (
        INSERT INTO usage_counter (client_id, product, day, count)
        SELECT b.client_id, b.product, (now() AT TIME ZONE 'UTC')::date, count(*)
        FROM unnest(${[...billed.keys()]}::text[], ${[...billed.values()].map((bill) => bill.clientId)}::text[], ${[...billed.values()].map((bill) => bill.product)}::text[])
             AS b(request_id, client_id, product)
        WHERE EXISTS (SELECT 1 FROM written w WHERE w.request_id = b.request_id OR b.request_id = ANY (w.request_ids))
        GROUP BY b.client_id, b.product
        ON CONFLICT (client_id, product, day) DO UPDATE SET count = usage_counter.count + EXCLUDED.count
      )
      SELECT count(*)::int AS written FROM written`);
    const written = result?.written ?? 0;
    if (written !== groups.length) throw new Error(`${groups.length - written} of ${groups.length} consent receipts name no consent of their client`);
    return requests.map(() => undefined);
  }
}

/**
 * The receipts that differ only by their request, together, in the order they came. Requests
 * that shared an execution hand in the same list (ReceiptCollector.entries), so they are put
 * together by the list first, and each receipt's key is then made once per list, not per request;
 * the groups of one list share its request ids until another list's join one of them. A
 * receipt's fields are known by their span in `fieldLists`, the statement's own.
 */
function groupByRead(requests: readonly RequestReceipts[], fieldLists: FlatLists): ReceiptGroup[] {
  const byList = new Map<readonly ConsentReceipt[], Map<string, { clientId: string; detail: string; requestIds: string[] }>>();
  for (const request of requests) {
    let callers = byList.get(request.receipts);
    if (callers === undefined) byList.set(request.receipts, (callers = new Map()));
    const caller = JSON.stringify([request.clientId, request.detail]);
    const known = callers.get(caller);
    if (known === undefined) callers.set(caller, { clientId: request.clientId, detail: request.detail, requestIds: [request.requestId] });
    // A REST call that runs two operations writes twice under one request id: named once.
    else if (!known.requestIds.includes(request.requestId)) known.requestIds.push(request.requestId);
  }
  const groups: (ReceiptGroup & { shared: boolean })[] = [];
  const byCaller = new Map<string, Map<string, ReceiptGroup & { shared: boolean }>>();
  for (const [receipts, callers] of byList) {
    for (const [caller, { clientId, detail, requestIds }] of callers) {
      let reads = byCaller.get(caller);
      if (reads === undefined) byCaller.set(caller, (reads = new Map()));
      for (const receipt of receipts) {
        // Equal lists have one span (an array seen before is known at once, ReceiptCollector.entries shares them).
        const span = fieldLists.spanOf(receipt.fields);
        const key = `${receipt.consentId}\n${span.from}:${span.to}`;
        const group = reads.get(key);
        if (group === undefined) {
          const created = { clientId, consentId: receipt.consentId, fields: receipt.fields, detail, requestIds, shared: true };
          reads.set(key, created);
          groups.push(created);
          continue;
        }
        if (group.shared) {
          group.requestIds = [...group.requestIds];
          group.shared = false;
        }
        for (const requestId of requestIds) if (!group.requestIds.includes(requestId)) group.requestIds.push(requestId);
      }
    }
  }
  return groups;
}

/**
 * Lists sent as one flat text[] that each row slices (`items[from:to]`, from 1); a list already
 * sent is not sent again (the same array is known at once, an equal one by its content).
 */
class FlatLists {
  readonly items: string[] = [];
  private readonly spans = new Map<string, { from: number; to: number }>();
  private readonly known = new Map<readonly string[], { from: number; to: number }>();

  spanOf(list: readonly string[]): { from: number; to: number } {
    const seen = this.known.get(list);
    if (seen !== undefined) return seen;
    const key = JSON.stringify(list);
    let span = this.spans.get(key);
    if (span === undefined) {
      span = { from: this.items.length + 1, to: this.items.length + list.length };
      this.items.push(...list);
      this.spans.set(key, span);
    }
    this.known.set(list, span);
    return span;
  }
}
