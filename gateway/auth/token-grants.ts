import type { PartnerClient } from "../../generated/prisma/client.ts";
import { environmentOf } from "../../platform/auth/pairwise-ids.ts";
import type { Logger } from "../../platform/logger.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import { AuthError } from "./auth-error.ts";
import type { ConsentRecord, ConsentService } from "./consent-service.ts";
import type { RefreshTokenStore } from "./refresh-tokens.ts";
import type { IssuedAccessToken, TokenIssuer } from "./token-issuer.ts";

export interface ConsentTokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  consentId: string;
  scopes: readonly string[];
}

export interface ClientTokens {
  accessToken: string;
  expiresIn: number;
  scopes: readonly string[];
}

/**
 * The grants that yield tokens: an authorised consent (once), a refresh token (rotated on
 * every use, reuse revokes its family), and client credentials (the partner's own token).
 * `jkt` is the thumbprint of the key a request's valid DPoP proof was signed with (RFC 9449):
 * the access token is bound to it, and so is a consent grant's refresh token family.
 */
export class TokenGrants {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly consents: ConsentService,
    private readonly refreshTokens: RefreshTokenStore,
    private readonly issuer: TokenIssuer,
    private readonly logger: Logger,
  ) {}

  /**
   * The first access and refresh token of an authorised consent. A consent yields them once;
   * afterwards the refresh token is the only way to new access tokens.
   */
  async forConsent(client: PartnerClient, consentId: string, jkt?: string): Promise<ConsentTokens> {
    let consent: ConsentRecord;
    try {
      consent = await this.consents.get({ kind: "client", clientId: client.id }, consentId);
    } catch (error) {
      if (error instanceof AuthError && error.code === "NOT_FOUND") throw new AuthError("INVALID_GRANT", `No consent ${consentId} for client ${client.id}`);
      throw error;
    }
    if (consent.status === "AWAITING_AUTHORISATION") {
      throw new AuthError("AUTHORISATION_PENDING", `Consent ${consent.id} awaits the person's authorisation; ask again once it is authorised`);
    }
    if (consent.status !== "AUTHORISED") throw new AuthError("INVALID_GRANT", `Consent ${consent.id} is ${consent.status}`);

    const access = await this.accessTokenFor(client, consent, jkt);
    const refreshToken = await this.prisma.$transaction(async (tx) => {
      // The row lock makes "once" hold when two exchanges race.
      const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM consent WHERE id = ${consent.id} AND status = 'AUTHORISED' FOR UPDATE`;
      if (locked.length === 0 || (await this.refreshTokens.exchanged(tx, consent.id))) return null;
      return this.refreshTokens.issue(tx, { consentId: consent.id, notAfter: consent.expiresAt, access, dpopJkt: jkt ?? null });
    });
    if (!refreshToken) throw new AuthError("INVALID_GRANT", `Tokens for consent ${consent.id} were already issued; use its refresh token`);
    return { accessToken: access.accessToken, refreshToken, expiresIn: access.expiresIn, consentId: consent.id, scopes: consent.scopes };
  }

  /**
   * RFC 6749 §6 with rotation: spends the refresh token and returns the next one of its family.
   * A family bound to a key (RFC 9449 §5: the rule for public clients, applied to every client)
   * is refreshed only with a proof by that key, and stays bound. Without it the refresh token is
   * refused before anything else, with no effect: useless without the key, it is not spent and
   * does not count as a reuse. An unbound family stays unbound; a proof binds the access token.
   */
  async refresh(client: PartnerClient, token: string, jkt?: string): Promise<ConsentTokens> {
    const row = await this.refreshTokens.find(token);
    if (!row || row.consent.clientId !== client.id) throw new AuthError("INVALID_GRANT", "The refresh token is not valid");
    if (row.dpopJkt !== null && jkt !== row.dpopJkt) {
      throw new AuthError(
        "INVALID_DPOP_PROOF",
        jkt === undefined
          ? "This refresh token is bound to a key: send a DPoP proof signed by it"
          : "The DPoP proof is signed by another key than this refresh token is bound to",
      );
    }
    if (row.revokedAt) throw new AuthError("INVALID_GRANT", "The refresh token has been revoked");
    if (row.usedAt) return this.reused(row.familyId, row.consentId, client.id);
    if (row.expiresAt.getTime() <= Date.now()) throw new AuthError("INVALID_GRANT", "The refresh token has expired");
    const consent = await this.consents.get({ kind: "client", clientId: client.id }, row.consentId);
    if (consent.status !== "AUTHORISED") throw new AuthError("INVALID_GRANT", `Consent ${consent.id} is ${consent.status}`);

    const access = await this.accessTokenFor(client, consent, jkt);
    const next = await this.prisma.$transaction(async (tx) => {
      if (!(await this.refreshTokens.spend(tx, row.id))) return null;
      return this.refreshTokens.issue(tx, { consentId: consent.id, familyId: row.familyId, notAfter: consent.expiresAt, access, dpopJkt: row.dpopJkt });
    });
    // Spent or revoked by a concurrent request between the read and the update: a reuse too.
    if (!next) return this.reused(row.familyId, row.consentId, client.id);
    return { accessToken: access.accessToken, refreshToken: next, expiresIn: access.expiresIn, consentId: consent.id, scopes: consent.scopes };
  }

  /** RFC 6749 §4.4: the partner's own token, for `users(...)`, `user(id)` and per-client scopes. */
  async forClient(client: PartnerClient, requested: readonly string[] | undefined, jkt?: string): Promise<ClientTokens> {
    const allowed = [...new Set([...client.allowedScopes, ...client.clientScopes])];
    const scopes = requested ? [...new Set(requested)] : allowed;
    for (const scope of scopes) {
      if (!allowed.includes(scope)) throw new AuthError("FORBIDDEN", `Client ${client.id} may not ask for \`${scope}\``);
    }
    const issued = await this.issuer.issueClientToken({ clientId: client.id, environment: environmentOf(client), countries: client.countries, scopes, ...(jkt ? { jkt } : {}) });
    return { accessToken: issued.accessToken, expiresIn: issued.expiresIn, scopes };
  }

  private async reused(familyId: string, consentId: string, clientId: string): Promise<never> {
    await this.refreshTokens.revokeFamily(familyId);
    this.logger.warn({ clientId, consentId, familyId }, "refresh token reused: its whole family is revoked");
    throw new AuthError(
      "INVALID_GRANT",
      "The refresh token was already used. Every token of this grant is now revoked (RFC 9700 §4.14); ask the person for a new consent",
    );
  }

  private accessTokenFor(client: PartnerClient, consent: ConsentRecord, jkt: string | undefined): Promise<IssuedAccessToken> {
    return this.issuer.issueConsentToken({
      clientId: consent.clientId,
      environment: environmentOf(client),
      userId: consent.userId,
      consentId: consent.id,
      country: consent.country,
      scopes: consent.scopes,
      ...(jkt ? { jkt } : {}),
    });
  }
}
