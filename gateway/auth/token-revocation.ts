import { createLocalJWKSet, jwtVerify } from "jose";
import type { PartnerClient } from "../../generated/prisma/client.ts";
import { ACCESS_TOKEN_TYPE, TOKEN_ALGORITHMS, type AccessTokenClaims, type TokenSettings } from "../../platform/auth/token-verifier.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import type { RefreshTokenStore } from "./refresh-tokens.ts";
import { announceRevocation } from "./revocation-notice.ts";
import type { SigningKeys } from "./signing-keys.ts";

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * RFC 7009 token revocation. Refresh and access tokens are told apart by their form, so
 * `token_type_hint` is not needed. A token that is unknown, invalid, already expired or
 * another client's is ignored: the answer is the same either way (RFC 7009 §2.2).
 */
export class TokenRevocation {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly keys: SigningKeys,
    private readonly settings: TokenSettings,
    private readonly refreshTokens: RefreshTokenStore,
  ) {}

  async revoke(client: PartnerClient, token: string): Promise<void> {
    if (JWT_SHAPE.test(token)) return this.revokeAccessToken(client, token);
    const row = await this.refreshTokens.find(token);
    // A refresh token takes the access tokens of its grant with it (RFC 7009 §2.1).
    if (row && row.consent.clientId === client.id) await this.refreshTokens.revokeFamily(row.familyId);
  }

  private async revokeAccessToken(client: PartnerClient, token: string): Promise<void> {
    let claims: AccessTokenClaims;
    try {
      ({ payload: claims } = await jwtVerify<AccessTokenClaims>(token, createLocalJWKSet(await this.keys.jwks()), {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        algorithms: [...TOKEN_ALGORITHMS],
        typ: ACCESS_TOKEN_TYPE,
        requiredClaims: ["exp", "jti", "client_id"],
      }));
    } catch {
      return;
    }
    if (claims.client_id !== client.id || !claims.jti || !claims.exp) return;
    await this.prisma.revokedToken.createMany({ data: [{ jti: claims.jti, expiresAt: new Date(claims.exp * 1000) }], skipDuplicates: true });
    await announceRevocation(this.prisma, { tokenIds: [claims.jti] });
  }
}
