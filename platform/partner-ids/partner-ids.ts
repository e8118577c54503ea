// A partner client's own ids for a person (issue 21, item 1): its customer id and, optionally,
// the person's credit-bureau id, linked by the person in the Kamina app. Each is sealed with the
// tenant's data key (encryption at rest) and found by value through a keyed lookup digest, which
// names the client and the kind: the same customer id at two clients digests differently, and a
// client's id finds a person for that client only. Nothing here is shown to any other client.
import { randomBytes } from "node:crypto";
import type { Prisma } from "../../generated/prisma/client.ts";
import type { Country, PartnerIdKind } from "../../generated/prisma/enums.ts";
import { PARTNER_PERSON_ID_VALUE } from "../encryption/encrypted-columns.ts";
import { lookupDigest, type FieldVault } from "../encryption/field-vault.ts";
import { createFieldVault, type KeyEncryptionKeys } from "../encryption/vault-factory.ts";
import type { PrismaClient } from "../../generated/prisma/client.ts";

/** A partner's id as we accept it: 1 to 64 letters, digits and `.` `_` `-` `:` `/`, starting with a letter or digit. */
export const PARTNER_ID = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
export const PARTNER_ID_RULE = "1 to 64 letters, digits, `.`, `_`, `-`, `:` or `/`, starting with a letter or digit";

/** What a client is shown beside our (pairwise) id for a person. */
export interface PartnerRef {
  customerId: string;
  bureauId: string | null;
  linkedAt: Date;
}

export interface PartnerIdLink {
  clientId: string;
  userId: string;
  country: Country;
  customerId: string;
  /** Absent: the person's bureau id is not linked (a bureau id linked before is removed). */
  bureauId?: string | null | undefined;
}

/** A link that cannot be made: the id already names another person for this client. */
export interface PartnerIdConflict {
  /** Which id; null when a concurrent link won the race and the database's unique index refused this one. */
  conflict: PartnerIdKind | null;
}

/** The rows' table through a Prisma client (bound to a tenant, or to all of them). */
export type PartnerIdsDb = Pick<Prisma.TransactionClient, "partnerPersonId"> & { $transaction<T>(work: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> };

const isUniqueViolation = (error: unknown): boolean => (error as { code?: unknown }).code === "P2002";

/** Thrown inside the link's transaction so that nothing of it stays. */
class TakenByAnother extends Error {
  constructor(readonly kind: PartnerIdKind) {
    super(`${kind} id taken by another person`);
  }
}

export class PartnerIds {
  /**
   * `digestKeys`: the key-encryption key, then any previous ones (KEY_ENCRYPTION_KEY_PREVIOUS), so
   * digests written before a KEK rotation still find their person until they are rewritten. Only
   * what looks ids up by value or links them needs them; reading a person's ids does not.
   */
  constructor(
    private readonly db: PartnerIdsDb,
    private readonly vault: FieldVault,
    private readonly digestKeys: readonly Uint8Array[] = [],
  ) {}

  /** The digests `value` may be stored under for this client and kind, the current KEK's first. */
  private digests(clientId: string, kind: PartnerIdKind, value: string): string[] {
    if (this.digestKeys.length === 0) throw new Error("PartnerIds needs the key-encryption key to look ids up by value");
    return this.digestKeys.map((key) => lookupDigest(key, `partner_person_id|${clientId}|${kind}`, value));
  }

  /**
   * Links the client's ids to the person, replacing what was linked before (PUT semantics). In
   * one transaction; the conflict when an id already names another person for this client
   * (unique per client, kind and value, enforced by the database, so two racing links for two
   * people cannot both win, while two racing identical links both succeed).
   */
  async link(link: PartnerIdLink): Promise<PartnerRef | PartnerIdConflict> {
    const wanted: [PartnerIdKind, string | null][] = [
      ["CUSTOMER", link.customerId],
      ["BUREAU", link.bureauId ?? null],
    ];
    const sealed = await Promise.all(
      wanted.map(async ([kind, value]) => {
        if (value === null) return { kind, value: null };
        const id = `ppi_${randomBytes(12).toString("hex")}`;
        const [digest, ...older] = this.digests(link.clientId, kind, value);
        return { kind, value, id, digest: digest!, older, envelope: await this.vault.encrypt(link.country, value, PARTNER_PERSON_ID_VALUE.context(id)) };
      }),
    );
    const linkedAt = new Date();
    const replace = () =>
      this.db.$transaction(async (tx) => {
        // Links of one client for one person take turns, so identical PUTs racing each other all succeed.
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`partner_person_id|${link.clientId}|${link.userId}`}))`;
        for (const row of sealed) {
          const key = { clientId: link.clientId, userId: link.userId, kind: row.kind };
          if (row.value === null) {
            await tx.partnerPersonId.deleteMany({ where: key });
            continue;
          }
          // The same id under a previous KEK's digest, for another person: a conflict all the same.
          const taken = await tx.partnerPersonId.findFirst({
            where: { clientId: link.clientId, kind: row.kind, digest: { in: [row.digest, ...row.older] }, NOT: { userId: link.userId } },
            select: { id: true },
          });
          if (taken) throw new TakenByAnother(row.kind);
          await tx.partnerPersonId.deleteMany({ where: key });
          await tx.partnerPersonId.create({
            data: { id: row.id, ...key, country: link.country, value: row.envelope.sealed, dataKeyId: row.envelope.dataKeyId, digest: row.digest, linkedAt },
          });
        }
        return { customerId: link.customerId, bureauId: link.bureauId ?? null, linkedAt };
      });
    // A unique index refusing the insert means a concurrent link of the same id for another
    // person committed first: the retry's check names it.
    for (let attempt = 1; ; attempt++) {
      try {
        return await replace();
      } catch (error) {
        if (error instanceof TakenByAnother) return { conflict: error.kind };
        if (!isUniqueViolation(error)) throw error;
        if (attempt === 3) return { conflict: null };
      }
    }
  }

  /** Removes the client's ids for the person; how many there were. */
  async unlink(clientId: string, userId: string): Promise<number> {
    const { count } = await this.db.partnerPersonId.deleteMany({ where: { clientId, userId } });
    return count;
  }

  /** The person the client's customer id names for that client; undefined when none. */
  async personFor(clientId: string, customerId: string): Promise<string | undefined> {
    if (!PARTNER_ID.test(customerId)) return undefined;
    const row = await this.db.partnerPersonId.findFirst({
      where: { clientId, kind: "CUSTOMER", digest: { in: this.digests(clientId, "CUSTOMER", customerId) } },
      select: { userId: true },
    });
    return row?.userId;
  }

  /** The client's ids for each of `userIds` that has them, opened; the others are absent. */
  async refsFor(clientId: string, userIds: readonly string[]): Promise<Map<string, PartnerRef>> {
    const rows = userIds.length === 0 ? [] : await this.db.partnerPersonId.findMany({ where: { clientId, userId: { in: [...userIds] } } });
    const refs = new Map<string, PartnerRef>();
    const opened = await Promise.all(rows.map(async (row) => ({ row, value: await this.vault.decrypt(row.country, row.value, PARTNER_PERSON_ID_VALUE.context(row.id)) })));
    for (const { row, value } of opened.filter(({ row }) => row.kind === "CUSTOMER")) refs.set(row.userId, { customerId: value, bureauId: null, linkedAt: row.linkedAt });
    for (const { row, value } of opened.filter(({ row }) => row.kind === "BUREAU")) {
      const ref = refs.get(row.userId);
      if (ref) ref.bureauId = value;
    }
    return refs;
  }

  /**
   * Rewrites every digest not made under the current key-encryption key (after a KEK rotation,
   * `npm run keys:rotate -- --reencrypt`), `batchSize` rows at a time, so lookups no longer need
   * KEY_ENCRYPTION_KEY_PREVIOUS. Returns how many rows changed.
   */
  async refreshDigests(batchSize: number): Promise<number> {
    let changed = 0;
    for (let after = ""; ; ) {
      const rows = await this.db.partnerPersonId.findMany({ where: { id: { gt: after } }, orderBy: { id: "asc" }, take: batchSize });
      for (const row of rows) {
        const value = await this.vault.decrypt(row.country, row.value, PARTNER_PERSON_ID_VALUE.context(row.id));
        const [current] = this.digests(row.clientId, row.kind, value);
        if (current === row.digest) continue;
        const { count } = await this.db.partnerPersonId.updateMany({ where: { id: row.id, digest: row.digest }, data: { digest: current! } });
        changed += count;
      }
      if (rows.length < batchSize) return changed;
      after = rows.at(-1)!.id;
    }
  }

  /** Every client's ids for the person, opened: the data-subject export (the person's own request). */
  async allOf(userId: string): Promise<{ client_id: string; kind: PartnerIdKind; value: string; linked_at: string }[]> {
    const rows = await this.db.partnerPersonId.findMany({ where: { userId }, orderBy: [{ clientId: "asc" }, { kind: "asc" }] });
    return Promise.all(
      rows.map(async (row) => ({
        client_id: row.clientId,
        kind: row.kind,
        value: await this.vault.decrypt(row.country, row.value, PARTNER_PERSON_ID_VALUE.context(row.id)),
        linked_at: row.linkedAt.toISOString(),
      })),
    );
  }
}

/** The partner ids over a process's Prisma client: sealed under the tenants' data keys, looked up under the current and previous KEKs. */
export function partnerIdsOver(prisma: PrismaClient, keys: KeyEncryptionKeys): PartnerIds {
  const previous = keys.previousKeyEncryptionKeys ?? [];
  return new PartnerIds(prisma, createFieldVault(prisma, keys), [keys.keyEncryptionKey, ...previous]);
}
