import { HeaderMap } from "@apollo/server";
import { errors as joseErrors, jwtVerify, type JWTPayload } from "jose";
import type { Country } from "../../generated/prisma/enums.ts";
import { graphQLError } from "../errors.ts";
import { LruMap } from "../lru-map.ts";
import type { PrismaClient } from "../database/database.ts";
import { issuedBeforeCutoff } from "./client-suspension-cutoff.ts";
import { readClientTokenStates, type ClientTokenRef, type ClientTokenState } from "./client-token-states.ts";
import { readConsentTokenStates, type ConsentTokenRef, type ConsentTokenState } from "./consent-token-states.ts";
import { PublicKeyStore } from "./public-keys.ts";
import { parseScopeClaim } from "./scopes.ts";
import { StatementBatcher } from "../database/statement-batcher.ts";
import { TokenCheckSeal, type CheckedState } from "./token-check-seal.ts";
import type { Viewer } from "./viewer.ts";
import { PairwiseIds, type Environment } from "./pairwise-ids.ts";
import { tokenChallenge } from "./www-authenticate.ts";
import { isDatabaseUnavailable } from "../database/unavailable.ts";

export const TOKEN_ALGORITHMS = ["EdDSA"] as const;
const CLOCK_TOLERANCE_SECONDS = 5;
/**
 * Five times the 10,000 subscribers one gateway is sized for, at about 1.2 KiB each (the token
 * and its claims). Kept least recently used first: a fleet of sockets re-checked in turn is a
 * cycle over every token, and evicting in insertion order from a cache just smaller than that
 * cycle misses every time (seen in bench:realtime, 10,000 sockets against a cache of 10,000).
 */
const VERIFIED_TOKENS_KEPT = 50_000;
export const ACCESS_TOKEN_TYPE = "at+jwt";

type VerifiedTokens = LruMap<string, { claims: AccessTokenClaims; kid: string; alg: string }>;
const verifiedTokensBySettings = new WeakMap<TokenSettings, VerifiedTokens>();

/**
 * The verified-token cache of every verifier made from this settings object: one process's
 * gateway and subgraphs (`npm start`) are, so a token the gateway verified is not verified again
 * by each subgraph it calls (two Ed25519 verifications per alert delivered with a cross-subgraph
 * selection, for a token a subgraph had not seen yet). Same settings, same issuer and audience:
 * the same answer as verifying again.
 */
export function verifiedTokensFor(settings: TokenSettings): VerifiedTokens {
  let verified = verifiedTokensBySettings.get(settings);
  if (!verified) verifiedTokensBySettings.set(settings, (verified = new LruMap(VERIFIED_TOKENS_KEPT)));
  return verified;
}

export interface TokenSettings {
  issuer: string;
  audience: string;
  /** Shared by every instance; derives the key of the gateway's token-check seals (token-check-seal.ts). */
  keyEncryptionKey?: Uint8Array;
  /** KEY_ENCRYPTION_KEY_PREVIOUS: during a KEK rotation, still unwraps the data keys of encryption at rest. */
  previousKeyEncryptionKeys?: readonly Uint8Array[];
  /** Reads a consent token's `sub`, the person's pairwise id for the client (pairwise-ids.ts). */
  pairwiseIdKey?: Uint8Array;
}

/** Claims kamina-graph puts in an access token beside the registered ones. */
export interface AccessTokenClaims extends JWTPayload {
  client_id: string;
  scope: string;
  token_use: "consent" | "client";
  consent_id?: string;
  country?: Country;
  countries?: Country[];
  /** The client's environment: which pairwise ids it is given (`sub` of a consent token is one). */
  env?: Environment;
  /** RFC 9449: the thumbprint of the DPoP key the token is bound to. */
  cnf?: { jkt: string };
}

export interface VerifiedToken {
  viewer: Viewer;
  claims: AccessTokenClaims;
  token: string;
  scheme: "Bearer" | "DPoP";
}

/**
 * A token refused. `code` tells the client what to do: UNAUTHENTICATED (get a token, or
 * refresh an expired one) or CONSENT_REVOKED (the consent is over: no refresh will help).
 */
export class AuthenticationError extends Error {
  constructor(
    readonly reason: string,
    readonly code: "UNAUTHENTICATED" | "CONSENT_REVOKED" = "UNAUTHENTICATED",
  ) {
    super(reason);
  }
}

/** The GraphQL error for a refused token: 401 with its RFC 6750 challenge (www-authenticate.ts). */
export function unauthenticated(reason: string, code: AuthenticationError["code"] = "UNAUTHENTICATED", authorization?: string) {
  return graphQLError(code, reason, { http: { status: 401, headers: new HeaderMap([["www-authenticate", tokenChallenge(authorization, reason)]]) } });
}

/**
 * Verifies an access token and that what it stands on still holds: the consent is still
 * authorised, the client is active and has not been suspended since the token was issued, and
 * the token was not revoked. Checked on every request against the shared database, so a
 * revocation or a suspension takes effect on the very next request everywhere.
 */
export class TokenVerifier {
  private readonly keys: PublicKeyStore;
  /**
   * Tokens whose signature and claims verified, by the token itself: an Ed25519 verification
   * costs more than the rest of a request's token handling, and a token comes back on every hop
   * of every request. Expiry and the key's presence (in this verifier's own key store) are
   * checked again at each use; whether the token was revoked is never kept here (checkState,
   * every request). Shared by every verifier made from the same settings (verifiedTokensFor).
   */
  private readonly verified: VerifiedTokens;
  /**
   * Consent tokens checked at the same moment (a subscription fleet's periodic re-checks, the
   * streams one event reaches, concurrent requests) share one statement.
   */
  private readonly consentStates = new StatementBatcher<ConsentTokenRef, ConsentTokenState | undefined>((tokens) => readConsentTokenStates(this.prisma, tokens));
  /** Client tokens likewise: a partner's concurrent requests, most often with one token, share one statement. */
  private readonly clientStates = new StatementBatcher<ClientTokenRef, ClientTokenState | undefined>((tokens) => readClientTokenStates(this.prisma, tokens));
  /**
   * Signature checks under way, by token: concurrent requests with one token (a partner's burst,
   * a page's hops) wait for one Ed25519 verification, and so go on in the same turn and share
   * one state statement, instead of finishing one by one and each starting its own.
   */
  private readonly verifying = new Map<string, Promise<AccessTokenClaims>>();
  private readonly seals: TokenCheckSeal | undefined;
  private readonly pairwise: PairwiseIds | undefined;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly settings: TokenSettings,
  ) {
    this.keys = new PublicKeyStore(prisma);
    this.verified = verifiedTokensFor(settings);
    this.seals = settings.keyEncryptionKey ? new TokenCheckSeal(settings.keyEncryptionKey, settings.previousKeyEncryptionKeys) : undefined;
    this.pairwise = settings.pairwiseIdKey ? new PairwiseIds(settings.pairwiseIdKey) : undefined;
  }

  /** The gateway's seal of a token it has just checked, for the subgraphs it calls (undefined: none configured). */
  sealFor(viewer: Viewer): string | undefined {
    const state: CheckedState =
      viewer.kind === "consent" ? { kind: "consent" } : { kind: "client", countries: [...viewer.countries], consentVersion: viewer.consentVersion };
    return this.seals?.seal(viewer.tokenId, state);
  }

  /**
   * The viewer, or null when no token was sent; throws AuthenticationError for a bad one.
   * Whether a bound token (`cnf.jkt`) came with the right scheme and proof is the caller's
   * check (checkTokenBinding in dpop.ts): it needs the request.
   */
  async verifyAuthorization(header: string | undefined, gatewaySeal?: string): Promise<VerifiedToken | null> {
    if (header === undefined || header === "") return null;
    // Auth schemes are case-insensitive (RFC 9110 §11.1).
    const match = /^(Bearer|DPoP) ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/i.exec(header);
    if (!match?.[1] || !match[2]) throw new AuthenticationError("Authorization must be `Bearer <access token>` or `DPoP <access token>`");
    const scheme = match[1].toLowerCase() === "dpop" ? "DPoP" : "Bearer";
    const token = match[2];
    const claims = this.withOurSubject(await this.verifySignature(token));
    const sealed = gatewaySeal === undefined ? undefined : this.seals?.open(gatewaySeal, claims.jti!);
    const viewer = viewerFrom(claims, sealed ?? (await this.checkState(claims)));
    return { viewer, claims, token, scheme };
  }

  /**
   * A consent token's `sub` is the person's pairwise id for its client (pairwise-ids.ts); inside,
   * the person is our id. A `sub` that is not this client's id for anyone is not a valid token.
   */
  private withOurSubject(claims: AccessTokenClaims): AccessTokenClaims {
    if (claims.token_use !== "consent" || claims.env === undefined || !claims.sub) return claims;
    if (!this.pairwise) throw new AuthenticationError("The token is not valid");
    const sub = this.pairwise.internal(claims.client_id, claims.env, claims.sub);
    if (sub === undefined) throw new AuthenticationError("The token is not valid");
    return { ...claims, sub };
  }

  private verifySignature(token: string): Promise<AccessTokenClaims> {
    const underWay = this.verifying.get(token);
    if (underWay) return underWay;
    const verifying = this.verifySignatureNow(token).finally(() => this.verifying.delete(token));
    this.verifying.set(token, verifying);
    return verifying;
  }

  private async verifySignatureNow(token: string): Promise<AccessTokenClaims> {
    const known = this.verified.get(token);
    if (known) {
      if (known.claims.exp! + CLOCK_TOLERANCE_SECONDS <= Date.now() / 1000) {
        this.verified.delete(token);
        throw new AuthenticationError("The token has expired");
      }
      // The same answer as verifying again, as long as the key is still published.
      if (await this.keys.get(known.kid, known.alg)) return known.claims;
      this.verified.delete(token);
    }
    try {
      const { payload, protectedHeader } = await jwtVerify<AccessTokenClaims>(
        token,
        async (header) => {
          const key = header.kid ? await this.keys.get(header.kid, header.alg) : undefined;
          if (!key) throw new AuthenticationError("The token is signed by a key this service does not know");
          return key;
        },
        {
          issuer: this.settings.issuer,
          audience: this.settings.audience,
          algorithms: [...TOKEN_ALGORITHMS],
          typ: ACCESS_TOKEN_TYPE,
          requiredClaims: ["exp", "iat", "jti", "sub", "client_id", "scope", "token_use"],
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
        },
      );
      this.verified.set(token, { claims: payload, kid: protectedHeader.kid!, alg: protectedHeader.alg });
      return payload;
    } catch (error) {
      if (error instanceof AuthenticationError) throw error;
      // The signing keys could not be read: an outage (503, or 1013 on a socket), not a bad token.
      if (isDatabaseUnavailable(error)) throw error;
      if (error instanceof joseErrors.JWTExpired) throw new AuthenticationError("The token has expired");
      if (error instanceof joseErrors.JWTClaimValidationFailed) throw new AuthenticationError(`The token's \`${error.claim}\` claim is not valid`);
      throw new AuthenticationError("The token is not valid");
    }
  }

  /** What the database says of the token now: revoked, consent or client no longer good, or the client's state. */
  private async checkState(claims: AccessTokenClaims): Promise<CheckedState> {
    const tokenId = claims.jti!;
    if (claims.token_use === "consent") {
      if (!claims.consent_id || !claims.country || !claims.sub) throw new AuthenticationError("The token is not valid");
      const state = await this.consentStates.add({ jti: tokenId, consentId: claims.consent_id, clientId: claims.client_id, userId: claims.sub });
      if (!state || state.revoked) throw new AuthenticationError("The token has been revoked");
      refuseSuspended(claims, state.clientStatus, state.tokensNotBefore);
      if (state.status === "REVOKED") {
        throw new AuthenticationError(`Consent ${claims.consent_id} behind this token was revoked; ask the person for a new consent`, "CONSENT_REVOKED");
      }
      if (state.status === "EXPIRED" || (state.expiresAt && state.expiresAt.getTime() <= Date.now())) {
        throw new AuthenticationError(`Consent ${claims.consent_id} behind this token has expired (its end date passed); ask the person for a new consent`, "CONSENT_REVOKED");
      }
      if (state.status !== "AUTHORISED") throw new AuthenticationError("The consent behind this token is no longer authorised", "CONSENT_REVOKED");
      return { kind: "consent" };
    }
    if (claims.token_use === "client") {
      const state = await this.clientStates.add({ jti: tokenId, clientId: claims.client_id });
      if (!state || state.revoked) throw new AuthenticationError("The token has been revoked");
      refuseSuspended(claims, state.status, state.tokensNotBefore);
      return { kind: "client", countries: state.countries, consentVersion: state.consentVersion };
    }
    throw new AuthenticationError("The token is not valid");
  }
}

/**
 * A suspended client's tokens are revoked, all of them, with the words (and so the code and the
 * subscription close code, 4403) of any revoked token; so are the tokens it held before a
 * suspension it has since been reinstated from (client-suspension-cutoff.ts).
 */
function refuseSuspended(claims: AccessTokenClaims, clientStatus: string, tokensNotBefore: Date | null): void {
  if (clientStatus !== "ACTIVE") throw new AuthenticationError(`The token has been revoked: client ${claims.client_id} is suspended`);
  if (issuedBeforeCutoff(claims.iat, tokensNotBefore)) {
    throw new AuthenticationError(`The token has been revoked: it was issued before client ${claims.client_id} was suspended; get a new one`);
  }
}

/** The viewer a verified token stands for, given what its check found. */
function viewerFrom(claims: AccessTokenClaims, state: CheckedState): Viewer {
  const tokenId = claims.jti!;
  if (claims.token_use === "consent" && state.kind === "consent") {
    if (!claims.consent_id || !claims.country || !claims.sub) throw new AuthenticationError("The token is not valid");
    return {
      kind: "consent",
      clientId: claims.client_id,
      userId: claims.sub,
      consentId: claims.consent_id,
      country: claims.country,
      environment: claims.env ?? "live",
      scopes: parseScopeClaim(claims.scope),
      tokenId,
    };
  }
  if (claims.token_use === "client" && state.kind === "client") {
    if (claims.sub !== claims.client_id) throw new AuthenticationError("The token has been revoked");
    return {
      kind: "client",
      clientId: claims.client_id,
      countries: state.countries,
      consentVersion: state.consentVersion,
      environment: claims.env ?? "live",
      scopes: parseScopeClaim(claims.scope),
      tokenId,
    };
  }
  throw new AuthenticationError("The token is not valid");
}
