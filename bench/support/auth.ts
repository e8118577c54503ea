// The bench calls the graph as the sandbox partner would: with the demo client's
// client-credentials token, minted through the gateway's own issuer and signing keys (the
// keys live in the shared database, so a token minted here verifies in the server child).
// So that every field of every user resolves (no per-person UNAUTHORIZED_FIELD_OR_TYPE holes
// to make responses smaller and faster), each seeded person first gives the demo client one
// more consent, with every scope the client may ask for.
import { createAuthServices } from "../../gateway/auth/services.ts";
import type { Config } from "../../platform/config/config.ts";
import { createLogger } from "../../platform/logger.ts";
import { allTenants, createPrismaClient } from "../../platform/database/database.ts";
import { TrustedDocumentStore } from "../../gateway/trusted-documents/trusted-document-store.ts";

export const DEMO_CLIENT_ID = "of_lab_demo";

/** Adds, for every user in the demo client's countries, a newest AUTHORISED consent with all its allowed scopes. */
export async function grantFullConsents(databaseUrl: string): Promise<number> {
  const prisma = createPrismaClient({ kind: "postgres", url: databaseUrl, poolSize: 1 }, { access: allTenants("bench-fixtures") });
  try {
    const client = await prisma.partnerClient.findUniqueOrThrow({ where: { id: DEMO_CLIENT_ID } });
    const text = await prisma.consentTextVersion.findFirstOrThrow({ orderBy: { publishedAt: "desc" } });
    const users = await prisma.user.findMany({ where: { country: { in: client.countries } }, select: { id: true, country: true } });
    const authorisedAt = new Date();
    const { count } = await prisma.consent.createMany({
      data: users.map((user) => ({
        id: `cns_bench_${user.id}`,
        clientId: client.id,
        userId: user.id,
        country: user.country,
        status: "AUTHORISED" as const,
        scopes: [...client.allowedScopes],
        consentTextVersion: text.version,
        authorisedAt,
      })),
    });
    return count;
  } finally {
    await prisma.$disconnect();
  }
}

/** A client token of the demo client carrying every scope the client may hold. */
export async function mintClientToken(databaseUrl: string, config: Config): Promise<string> {
  const prisma = createPrismaClient({ kind: "postgres", url: databaseUrl, poolSize: 1 }, { access: allTenants("bench-fixtures") });
  try {
    const { issuer } = await createAuthServices(prisma, config, createLogger("silent"));
    const client = await prisma.partnerClient.findUniqueOrThrow({ where: { id: DEMO_CLIENT_ID } });
    const { accessToken } = await issuer.issueClientToken({
      clientId: client.id, environment: "sandbox",
      countries: client.countries,
      scopes: [...client.allowedScopes, ...client.clientScopes],
    });
    return accessToken;
  } finally {
    await prisma.$disconnect();
  }
}

/**
 * Registers `documents` as the demo client's trusted documents, as a partner does with
 * `npm run documents:push` before calling a production gateway (TRUSTED_DOCUMENTS=enforce).
 */
export async function registerTrustedDocuments(databaseUrl: string, documents: readonly string[]): Promise<void> {
  const prisma = createPrismaClient({ kind: "postgres", url: databaseUrl, poolSize: 1 }, { access: allTenants("bench-fixtures") });
  try {
    await new TrustedDocumentStore(prisma).register(DEMO_CLIENT_ID, documents);
  } finally {
    await prisma.$disconnect();
  }
}
