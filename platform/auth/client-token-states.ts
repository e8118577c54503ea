import type { Country } from "../../generated/prisma/enums.ts";
import { Prisma } from "../../generated/prisma/client.ts";
import type { PrismaClient } from "../database/database.ts";
import { queryRows } from "../database/prepared-reads.ts";

/** What a client token (client credentials) claims to stand on. */
export interface ClientTokenRef {
  jti: string;
  clientId: string;
}

/** What the database says of it now. */
export interface ClientTokenState {
  /** The client's status (`ACTIVE` or `SUSPENDED`) and its token cut-off (client-suspension-cutoff.ts). */
  status: string;
  countries: Country[];
  consentVersion: string;
  revoked: boolean;
  tokensNotBefore: Date | null;
}

/**
 * Each token's client and revocation, in the order asked; undefined where the client does not
 * exist. One statement for any number of tokens, each (token, client) read once however often it
 * is asked (concurrent requests with one token, as a partner's polling makes). As
 * consent-token-states.ts, the tokens travel as parallel arrays through `unnest`.
 */
export async function readClientTokenStates(prisma: PrismaClient, tokens: readonly ClientTokenRef[]): Promise<(ClientTokenState | undefined)[]> {
  const distinct = new Map<string, ClientTokenRef>();
  for (const token of tokens) distinct.set(refKey(token), token);
  const asked = [...distinct.values()];
  const rows = await queryRows<ClientTokenState & { n: number }>(prisma, Prisma.sql`
    SELECT t.n::int AS n, p.status::text AS status, p.countries::text[] AS countries, p.consent_version::text AS "consentVersion",
           EXISTS (SELECT 1 FROM revoked_token r WHERE r.jti = t.jti) AS revoked, p.tokens_not_before AS "tokensNotBefore"
    FROM unnest(${asked.map((token) => token.jti)}::text[], ${asked.map((token) => token.clientId)}::text[]) WITH ORDINALITY AS t(jti, client_id, n)
    JOIN partner_client p ON p.id = t.client_id`);
  const byKey = new Map<string, ClientTokenState>();
  for (const { n, ...state } of rows) byKey.set(refKey(asked[n - 1]!), state);
  // Each caller its own copy: a viewer keeps its countries, and nobody else's change reaches them.
  return tokens.map((token) => {
    const state = byKey.get(refKey(token));
    return state && { ...state, countries: [...state.countries] };
  });
}

function refKey(token: ClientTokenRef): string {
  return `${token.jti}\u0000${token.clientId}`;
}
