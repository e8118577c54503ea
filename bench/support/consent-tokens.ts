// Consent tokens for many people at once, minted through the gateway's own issuer and signing
// keys (they live in the shared database, so the server child verifies them), each on the
// consent grantFullConsents gave the demo client (`cns_bench_<user>`): the same token
// POST /v1/auth/consent hands out, without ten thousand HTTP round trips. Every call mints a
// new token (its own `jti`), as every device of a person holds its own.
import { createAuthServices } from "../../gateway/auth/services.ts";
import type { Country } from "../../generated/prisma/enums.ts";
import type { Config } from "../../platform/config/config.ts";
import { createLogger } from "../../platform/logger.ts";
import { allTenants, createPrismaClient } from "../../platform/database/database.ts";
import { DEMO_CLIENT_ID } from "./auth.ts";

export interface BenchPerson {
  id: string;
  country: Country;
}

/** The people grantFullConsents gave a full consent to the demo client, in id order. */
export async function consentedPeople(databaseUrl: string): Promise<BenchPerson[]> {
  const prisma = createPrismaClient({ kind: "postgres", url: databaseUrl, poolSize: 1 }, { access: allTenants("bench-fixtures") });
  try {
    const consents = await prisma.consent.findMany({
      where: { clientId: DEMO_CLIENT_ID, id: { startsWith: "cns_bench_" }, status: "AUTHORISED" },
      select: { userId: true, country: true },
      orderBy: { userId: "asc" },
    });
    return consents.map((consent) => ({ id: consent.userId, country: consent.country }));
  } finally {
    await prisma.$disconnect();
  }
}

/** One access token per entry of `people` (repeat a person for several devices). */
export async function mintConsentTokens(databaseUrl: string, config: Config, people: readonly BenchPerson[]): Promise<string[]> {
  const prisma = createPrismaClient({ kind: "postgres", url: databaseUrl, poolSize: 1 }, { access: allTenants("bench-fixtures") });
  try {
    const { issuer } = await createAuthServices(prisma, config, createLogger("silent"));
    const client = await prisma.partnerClient.findUniqueOrThrow({ where: { id: DEMO_CLIENT_ID } });
    const tokens: string[] = [];
    for (const person of people) {
      const { accessToken } = await issuer.issueConsentToken({
        clientId: client.id, environment: "sandbox",
        userId: person.id,
        consentId: `cns_bench_${person.id}`,
        country: person.country,
        scopes: [...client.allowedScopes],
      });
      tokens.push(accessToken);
    }
    return tokens;
  } finally {
    await prisma.$disconnect();
  }
}
