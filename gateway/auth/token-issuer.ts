import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import type { Country } from "../../generated/prisma/enums.ts";
import { ACCESS_TOKEN_TYPE, type AccessTokenClaims } from "../../platform/auth/token-verifier.ts";
import type { SigningKeys } from "./signing-keys.ts";
import type { Environment, PairwiseIds } from "../../platform/auth/pairwise-ids.ts";

export interface TokenIssuerSettings {
  issuer: string;
  audience: string;
  accessTtlSeconds: number;
}

export interface IssuedAccessToken {
  accessToken: string;
  expiresIn: number;
  jti: string;
}

/** Signs short-lived access tokens (RFC 9068 JWT profile) with the current signing key. */
export class TokenIssuer {
  constructor(
    private readonly keys: SigningKeys,
    private readonly settings: TokenIssuerSettings,
    private readonly pairwise: PairwiseIds,
  ) {}

  /** A token bound to one person through one authorised consent. */
  issueConsentToken(grant: { clientId: string; environment: Environment; userId: string; consentId: string; country: Country; scopes: readonly string[]; jkt?: string }) {
    // `sub` is the person's pairwise id for this client (OpenID Connect's pairwise subject): a
    // token read by two clients names the same person differently.
    return this.sign(this.pairwise.external(grant.clientId, grant.environment, grant.userId), {
      client_id: grant.clientId,
      env: grant.environment,
      token_use: "consent",
      consent_id: grant.consentId,
      country: grant.country,
      scope: grant.scopes.join(" "),
      ...(grant.jkt ? { cnf: { jkt: grant.jkt } } : {}),
    });
  }

  /** A partner's client-credentials token: reaches only people who consented to this client. */
  issueClientToken(grant: { clientId: string; environment: Environment; countries: readonly Country[]; scopes: readonly string[]; jkt?: string }) {
    return this.sign(grant.clientId, {
      client_id: grant.clientId,
      env: grant.environment,
      token_use: "client",
      countries: [...grant.countries],
      scope: grant.scopes.join(" "),
      ...(grant.jkt ? { cnf: { jkt: grant.jkt } } : {}),
    });
  }

  private async sign(subject: string, claims: Omit<AccessTokenClaims, "sub">): Promise<IssuedAccessToken> {
    const signer = await this.keys.signer();
    const jti = randomUUID();
    const accessToken = await new SignJWT(claims)
      .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: ACCESS_TOKEN_TYPE })
      .setIssuer(this.settings.issuer)
      .setAudience(this.settings.audience)
      .setSubject(subject)
      .setJti(jti)
      .setIssuedAt()
      .setNotBefore("0s")
      .setExpirationTime(`${this.settings.accessTtlSeconds}s`)
      .sign(signer.key);
    return { accessToken, expiresIn: this.settings.accessTtlSeconds, jti };
  }
}
