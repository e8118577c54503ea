import DataLoader from "dataloader";
import { Prisma } from "../../../generated/prisma/client.ts";
import type { Country } from "../../../generated/prisma/enums.ts";
import type { PrismaClient } from "../database.ts";
import { StatementBatcher } from "./statement-batcher.ts";

/** One authorised, unexpired consent a person gave a client: what it lets that client read. */
export interface ConsentGrant {
  consentId: string;
  userId: string;
  country: Country;
  scopes: ReadonlySet<string>;
}

interface ConsentRow {
  id: string;
  userId: string;
  country: Country;
  scopes: string[];
}

export interface PartnerClient {
  clientId: string;
  countries: readonly Country[];
}

/**
 * The consents that let `client` read a person, as a condition on `consent c`: authorised, not
 * expired, and in a country the client serves. Who a partner token can see and what it can read
 * of them both rest on it.
 */
export function activeConsentOf(client: PartnerClient): Prisma.Sql {
  return Prisma.sql`c.client_id = ${client.clientId}
    AND c.status = 'AUTHORISED'
    AND (c.expires_at IS NULL OR c.expires_at > now())
    AND c.country::text = ANY(${[...client.countries]}::text[])`;
}

/**
 * The consents behind partner (client-credentials) tokens, per person, read from the database
 * for every request and never cached across requests, so a revocation takes effect on the very
 * next request. One subgraph process holds one of these: concurrent requests of one client
 * share a statement (see StatementBatcher); within a request, a DataLoader asks once per person.
 */
export class ConsentGrants {
  private readonly batchers = new Map<string, StatementBatcher<string, readonly ConsentGrant[]>>();

  constructor(private readonly prisma: PrismaClient) {}

  /** A loader for one request: each person's grants for `client`, newest consent first. */
  loaderFor(client: PartnerClient): DataLoader<string, readonly ConsentGrant[]> {
    const batcher = this.batcherFor(client);
    return new DataLoader<string, readonly ConsentGrant[]>((userIds) => Promise.all(userIds.map((userId) => batcher.add(userId))), { maxBatchSize: 1000 });
  }

  private batcherFor(client: PartnerClient): StatementBatcher<string, readonly ConsentGrant[]> {
    const key = `${client.clientId}\u0000${client.countries.join(",")}`;
    let batcher = this.batchers.get(key);
    if (!batcher) {
      batcher = new StatementBatcher((userIds) => this.grants(client, userIds));
      this.batchers.set(key, batcher);
    }
    return batcher;
  }

  private async grants(client: PartnerClient, userIds: readonly string[]): Promise<(readonly ConsentGrant[])[]> {
    const rows = await this.prisma.$queryRaw<ConsentRow[]>`
      SELECT c.id, c.user_id AS "userId", c.country::text AS country, c.scopes
      FROM consent c
      WHERE c.user_id = ANY(${[...new Set(userIds)]}::text[]) AND ${activeConsentOf(client)}
      ORDER BY c.authorised_at DESC NULLS LAST, c.id`;
    const byUser = new Map<string, ConsentGrant[]>();
    for (const row of rows) {
      const grant: ConsentGrant = { consentId: row.id, userId: row.userId, country: row.country, scopes: new Set(row.scopes) };
      const list = byUser.get(row.userId);
      if (list) list.push(grant);
      else byUser.set(row.userId, [grant]);
    }
    return userIds.map((id) => byUser.get(id) ?? []);
  }
}
