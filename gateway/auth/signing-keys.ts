import { randomUUID } from "node:crypto";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from "jose";
import { KekJwe } from "../../platform/encryption/kek-jwe.ts";
import type { KeyEncryptionKeys } from "../../platform/encryption/vault-factory.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import { MIN_RELOAD_GAP_MS, RETIRED_KEY_GRACE_MS } from "../../platform/auth/public-keys.ts";

const ALG = "EdDSA";
const SIGNER_CACHE_MS = 30_000;
/**
 * A rotated-in key is published this long before it signs anything. Every verifier that
 * loaded its keys before the new key existed may reload on an unknown `kid` by then (see
 * MIN_RELOAD_GAP_MS), so the first token the new key signs is never refused; the extra
 * second covers clock skew between instances.
 */
export const KEY_PUBLISH_LEAD_MS = MIN_RELOAD_GAP_MS + 1_000;
/** Serialises key creation across gateway instances sharing one database. */
const KEY_LOCK = 0x4b_45_59_53; // "KEYS"

export interface Signer {
  kid: string;
  alg: string;
  key: CryptoKey;
}

/**
 * Token-signing keys, kept in the shared database with the private half encrypted by the
 * key-encryption key. The newest active key signs; older keys stay published in the JWKS
 * until tokens they signed have expired, so rotation needs no downtime.
 */
export class SigningKeys {
  private cached: { signer: Signer; until: number } | undefined;
  private readonly jwe: KekJwe;

  constructor(
    private readonly prisma: PrismaClient,
    keys: KeyEncryptionKeys,
  ) {
    this.jwe = new KekJwe(keys);
  }

  /** Creates the first key when there is none. Safe to call from many instances at once. */
  async ensureActiveKey(): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${KEY_LOCK})`;
      const active = await tx.signingKey.count({ where: { retiredAt: null } });
      if (active === 0) await tx.signingKey.create({ data: await this.newKeyRow() });
    });
  }

  /**
   * Adds a new signing key, published at once and signing from KEY_PUBLISH_LEAD_MS on, when
   * the previous keys retire (they keep verifying for a grace period). Returns its kid.
   */
  async rotate(): Promise<string> {
    const activeFrom = new Date(Date.now() + KEY_PUBLISH_LEAD_MS);
    const row = await this.newKeyRow(activeFrom);
    await this.prisma.$transaction([
      this.prisma.signingKey.updateMany({ where: { retiredAt: null }, data: { retiredAt: activeFrom } }),
      this.prisma.signingKey.create({ data: row }),
    ]);
    this.cached = undefined;
    return row.kid;
  }

  /** The key that signs now: the newest one whose time has come and that has not retired. */
  async signer(): Promise<Signer> {
    const now = Date.now();
    if (this.cached && now < this.cached.until) return this.cached.signer;
    const rows = await this.prisma.signingKey.findMany({
      where: { OR: [{ retiredAt: null }, { retiredAt: { gt: new Date(now) } }] },
      orderBy: { activeFrom: "desc" },
    });
    const row = rows.find((candidate) => candidate.activeFrom.getTime() <= now);
    if (!row) throw new Error("No active signing key; call ensureActiveKey() at start");
    const key = (await importJWK(await this.jwe.open<JWK>(row.privateJwe), row.alg)) as CryptoKey;
    const signer = { kid: row.kid, alg: row.alg, key };
    // Switch to a key waiting for its turn as soon as its turn comes.
    const pending = rows.map((candidate) => candidate.activeFrom.getTime()).filter((at) => at > now);
    this.cached = { signer, until: Math.min(now + SIGNER_CACHE_MS, ...pending) };
    return signer;
  }

  /** The public keys that verify tokens now: active ones and recently retired ones. */
  async jwks(): Promise<{ keys: JWK[] }> {
    const rows = await this.prisma.signingKey.findMany({
      where: { OR: [{ retiredAt: null }, { retiredAt: { gt: new Date(Date.now() - RETIRED_KEY_GRACE_MS) } }] },
      orderBy: { activeFrom: "desc" },
    });
    return { keys: rows.map((row) => ({ ...(row.publicJwk as JWK), kid: row.kid, alg: row.alg, use: "sig" })) };
  }

  private async newKeyRow(activeFrom = new Date()) {
    const { publicKey, privateKey } = await generateKeyPair(ALG, { crv: "Ed25519", extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = `${await calculateJwkThumbprint(publicJwk)}`.slice(0, 16) + "-" + randomUUID().slice(0, 8);
    const privateJwe = await this.jwe.seal(await exportJWK(privateKey), { kid });
    return { kid, alg: ALG, publicJwk: publicJwk as object, privateJwe, activeFrom };
  }
}
