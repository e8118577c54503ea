import { PairwiseIds } from "../../platform/auth/pairwise-ids.ts";
import type { Config } from "../../platform/config/config.ts";
import type { Logger } from "../../platform/logger.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import type { ProofPolicy } from "../../platform/auth/dpop.ts";
import { TokenVerifier } from "../../platform/auth/token-verifier.ts";
import { localRateLimits, type RateLimits } from "../rate-limit/rate-limits.ts";
import { PostgresProofReplayStore } from "../../platform/auth/dpop-replay-store.ts";
import { requestUrl } from "./request-url.ts";
import { SigningKeys } from "./signing-keys.ts";
import { TokenIssuer } from "./token-issuer.ts";

/** What the gateway's consent, token and REST code share; built once per gateway. */
export interface AuthServices {
  prisma: PrismaClient;
  config: Config;
  logger: Logger;
  keys: SigningKeys;
  issuer: TokenIssuer;
  verifier: TokenVerifier;
  /** How the gateway checks DPoP proofs (RFC 9449): all of them, with one replay store for every instance. */
  proofs: Extract<ProofPolicy, { edge: true }>;
  /** Per-client rate limits (rate-limit/), shared by every gateway instance. */
  rateLimits: RateLimits;
}

/** `rateLimits`: the gateway's, in the shared store; without them (token minting in benchmarks) counted in this process. */
export async function createAuthServices(prisma: PrismaClient, config: Config, logger: Logger, rateLimits: RateLimits = localRateLimits(config.rateLimits, prisma)): Promise<AuthServices> {
  const keys = new SigningKeys(prisma, config.tokens);
  await keys.ensureActiveKey();
  if (config.tokens.usingLocalKeyEncryptionKey && config.databaseUrl) {
    logger.warn("KEY_ENCRYPTION_KEY is not set: signing keys are encrypted with the public local development key");
  }
  if (!config.publicUrl && config.databaseUrl) {
    logger.warn("PUBLIC_URL is not set: DPoP proofs must name this server's own scheme and the Host header; set it behind a proxy");
  }
  return {
    prisma,
    config,
    logger,
    keys,
    issuer: new TokenIssuer(keys, config.tokens, new PairwiseIds(config.tokens.pairwiseIdKey)),
    verifier: new TokenVerifier(prisma, config.tokens),
    proofs: {
      edge: true,
      replay: new PostgresProofReplayStore(prisma, logger),
      requestUrl: (request) => requestUrl(config.publicUrl, request),
    },
    rateLimits,
  };
}
