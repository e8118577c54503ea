import type { Config } from "../../runtime/config.ts";
import type { Logger } from "../../runtime/logger.ts";
import type { PrismaClient } from "../../subgraphs/shared/database.ts";
import { TokenVerifier } from "../../subgraphs/shared/auth/token-verifier.ts";
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
}

export async function createAuthServices(prisma: PrismaClient, config: Config, logger: Logger): Promise<AuthServices> {
  const keys = new SigningKeys(prisma, config.tokens.keyEncryptionKey);
  await keys.ensureActiveKey();
  if (config.tokens.usingLocalKeyEncryptionKey && config.databaseUrl) {
    logger.warn("KEY_ENCRYPTION_KEY is not set: signing keys are encrypted with the public local development key");
  }
  return {
    prisma,
    config,
    logger,
    keys,
    issuer: new TokenIssuer(keys, config.tokens),
    verifier: new TokenVerifier(prisma, config.tokens),
  };
}
