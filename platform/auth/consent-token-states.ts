import { Prisma } from "../../generated/prisma/client.ts";
import type { PrismaClient } from "../database/database.ts";
import { queryRows } from "../database/prepared-reads.ts";

/** What a consent token claims to stand on. */
export interface ConsentTokenRef {
  jti: string;
  consentId: string;
  clientId: string;
  userId: string;
}

/** What the database says of it now. */
export interface ConsentTokenState {
  status: string;
  expiresAt: Date | null;
  revoked: boolean;
  /** The client's status (`ACTIVE` or `SUSPENDED`) and its token cut-off (client-suspension-cutoff.ts). */
  clientStatus: string;
  tokensNotBefore: Date | null;
}

/**
 * Each token's consent, client and revocation, in the order asked; undefined where the consent is not
 * the token's (another client's, another person's, or none). One statement for any number of
 * tokens. The tokens travel as parallel arrays: `unnest` tells the planner how many there are,
 * so each is found by key. A JSON recordset is estimated at 100 rows whatever it holds, and the
 * planner answered that with a hash join over the whole consent table at every check.
 */
export async function readConsentTokenStates(prisma: PrismaClient, tokens: readonly ConsentTokenRef[]): Promise<(ConsentTokenState | undefined)[]> {
  const column = (pick: (token: ConsentTokenRef) => string) => tokens.map(pick);
  const rows = await queryRows<(ConsentTokenState & { n: number })>(prisma, Prisma.sql`
    SELECT t.n::int AS n, c.status::text AS status, c.expires_at AS "expiresAt",
           EXISTS (SELECT 1 FROM revoked_token r WHERE r.jti = t.jti) AS revoked,
           p.status::text AS "clientStatus", p.tokens_not_before AS "tokensNotBefore"
    FROM unnest(${column((token) => token.jti)}::text[], ${column((token) => token.consentId)}::text[],
                ${column((token) => token.clientId)}::text[], ${column((token) => token.userId)}::text[])
           WITH ORDINALITY AS t(jti, consent_id, client_id, user_id, n)
    JOIN consent c ON c.id = t.consent_id AND c.client_id = t.client_id AND c.user_id = t.user_id
    JOIN partner_client p ON p.id = c.client_id`);
  const states: (ConsentTokenState | undefined)[] = tokens.map(() => undefined);
  for (const { n, ...state } of rows) states[n - 1] = state;
  return states;
}
