import { importJWK, type CryptoKey, type JWK } from "jose";
import type { PrismaClient } from "../database/database.ts";

/** How long a retired key still verifies: tokens it signed live at most this long. */
export const RETIRED_KEY_GRACE_MS = 24 * 60 * 60 * 1000;
const REFRESH_EVERY_MS = 60_000;
/** A `kid` not yet seen reloads the keys at most this often (bounds what random kids can cost). */
export const MIN_RELOAD_GAP_MS = 2_000;

/**
 * The token-signing public keys, read from the shared database, so every gateway and
 * subgraph instance verifies against the same set. A `kid` it has not seen triggers a
 * reload (a key rotated in by another instance), at most every two seconds. The known keys are
 * refreshed every minute in the background: a verification never waits for that refresh, which
 * would hold up every token check on the instance at once (bench:realtime: every token check of
 * that second at 30-160 ms, once a minute).
 */
export class PublicKeyStore {
  private keys = new Map<string, { key: CryptoKey; alg: string }>();
  private loadedAt = 0;
  private attemptedAt = 0;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly refreshEveryMs = REFRESH_EVERY_MS,
  ) {}

  async get(kid: string, alg: string): Promise<CryptoKey | undefined> {
    const now = Date.now();
    if (!this.keys.has(kid)) {
      if (now - this.loadedAt > MIN_RELOAD_GAP_MS) await this.reload();
    } else if (now - this.loadedAt > this.refreshEveryMs && now - this.attemptedAt > Math.min(this.refreshEveryMs, MIN_RELOAD_GAP_MS)) {
      // A failed refresh is tried again on a later call, at most every two seconds; the keys in hand verify meanwhile.
      this.reload().catch(() => undefined);
    }
    const entry = this.keys.get(kid);
    return entry && entry.alg === alg ? entry.key : undefined;
  }

  reload(): Promise<void> {
    if (!this.loading) {
      this.attemptedAt = Date.now();
      this.loading = this.load().finally(() => (this.loading = undefined));
    }
    return this.loading;
  }

  private async load(): Promise<void> {
    const rows = await this.prisma.signingKey.findMany({
      where: { OR: [{ retiredAt: null }, { retiredAt: { gt: new Date(Date.now() - RETIRED_KEY_GRACE_MS) } }] },
      select: { kid: true, alg: true, publicJwk: true },
    });
    const keys = new Map<string, { key: CryptoKey; alg: string }>();
    for (const row of rows) keys.set(row.kid, { key: (await importJWK(row.publicJwk as JWK, row.alg)) as CryptoKey, alg: row.alg });
    this.keys = keys;
    this.loadedAt = Date.now();
  }
}
