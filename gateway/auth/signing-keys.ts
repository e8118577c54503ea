import { randomUUID } from "node:crypto";
import { calculateJwkThumbprint, compactDecrypt, CompactEncrypt, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from "jose";
import type { PrismaClient } from "../../subgraphs/shared/database.ts";
import { RETIRED_KEY_GRACE_MS } from "../../subgraphs/shared/auth/public-keys.ts";

const ALG = "EdDSA";
const SIGNER_CACHE_MS = 30_000;
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
  private cached: { signer: Signer; at: number } | undefined;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly keyEncryptionKey: Uint8Array,
  ) {}

  /** Creates the first key when there is none. Safe to call from many instances at once. */
  async ensureActiveKey(): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${KEY_LOCK})`;
      const active = await tx.signingKey.count({ where: { retiredAt: null } });
      if (active === 0) await tx.signingKey.create({ data: await this.newKeyRow() });
    });
  }

  /** Adds a new signing key and retires the previous ones (they keep verifying for a grace period). */
  async rotate(): Promise<string> {
    const row = await this.newKeyRow();
    await this.prisma.$transaction([
      this.prisma.signingKey.updateMany({ where: { retiredAt: null }, data: { retiredAt: new Date() } }),
      this.prisma.signingKey.create({ data: row }),
    ]);
    this.cached = undefined;
    return row.kid;
  }

  async signer(): Promise<Signer> {
    if (this.cached && Date.now() - this.cached.at < SIGNER_CACHE_MS) return this.cached.signer;
    const row = await this.prisma.signingKey.findFirst({ where: { retiredAt: null }, orderBy: { activeFrom: "desc" } });
    if (!row) throw new Error("No active signing key; call ensureActiveKey() at start");
    const { plaintext } = await compactDecrypt(row.privateJwe, this.keyEncryptionKey);
    const key = (await importJWK(JSON.parse(new TextDecoder().decode(plaintext)) as JWK, row.alg)) as CryptoKey;
    const signer = { kid: row.kid, alg: row.alg, key };
    this.cached = { signer, at: Date.now() };
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

  private async newKeyRow() {
    const { publicKey, privateKey } = await generateKeyPair(ALG, { crv: "Ed25519", extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = `${await calculateJwkThumbprint(publicJwk)}`.slice(0, 16) + "-" + randomUUID().slice(0, 8);
    const privateJwe = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(await exportJWK(privateKey))))
      .setProtectedHeader({ alg: "dir", enc: "A256GCM", kid })
      .encrypt(this.keyEncryptionKey);
    return { kid, alg: ALG, publicJwk: publicJwk as object, privateJwe, activeFrom: new Date() };
  }
}
