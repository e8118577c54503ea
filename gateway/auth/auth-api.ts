import { ClientAuthenticator } from "./client-authentication.ts";
import { ConsentReceipts } from "./consent-receipts.ts";
import { ConsentService } from "./consent-service.ts";
import { RefreshTokenStore } from "./refresh-tokens.ts";
import type { AuthServices } from "./services.ts";
import { TokenGrants } from "./token-grants.ts";
import { TokenRevocation } from "./token-revocation.ts";
import type { RateLimits } from "../rate-limit/rate-limits.ts";
import { ClientPersonIds } from "../pairwise/client-person-ids.ts";
import { PairwiseIds } from "../../platform/auth/pairwise-ids.ts";
import { partnerIdsOver, type PartnerIds } from "../../platform/partner-ids/partner-ids.ts";

/** The consent and token operations the REST routes expose, wired once per gateway. */
export interface AuthApi {
  clients: ClientAuthenticator;
  consents: ConsentService;
  grants: TokenGrants;
  revocation: TokenRevocation;
  receipts: ConsentReceipts;
  /** Authenticates the Kamina app, which authorises and rejects consents for the person. */
  appApiKey: string;
  /** DPoP proofs sent to the token endpoints (RFC 9449 §5). */
  proofs: AuthServices["proofs"];
  /** Requests per client and consent prompts per person (rate-limit/). */
  rateLimits: RateLimits;
  /** Each client's pairwise ids for people (issue 16, item 6). */
  people: ClientPersonIds;
  /** Each client's own ids for people (customer and bureau ids), encrypted at rest (issue 21, item 1). */
  partnerIds: PartnerIds;
}

export function createAuthApi(services: AuthServices): AuthApi {
  const { prisma, config, logger, keys, issuer } = services;
  const refreshTokens = new RefreshTokenStore(prisma, config.tokens.refreshTtlSeconds);
  const consents = new ConsentService(prisma, refreshTokens);
  return {
    clients: new ClientAuthenticator(prisma, services.rateLimits),
    consents,
    grants: new TokenGrants(prisma, consents, refreshTokens, issuer, logger),
    revocation: new TokenRevocation(prisma, keys, config.tokens, refreshTokens),
    receipts: new ConsentReceipts(prisma),
    appApiKey: config.appApiKey,
    proofs: services.proofs,
    rateLimits: services.rateLimits,
    people: new ClientPersonIds(new PairwiseIds(config.tokens.pairwiseIdKey)),
    partnerIds: partnerIdsOver(prisma, config.tokens),
  };
}
