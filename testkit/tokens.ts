// Tokens for tests, obtained over HTTP the way a partner obtains them: the sandbox client
// authenticates with its secret and asks POST /v1/auth/consent or POST /v1/auth/token.
import type { RunningKamina } from "../runtime/app.ts";
import { USER_SCOPES } from "../platform/auth/scopes.ts";

export const DEMO_CLIENT = "of_lab_demo";
/** The sandbox client's secret in startTestKamina's configuration: seed test databases with it. */
export const TEST_SANDBOX_SECRET = "kamina-sandbox-secret";
export const CONSENT_TEXT_VERSION = "2026-05-01";

/** The brief's consent request, as written. */
export const BRIEF_CONSENT_REQUEST = {
  client_id: DEMO_CLIENT,
  user_external_id: "USR_42891",
  scopes: ["wellness.read", "debts.read", "expenses.read"],
  country: "MX",
  consent_text_version: CONSENT_TEXT_VERSION,
};

export function basic(clientId: string, secret: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`, "utf8").toString("base64")}` };
}

/** The demo client's Basic credentials as the running gateway knows them. */
export function sandboxCredentials(kamina: RunningKamina): Record<string, string> {
  return basic(DEMO_CLIENT, kamina.gateway!.auth.config.sandboxClientSecret);
}

async function post(kamina: RunningKamina, path: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const response = await fetch(`${kamina.gateway!.origin}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...sandboxCredentials(kamina) },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200) {
    throw new Error(`POST ${path} answered ${response.status} ${JSON.stringify(answer)} (is the database seeded with TEST_SANDBOX_SECRET?)`);
  }
  return answer;
}

/** Asks the sandbox client for `userId`'s consent (authorised at once) and returns its access token. */
export async function consentToken(kamina: RunningKamina, userId: string, scopes: readonly string[] = USER_SCOPES): Promise<string> {
  const user = await kamina.gateway!.auth.prisma.user.findUniqueOrThrow({ where: { id: userId }, select: { country: true } });
  const answer = await post(kamina, "/v1/auth/consent", {
    client_id: DEMO_CLIENT,
    user_external_id: userId,
    scopes,
    country: user.country,
    consent_text_version: CONSENT_TEXT_VERSION,
  });
  return answer.access_token as string;
}

/** The demo client's client-credentials token: every user and client scope it may hold. */
export async function clientToken(kamina: RunningKamina): Promise<string> {
  const answer = await post(kamina, "/v1/auth/token", { grant_type: "client_credentials" });
  return answer.access_token as string;
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}
