// Tokens for tests, minted through the gateway's own consent records and token issuer.
import { randomBytes } from "node:crypto";
import type { RunningKamina } from "../../runtime/app.ts";
import { USER_SCOPES } from "../../subgraphs/shared/auth/scopes.ts";

export const DEMO_CLIENT = "of_lab_demo";

/** Records an authorised consent of `userId` for the demo client and returns a token bound to it. */
export async function consentToken(kamina: RunningKamina, userId: string, scopes: readonly string[] = USER_SCOPES): Promise<string> {
  const { prisma, issuer } = kamina.gateway!.auth;
  const user = await prisma.user.findUniqueOrThrow({ where: { id: userId }, select: { country: true } });
  const consent = await prisma.consent.create({
    data: {
      id: `cns_test_${randomBytes(6).toString("hex")}`,
      clientId: DEMO_CLIENT,
      userId,
      country: user.country,
      status: "AUTHORISED",
      scopes: [...scopes],
      consentTextVersion: "2026-05-01",
      authorisedAt: new Date(),
    },
  });
  const { accessToken } = await issuer.issueConsentToken({ clientId: DEMO_CLIENT, userId, consentId: consent.id, country: user.country, scopes });
  return accessToken;
}

/** The demo client's client-credentials token: every user and client scope it may hold. */
export async function clientToken(kamina: RunningKamina): Promise<string> {
  const { prisma, issuer } = kamina.gateway!.auth;
  const client = await prisma.partnerClient.findUniqueOrThrow({ where: { id: DEMO_CLIENT } });
  const { accessToken } = await issuer.issueClientToken({
    clientId: client.id,
    countries: client.countries,
    scopes: [...client.allowedScopes, ...client.clientScopes],
  });
  return accessToken;
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}
