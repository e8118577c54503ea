// The dashboard's back end for its front end: it signs the browser in as the sandbox client
// through the consent flow, so the client's secret never reaches the page. The page holds the
// tokens it is given in memory only; its own consent (read, receipts, revoke) is reached with
// the consent token itself, which names the consent and the client.
import type { PartnerClient } from "../../generated/prisma/client.ts";
import { USER_SCOPES } from "../../platform/auth/scopes.ts";
import type { Viewer } from "../../platform/auth/viewer.ts";
import type { AuthApi } from "../auth/auth-api.ts";
import type { AuthServices } from "../auth/services.ts";
import { AuthError } from "../auth/auth-error.ts";
import { consentView, receiptView } from "../rest/consent-routes.ts";
import { RestError } from "../rest/envelope.ts";

export const SANDBOX_CLIENT_ID = "of_lab_demo";
/** The brief's person, whom the dashboard opens on. */
export const DEFAULT_PERSON = "USR_42891";
/** Client scopes of the CRM view: the export; reports for what a partner would add next. */
const PARTNER_SCOPES = ["exports.create", "reports.read"];
/** So the CRM view has rows: people the sign-in consents for the sandbox client when it has fewer. */
const CRM_SAMPLE = 40;
const RECEIPTS_SHOWN = 10;

export interface SignInRequest {
  person: string;
  scopes: readonly string[];
}

export class SandboxSession {
  constructor(
    private readonly services: AuthServices,
    private readonly api: AuthApi,
  ) {}

  /** A consent for `person` with `scopes` (authorised at once: sandbox), its token, and a partner token for the CRM view. */
  async signIn(request: SignInRequest) {
    const client = await this.sandboxClient();
    const userId = this.api.people.ours(client, request.person);
    const user = userId === undefined ? null : await this.services.prisma.user.findUnique({ where: { id: userId }, select: { id: true, country: true } });
    if (!user) throw new RestError("NOT_FOUND", `No person ${request.person} for the sandbox client`);
    const scopes = request.scopes.filter((scope) => (USER_SCOPES as readonly string[]).includes(scope));
    if (scopes.length === 0) throw new RestError("BAD_USER_INPUT", `\`scopes\` must name at least one of ${USER_SCOPES.join(", ")}`);
    const version = await this.currentConsentText();
    const consent = await this.api.consents.request(client, { userId: user.id, scopes, country: user.country, consentTextVersion: version });
    const personTokens = await this.api.grants.forConsent(client, consent.id);
    const partnerTokens = await this.api.grants.forClient(client, PARTNER_SCOPES.filter((scope) => client.clientScopes.includes(scope)));
    await this.consentSample(client, scopes, version);
    return {
      person: { id: this.api.people.showTo(client)(user.id), country: user.country },
      consent_id: consent.id,
      scopes: consent.scopes,
      person_token: personTokens.accessToken,
      partner_token: partnerTokens.accessToken,
      expires_in: personTokens.expiresIn,
    };
  }

  /** The consent behind a consent token, with its newest receipts. */
  async consent(authorization: string | undefined) {
    const { client, viewer } = await this.consentOf(authorization);
    const show = this.api.people.showTo(client);
    const consent = await this.api.consents.get({ kind: "client", clientId: client.id }, viewer.consentId);
    const page = await this.api.receipts.list(consent.id, { limit: RECEIPTS_SHOWN, cursor: undefined });
    return { consent: consentView(consent, show), receipts: page.receipts.map((receipt) => receiptView(receipt, show)) };
  }

  /** Revokes the consent behind a consent token: every token it issued stops working. */
  async revoke(authorization: string | undefined) {
    const { client, viewer } = await this.consentOf(authorization);
    const consent = await this.api.consents.revoke({ kind: "client", clientId: client.id }, viewer.consentId, "revoked from the dashboard");
    return consentView(consent, this.api.people.showTo(client));
  }

  private async consentOf(authorization: string | undefined): Promise<{ client: PartnerClient; viewer: Extract<Viewer, { kind: "consent" }> }> {
    const verified = await this.services.verifier.verifyAuthorization(authorization);
    if (!verified) throw new AuthError("UNAUTHENTICATED", "Send the dashboard's consent token as `Authorization: Bearer <token>`");
    const { viewer } = verified;
    if (viewer.kind !== "consent" || viewer.clientId !== SANDBOX_CLIENT_ID) throw new AuthError("FORBIDDEN", "Only the sandbox client's consent tokens reach the dashboard's consent");
    return { client: await this.sandboxClient(), viewer };
  }

  private async sandboxClient(): Promise<PartnerClient> {
    const client = await this.services.prisma.partnerClient.findUnique({ where: { id: SANDBOX_CLIENT_ID } });
    if (!client?.sandbox || client.status !== "ACTIVE") throw new RestError("FORBIDDEN", `The sandbox client ${SANDBOX_CLIENT_ID} is not set up here (npm run seed)`);
    return client;
  }

  private async currentConsentText(): Promise<string> {
    const now = new Date();
    const text = await this.services.prisma.consentTextVersion.findFirst({
      where: { publishedAt: { lte: now }, OR: [{ retiredAt: null }, { retiredAt: { gt: now } }] },
      orderBy: { publishedAt: "desc" },
      select: { version: true },
    });
    if (!text) throw new RestError("FORBIDDEN", "No consent text is published (npm run seed)");
    return text.version;
  }

  private async consentSample(client: PartnerClient, scopes: readonly string[], version: string): Promise<void> {
    const { prisma } = this.services;
    const consented = await prisma.consent.count({ where: { clientId: client.id, status: "AUTHORISED" } });
    if (consented >= CRM_SAMPLE) return;
    const people = await prisma.user.findMany({ where: { country: { in: client.countries } }, orderBy: { id: "asc" }, take: CRM_SAMPLE, select: { id: true, country: true } });
    for (const person of people) await this.api.consents.request(client, { userId: person.id, scopes, country: person.country, consentTextVersion: version });
  }
}
