import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { Consent, Prisma, RefreshToken } from "../../generated/prisma/client.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import { announceRevocation } from "./revocation-notice.ts";
import type { IssuedAccessToken } from "./token-issuer.ts";

/** The client itself or a transaction of it. */
export type Db = PrismaClient | Prisma.TransactionClient;

export const REFRESH_TOKEN_PREFIX = "rf_";
/** 256 random bits. */
const TOKEN_BYTES = 32;
const MAX_TOKEN_LENGTH = 128;

export function refreshTokenHash(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/**
 * Opaque refresh tokens. Only their SHA-256 is stored (they carry 256 random bits, so a
 * fast hash is enough). Each grant starts a family; every use spends the token and issues
 * the next one of the same family (RFC 9700 §4.14).
 */
export class RefreshTokenStore {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly ttlSeconds: number,
  ) {}

  /**
   * Stores a new refresh token, in `familyId` or a new family, that lives no longer than
   * `notAfter` (the consent's end), bound to the DPoP key `dpopJkt` when given (RFC 9449 §5).
   * Returns the token itself: the only time it exists in the clear.
   */
  async issue(
    db: Db,
    grant: { consentId: string; familyId?: string; notAfter: Date | null; access: IssuedAccessToken; dpopJkt?: string | null },
  ): Promise<string> {
    const token = REFRESH_TOKEN_PREFIX + randomBytes(TOKEN_BYTES).toString("base64url");
    const now = Date.now();
    const expiresAt = Math.min(now + this.ttlSeconds * 1000, grant.notAfter?.getTime() ?? Number.POSITIVE_INFINITY);
    await db.refreshToken.create({
      data: {
        id: `rft_${randomUUID()}`,
        tokenHash: refreshTokenHash(token),
        familyId: grant.familyId ?? `rff_${randomUUID()}`,
        consentId: grant.consentId,
        dpopJkt: grant.dpopJkt ?? null,
        expiresAt: new Date(expiresAt),
        accessJti: grant.access.jti,
        accessExpiresAt: new Date(now + grant.access.expiresIn * 1000),
      },
    });
    return token;
  }

  async find(token: string): Promise<(RefreshToken & { consent: Consent }) | null> {
    if (!token.startsWith(REFRESH_TOKEN_PREFIX) || token.length > MAX_TOKEN_LENGTH) return null;
    return this.prisma.refreshToken.findUnique({ where: { tokenHash: refreshTokenHash(token) }, include: { consent: true } });
  }

  /** Marks the token used; false when another request spent or revoked it first. */
  async spend(db: Db, id: string): Promise<boolean> {
    const { count } = await db.refreshToken.updateMany({ where: { id, usedAt: null, revokedAt: null }, data: { usedAt: new Date() } });
    return count === 1;
  }

  /** True when the consent has ever had a refresh token: its one-time grant was exchanged. */
  async exchanged(db: Db, consentId: string): Promise<boolean> {
    return (await db.refreshToken.count({ where: { consentId } })) > 0;
  }

  /**
   * Revokes every refresh token of a family, and the access tokens issued beside them
   * that have not expired yet: after a reuse nobody can tell the client from the thief.
   */
  async revokeFamily(familyId: string): Promise<void> {
    const now = new Date();
    await this.prisma.$transaction(async (tx) => {
      await tx.refreshToken.updateMany({ where: { familyId, revokedAt: null }, data: { revokedAt: now } });
      const issued = await tx.refreshToken.findMany({
        where: { familyId, accessJti: { not: null }, accessExpiresAt: { gt: now } },
        select: { accessJti: true, accessExpiresAt: true },
      });
      const revoked = issued.flatMap((row) => (row.accessJti && row.accessExpiresAt ? [{ jti: row.accessJti, expiresAt: row.accessExpiresAt }] : []));
      if (revoked.length) await tx.revokedToken.createMany({ data: revoked, skipDuplicates: true });
      await announceRevocation(tx, { tokenIds: revoked.map((row) => row.jti) });
    });
  }

  /** Revokes a consent's refresh tokens when the consent ends (its access tokens fail on the consent's status). */
  async revokeConsent(db: Db, consentId: string): Promise<void> {
    await db.refreshToken.updateMany({ where: { consentId, revokedAt: null }, data: { revokedAt: new Date() } });
  }
}
