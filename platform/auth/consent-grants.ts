import DataLoader from "dataloader";
import { Prisma } from "../../generated/prisma/client.ts";
import type { Country } from "../../generated/prisma/enums.ts";
import type { PrismaClient } from "../database/database.ts";
import { StatementBatcher } from "../database/statement-batcher.ts";
import { consentIsActive } from "./consent-coverage.ts";
import type { AccessRule } from "./access-rules.ts";
import type { ScopeRequirement } from "./scopes.ts";
import { queryRows } from "../database/prepared-reads.ts";

/** One authorised, unexpired consent a person gave a client: what it lets that client read. */
export interface ConsentGrant {
  consentId: string;
  userId: string;
  country: Country;
  scopes: ReadonlySet<string>;
  /** When the consent lapses on its own; null for no end date. */
  expiresAt?: Date | null;
}

interface ConsentRow {
  id: string;
  userId: string;
  country: Country;
  scopes: string[];
  expiresAt: Date | null;
}

export interface PartnerClient {
  clientId: string;
  countries: readonly Country[];
  /**
   * The client's consent version (`partner_client.consent_version`) as this request read it
   * with the token: it moves in the same transaction as any change to the client's consents.
   */
  consentVersion?: string;
}

/** How many people's grants one process keeps per client at most (about 300 bytes each). */
const CACHED_PEOPLE_PER_CLIENT = 100_000;

/**
 * The consents that let `client` read a person, as a condition on `consent c`: authorised, not
 * expired, and in a country the client serves. Who a partner token can see and what it can read
 * of them both rest on it.
 */
export function activeConsentOf(client: PartnerClient): Prisma.Sql {
  return Prisma.sql`c.client_id = ${client.clientId}
    AND ${consentIsActive("c")}
    AND c.country::text = ANY(${[...client.countries]}::text[])`;
}

/**
 * The consent `c` grants what `rule` needs (every requirement; within one, any alternative whose
 * scopes it holds all of), as a condition on `consent c`: for filters over many people, where
 * each person's own consent has to cover what the filter reveals about them.
 */
export function consentCovers(rule: AccessRule): Prisma.Sql {
  if (rule.scopes.length === 0) return Prisma.sql`true`;
  const requirement = (alternatives: ScopeRequirement) =>
    Prisma.sql`(${Prisma.join(alternatives.map((all) => Prisma.sql`c.scopes @> ${[...all]}::text[]`), " OR ")})`;
  return Prisma.join(rule.scopes.map(requirement), " AND ");
}

/**
 * The consents behind partner (client-credentials) tokens, per person. A statement reads them
 * (concurrent requests of one client share it, see StatementBatcher; within a request a
 * DataLoader asks once per person), and the answers are kept for as long as the client's
 * consent version stays the one the request read with its token. Any consent change of the
 * client (authorised, revoked, rejected, scopes, expiry) moves that version in its own
 * transaction, so a request that starts after a revocation reads the new version, finds
 * nothing kept under it and reads the database: a revocation still takes effect on the very
 * next request, and a steady partner stops paying a statement per request per subgraph.
 * A kept consent that reaches its `expires_at` is dropped at use.
 */
export class ConsentGrants {
  private readonly batchers = new Map<string, StatementBatcher<string, readonly ConsentGrant[]>>();
  private readonly kept = new Map<string, { version: string; people: Map<string, readonly ConsentGrant[]> }>();

  constructor(private readonly prisma: PrismaClient) {}

  /**
   * For one request: each person's grants for `client` as this process keeps them (see
   * keptGrants), undefined for a person it does not keep. Synchronous: a steady partner's fields
   * are decided without a promise per person (loaderFor reads the rest).
   */
  keptLookupFor(client: PartnerClient): (userId: string) => readonly ConsentGrant[] | undefined {
    const key = clientKey(client);
    return (userId) => this.keptGrants(key, client, userId);
  }

  /** A loader for one request: each person's grants for `client`, newest consent first. */
  loaderFor(client: PartnerClient): DataLoader<string, readonly ConsentGrant[]> {
    const key = clientKey(client);
    const batcher = this.batcherFor(key, client);
    const version = client.consentVersion;
    const kept = version === undefined ? undefined : this.keptFor(key, version);
    return new DataLoader<string, readonly ConsentGrant[]>(
      (userIds) =>
        Promise.all(
          userIds.map(async (userId) => {
            const known = this.keptGrants(key, client, userId);
            if (known) return known;
            const grants = await batcher.add(userId);
            // Only under the version this request read, and only while it is still the current one.
            if (kept && this.kept.get(key)?.people === kept && kept.size < CACHED_PEOPLE_PER_CLIENT) kept.set(userId, grants);
            return grants;
          }),
        ),
      { maxBatchSize: 1000 },
    );
  }

  /** `userId`'s grants when this process keeps them under the version `client` (its `key`) was read with and none has expired. */
  private keptGrants(key: string, client: PartnerClient, userId: string): readonly ConsentGrant[] | undefined {
    if (client.consentVersion === undefined) return undefined;
    const current = this.kept.get(key);
    if (current?.version !== client.consentVersion) return undefined;
    const known = current.people.get(userId);
    if (!known) return undefined;
    const now = Date.now();
    return known.every((grant) => !grant.expiresAt || grant.expiresAt.getTime() > now) ? known : undefined;
  }

  /** The people kept under `version`; a newer version replaces the old ones, an older one gets nothing kept. */
  private keptFor(key: string, version: string): Map<string, readonly ConsentGrant[]> | undefined {
    const current = this.kept.get(key);
    if (current?.version === version) return current.people;
    if (current && BigInt(current.version) > BigInt(version)) return undefined;
    const people = new Map<string, readonly ConsentGrant[]>();
    this.kept.set(key, { version, people });
    return people;
  }

  private batcherFor(key: string, client: PartnerClient): StatementBatcher<string, readonly ConsentGrant[]> {
    let batcher = this.batchers.get(key);
    if (!batcher) {
      batcher = new StatementBatcher((userIds) => this.grants(client, userIds));
      this.batchers.set(key, batcher);
    }
    return batcher;
  }

  private async grants(client: PartnerClient, userIds: readonly string[]): Promise<(readonly ConsentGrant[])[]> {
    const rows = await queryRows<ConsentRow>(this.prisma, Prisma.sql`
      SELECT c.id, c.user_id AS "userId", c.country::text AS country, c.scopes, c.expires_at AS "expiresAt"
      FROM consent c
      WHERE c.user_id = ANY(${[...new Set(userIds)]}::text[]) AND ${activeConsentOf(client)}
      ORDER BY c.authorised_at DESC NULLS LAST, c.id`);
    const byUser = new Map<string, ConsentGrant[]>();
    for (const row of rows) {
      const grant: ConsentGrant = { consentId: row.id, userId: row.userId, country: row.country, scopes: new Set(row.scopes), expiresAt: row.expiresAt };
      const list = byUser.get(row.userId);
      if (list) list.push(grant);
      else byUser.set(row.userId, [grant]);
    }
    return userIds.map((id) => byUser.get(id) ?? []);
  }
}

function clientKey(client: PartnerClient): string {
  return `${client.clientId}\u0000${client.countries.join(",")}`;
}
