import type DataLoader from "dataloader";
import { grants, type AccessRule } from "./access-rules.ts";
import type { ConsentGrant, ConsentGrants } from "./consent-grants.ts";
import type { Viewer } from "./viewer.ts";

/** The response extension a subgraph lists what it returned under; the gateway takes it out. */
export const RECEIPTS_EXTENSION = "kaminaReceipts";

/**
 * The same report as field lists each sent once (ReceiptLists), under its own extension, for a
 * gateway that asks for it with this request header (value `lists`). A gateway that does not ask
 * gets `kaminaReceipts`, so gateways and subgraphs of different releases keep every receipt.
 */
export const RECEIPT_LISTS_HEADER = "kamina-receipts";
export const RECEIPT_LISTS_EXTENSION = "kaminaReceiptLists";

/**
 * What one subgraph returned in one request: per consent id, the field coordinates it returned
 * under that consent (`User.debts`, ...). The gateway reads the person, the country and the
 * scopes from the consent itself when it writes the receipt.
 */
export type ReceiptReport = Record<string, string[]>;

/**
 * A ReceiptReport with each distinct list of fields written once: `fields` holds the lists, and
 * `consents` each consent id's place in it. A page's people are mostly read under the same fields,
 * so twenty consents name one list instead of repeating it twenty times.
 */
export interface ReceiptLists {
  fields: string[][];
  consents: Record<string, number>;
}

/**
 * Per request: decides whether the viewer may read a field of one person's data, and keeps
 * the list of what was actually returned, per consent, for the consent receipt.
 *
 * - Consent token: only its own person, within the token's scopes.
 * - Partner token: the token's scopes, and then that person's own authorised consent for this
 *   client (the newest consent that covers the field), read once per request per person.
 */
export class FieldAccess {
  private readonly returned = new Map<string, Set<string>>();
  /** Each person's grants once read, for the rest of this request. */
  private readonly known = new Map<string, readonly ConsentGrant[]>();
  private consents: DataLoader<string, readonly ConsentGrant[]> | undefined;
  private kept: ((userId: string) => readonly ConsentGrant[] | undefined) | undefined;
  private readonly ownGrant: ConsentGrant | undefined;

  constructor(
    private readonly viewer: Viewer,
    private readonly grantStore: ConsentGrants,
    /** The gateway asked for ReceiptLists (RECEIPT_LISTS_HEADER). */
    private readonly asLists = false,
  ) {
    this.ownGrant =
      viewer.kind === "consent" ? { consentId: viewer.consentId, userId: viewer.userId, country: viewer.country, scopes: viewer.scopes } : undefined;
  }

  /**
   * The consent that covers reading `rule` of `subject`'s data, or null when none does.
   * Synchronous once the person's consents are known: a consent token always, a partner token
   * when this process keeps the person's grants under the client's current consent version
   * (ConsentGrants), else from the second field of each person on.
   */
  authorise(subject: unknown, rule: AccessRule): ConsentGrant | null | Promise<ConsentGrant | null> {
    if (typeof subject !== "string" || !grants(this.viewer.scopes, rule)) return null;
    if (this.viewer.kind === "consent") return subject === this.viewer.userId ? this.ownGrant! : null;
    let known = this.known.get(subject);
    if (known) return covering(known, rule);
    this.kept ??= this.grantStore.keptLookupFor(this.viewer);
    known = this.kept(subject);
    if (known) {
      this.known.set(subject, known);
      return covering(known, rule);
    }
    this.consents ??= this.grantStore.loaderFor(this.viewer);
    return this.consents.load(subject).then((list) => {
      this.known.set(subject, list);
      return covering(list, rule);
    });
  }

  /** Whether the token's own scopes cover `rule` (root fields: there is no person yet). */
  tokenCovers(rule: AccessRule): boolean {
    return grants(this.viewer.scopes, rule);
  }

  record(grant: ConsentGrant, coordinate: string): void {
    const fields = this.returned.get(grant.consentId);
    if (fields) fields.add(coordinate);
    else this.returned.set(grant.consentId, new Set([coordinate]));
  }

  /** What this request returned, per consent; null when it returned no personal data. */
  report(): ReceiptReport | null {
    if (this.returned.size === 0) return null;
    const report: ReceiptReport = {};
    for (const [consentId, fields] of this.sorted()) report[consentId] = fields;
    return report;
  }

  /** The same as ReceiptLists. */
  reportLists(): ReceiptLists | null {
    if (this.returned.size === 0) return null;
    const lists: ReceiptLists = { fields: [], consents: {} };
    const places = new Map<string, number>();
    let last: { fields: string[]; place: number } | undefined;
    for (const [consentId, fields] of this.sorted()) {
      // Most often the same list as the consent before: known without a key.
      if (last === undefined || !sameItems(last.fields, fields)) {
        // Field coordinates (`Type.field`) hold no line break.
        const key = fields.join("\n");
        let place = places.get(key);
        if (place === undefined) places.set(key, (place = lists.fields.push(fields) - 1));
        last = { fields, place };
      }
      lists.consents[consentId] = last.place;
    }
    return lists;
  }

  /** The response extension the gateway reads the receipts from, as it asked for them; undefined when nothing personal was returned. */
  receiptsExtension(): [name: string, value: ReceiptReport | ReceiptLists] | undefined {
    const report = this.asLists ? this.reportLists() : this.report();
    return report ? [this.asLists ? RECEIPT_LISTS_EXTENSION : RECEIPTS_EXTENSION, report] : undefined;
  }

  /** Sorted, consents and their fields: the same answer reads the same however its fields happened to resolve. */
  private sorted(): [consentId: string, fields: string[]][] {
    return [...this.returned.keys()].sort().map((consentId) => [consentId, [...this.returned.get(consentId)!].sort()]);
  }
}

function sameItems(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, index) => item === b[index]);
}

function covering(list: readonly ConsentGrant[], rule: AccessRule): ConsentGrant | null {
  for (const grant of list) if (grants(grant.scopes, rule)) return grant;
  return null;
}
