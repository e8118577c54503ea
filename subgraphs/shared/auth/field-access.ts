import type DataLoader from "dataloader";
import { grants, type AccessRule } from "./access-rules.ts";
import type { ConsentGrant, ConsentGrants } from "./consent-grants.ts";
import type { Viewer } from "./viewer.ts";

/** The response extension a subgraph lists what it returned under; the gateway takes it out. */
export const RECEIPTS_EXTENSION = "kaminaReceipts";

/** What one subgraph returned of one person's data under one consent, in one request. */
export interface ReceiptEntry {
  consentId: string;
  userId: string;
  country: string;
  /** The scopes the consent grants (for a consent token: the token's). */
  scopes: string[];
  /** Field coordinates returned, e.g. `User.debts`. */
  fields: string[];
}

/**
 * Per request: decides whether the viewer may read a field of one person's data, and keeps
 * the list of what was actually returned, per consent, for the consent receipt.
 *
 * - Consent token: only its own person, within the token's scopes.
 * - Partner token: the token's scopes, and then that person's own authorised consent for this
 *   client (the newest consent that covers the field), looked up in batches per request.
 */
export class FieldAccess {
  private readonly returned = new Map<string, { grant: ConsentGrant; fields: Set<string> }>();
  private consents: DataLoader<string, readonly ConsentGrant[]> | undefined;
  private readonly ownGrant: ConsentGrant | undefined;

  constructor(
    private readonly viewer: Viewer,
    private readonly grantStore: ConsentGrants,
  ) {
    this.ownGrant =
      viewer.kind === "consent" ? { consentId: viewer.consentId, userId: viewer.userId, country: viewer.country, scopes: viewer.scopes } : undefined;
  }

  /** The consent that covers reading `rule` of `subject`'s data, or null when none does. */
  authorise(subject: unknown, rule: AccessRule): ConsentGrant | null | Promise<ConsentGrant | null> {
    if (typeof subject !== "string" || !grants(this.viewer.scopes, rule)) return null;
    if (this.viewer.kind === "consent") return subject === this.viewer.userId ? this.ownGrant! : null;
    this.consents ??= this.grantStore.loaderFor(this.viewer);
    return this.consents.load(subject).then((list) => list.find((grant) => grants(grant.scopes, rule)) ?? null);
  }

  /** Whether the token's own scopes cover `rule` (root fields: there is no person yet). */
  tokenCovers(rule: AccessRule): boolean {
    return grants(this.viewer.scopes, rule);
  }

  record(grant: ConsentGrant, coordinate: string): void {
    const entry = this.returned.get(grant.consentId);
    if (entry) entry.fields.add(coordinate);
    else this.returned.set(grant.consentId, { grant, fields: new Set([coordinate]) });
  }

  receipts(): ReceiptEntry[] {
    return [...this.returned.values()].map(({ grant, fields }) => ({
      consentId: grant.consentId,
      userId: grant.userId,
      country: grant.country,
      scopes: [...grant.scopes].sort(),
      fields: [...fields].sort(),
    }));
  }
}
