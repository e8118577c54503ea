// Revocation reaches open subscriptions at once, on every gateway instance. The code that ends
// a consent, revokes tokens or suspends a client calls `announceRevocation` in its own
// transaction; PostgreSQL delivers the NOTIFY on commit (never for a rolled-back change), and
// each gateway LISTENs and re-checks the sockets the notice names (gateway/subscriptions). The per-event and periodic
// token checks stay as the safety net for a notice lost while a listener reconnects.
import type { Prisma } from "../../generated/prisma/client.ts";

export const REVOCATION_CHANNEL = "kamina_revocation";

/**
 * What was revoked: consents (every token bound to them), single access tokens, by `jti`, and
 * suspended clients (every token they hold).
 */
export interface RevocationNotice {
  consentIds: readonly string[];
  tokenIds: readonly string[];
  clientIds: readonly string[];
}

/** NOTIFY payloads must stay under 8000 bytes: ids go out in batches. */
const IDS_PER_NOTICE = 100;

type Executor = Pick<Prisma.TransactionClient, "$executeRaw">;

/** Sends the notice through `db` (a transaction: delivered when it commits). */
export async function announceRevocation(db: Executor, notice: Partial<RevocationNotice>): Promise<void> {
  const consentIds = notice.consentIds ?? [];
  const tokenIds = notice.tokenIds ?? [];
  const clientIds = notice.clientIds ?? [];
  for (let start = 0; start < Math.max(consentIds.length, tokenIds.length, clientIds.length); start += IDS_PER_NOTICE) {
    const batch = (ids: readonly string[]) => ids.slice(start, start + IDS_PER_NOTICE);
    const payload: RevocationNotice = { consentIds: batch(consentIds), tokenIds: batch(tokenIds), clientIds: batch(clientIds) };
    await db.$executeRaw`SELECT pg_notify(${REVOCATION_CHANNEL}, ${JSON.stringify(payload)})`;
  }
}

/**
 * The notice in a NOTIFY payload. An empty payload (the listener reconnected and may have missed
 * notices) or one it cannot read means "check every connection": `undefined`.
 */
export function parseRevocationNotice(payload: string): RevocationNotice | undefined {
  try {
    const parsed = JSON.parse(payload) as Partial<RevocationNotice> | null;
    const ids = (value: unknown) => (Array.isArray(value) ? value.filter((id): id is string => typeof id === "string") : []);
    if (parsed === null || typeof parsed !== "object") return undefined;
    return { consentIds: ids(parsed.consentIds), tokenIds: ids(parsed.tokenIds), clientIds: ids(parsed.clientIds) };
  } catch {
    return undefined;
  }
}
