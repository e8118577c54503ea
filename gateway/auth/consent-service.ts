import { randomBytes } from "node:crypto";
import type { Consent, ConsentEvent, ConsentTextVersion, PartnerClient } from "../../generated/prisma/client.ts";
import type { ConsentStatus, Country } from "../../generated/prisma/enums.ts";
import { CLIENT_SCOPES, USER_SCOPES } from "../../platform/auth/scopes.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import { AuthError } from "./auth-error.ts";
import type { Db, RefreshTokenStore } from "./refresh-tokens.ts";
import { announceRevocation } from "./revocation-notice.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
/** How long an authorised consent lasts before the person must consent again. */
export const CONSENT_LIFETIME_MS = 365 * DAY_MS;
/** How long a consent may wait for the person's authorisation before it expires. */
export const AUTHORISATION_WINDOW_MS = DAY_MS;
const MAX_ID_LENGTH = 128;

export interface ConsentRequest {
  userId: string;
  scopes: readonly string[];
  country: Country;
  consentTextVersion: string;
}

export type ConsentRecord = Consent & { history: ConsentEvent[]; textVersion: ConsentTextVersion };

/** Who acts on a consent: the partner client holding it, or the Kamina app acting for the person. */
export type ConsentActor = { kind: "client"; clientId: string } | { kind: "app" };

const OPEN: readonly ConsentStatus[] = ["AWAITING_AUTHORISATION", "AUTHORISED"];

/**
 * A person's consents: asked for by a client, authorised or rejected by the person, revoked
 * by either, expired by time. Every change of status writes a ConsentEvent in the same
 * transaction, and only moves from the status it was read in, so concurrent changes
 * cannot both win.
 */
export class ConsentService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly refreshTokens: RefreshTokenStore,
  ) {}

  /** A client asks a person for consent. Sandbox clients' consents are authorised at once. */
  async request(client: PartnerClient, request: ConsentRequest): Promise<ConsentRecord> {
    if (!client.countries.includes(request.country)) {
      throw new AuthError("FORBIDDEN", `Client ${client.id} does not serve ${request.country}; it serves ${client.countries.join(", ")}`);
    }
    const scopes = grantableScopes(client, request.scopes);
    await this.requireCurrentText(request.consentTextVersion);
    // The user must live in the tenant asked for: same answer whether absent or elsewhere.
    const user = await this.prisma.user.findFirst({ where: { id: request.userId, country: request.country }, select: { id: true } });
    if (!user) throw new AuthError("NOT_FOUND", `No such person in ${request.country} for this client`);

    const now = new Date();
    const authorised = client.sandbox;
    const history: { status: ConsentStatus; reason: string; at: Date }[] = [
      { status: "AWAITING_AUTHORISATION", reason: `requested by client ${client.id}`, at: now },
    ];
    if (authorised) history.push({ status: "AUTHORISED", reason: "sandbox client: authorised at once", at: now });
    const created = await this.prisma.consent.create({
      data: {
        id: `cns_${randomBytes(12).toString("hex")}`,
        clientId: client.id,
        userId: user.id,
        country: request.country,
        status: authorised ? "AUTHORISED" : "AWAITING_AUTHORISATION",
        scopes,
        consentTextVersion: request.consentTextVersion,
        createdAt: now,
        authorisedAt: authorised ? now : null,
        expiresAt: new Date(now.getTime() + (authorised ? CONSENT_LIFETIME_MS : AUTHORISATION_WINDOW_MS)),
        history: { create: history },
      },
    });
    return this.load({ kind: "client", clientId: client.id }, created.id);
  }

  /** The consent as the actor may see it (another client's consent is not found), expiry applied. */
  async get(actor: ConsentActor, id: string): Promise<ConsentRecord> {
    const consent = await this.load(actor, id);
    if (!OPEN.includes(consent.status) || !consent.expiresAt || consent.expiresAt.getTime() > Date.now()) return consent;
    const reason = consent.status === "AUTHORISED" ? "reached its end date" : "not authorised in time";
    await this.move(consent, "EXPIRED", reason, {}, (tx) => this.refreshTokens.revokeConsent(tx, consent.id));
    return this.load(actor, id);
  }

  /** The person authorises a consent in the Kamina app. */
  async authorise(id: string): Promise<ConsentRecord> {
    return this.change({ kind: "app" }, id, (consent) => {
      if (consent.status !== "AWAITING_AUTHORISATION") throw notAwaiting(consent, "authorised");
      const now = new Date();
      return { to: "AUTHORISED", reason: "authorised by the person in the Kamina app", data: { authorisedAt: now, expiresAt: new Date(now.getTime() + CONSENT_LIFETIME_MS) } };
    });
  }

  /** The person declines a consent in the Kamina app. */
  async reject(id: string, reason: string | undefined): Promise<ConsentRecord> {
    return this.change({ kind: "app" }, id, (consent) => {
      if (consent.status !== "AWAITING_AUTHORISATION") throw notAwaiting(consent, "rejected");
      return { to: "REJECTED", reason: reason ?? "rejected by the person in the Kamina app", data: {} };
    });
  }

  /**
   * Ends a consent: its refresh tokens are revoked with it, and its access tokens fail on
   * the next request because every hop checks the consent's status. Revoking a revoked
   * consent changes nothing and is not an error.
   */
  /** `reason` is optional (the brief's revocation takes no body); it is kept when given. */
  async revoke(actor: ConsentActor, id: string, reason: string | null): Promise<ConsentRecord> {
    return this.change(actor, id, (consent) => {
      if (consent.status === "REVOKED") return null;
      if (!OPEN.includes(consent.status)) throw new AuthError("CONFLICT", `Consent ${consent.id} is ${consent.status}; there is nothing to revoke`);
      const by = actor.kind === "app" ? "the person in the Kamina app" : `client ${actor.clientId}`;
      return {
        to: "REVOKED",
        reason: reason === null ? `revoked by ${by}` : `revoked by ${by}: ${reason}`,
        data: { revokedAt: new Date(), revocationReason: reason },
        also: (tx: Db) => this.refreshTokens.revokeConsent(tx, consent.id),
      };
    });
  }

  /**
   * Reads the consent, asks `decide` what to do, and applies it if the status is still the
   * one read; if another request changed it first, decides again on the new state.
   */
  private async change(
    actor: ConsentActor,
    id: string,
    decide: (consent: ConsentRecord) => { to: ConsentStatus; reason: string; data: Partial<Consent>; also?: (tx: Db) => Promise<void> } | null,
  ): Promise<ConsentRecord> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const consent = await this.get(actor, id);
      const decision = decide(consent);
      if (!decision) return consent;
      if (await this.move(consent, decision.to, decision.reason, decision.data, decision.also)) return this.load(actor, id);
    }
    throw new AuthError("CONFLICT", `Consent ${id} is changing concurrently; read it again`);
  }

  private async move(consent: Consent, to: ConsentStatus, reason: string, data: Partial<Consent>, also?: (tx: Db) => Promise<void>): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const { count } = await tx.consent.updateMany({ where: { id: consent.id, status: consent.status }, data: { ...data, status: to } });
      if (count === 0) return false;
      await tx.consentEvent.create({ data: { consentId: consent.id, status: to, reason } });
      await also?.(tx);
      // Its open subscriptions close now, on every gateway, not at their next check.
      if (consent.status === "AUTHORISED") await announceRevocation(tx, { consentIds: [consent.id] });
      return true;
    });
  }

  private async load(actor: ConsentActor, id: string): Promise<ConsentRecord> {
    const consent =
      id.length <= MAX_ID_LENGTH
        ? await this.prisma.consent.findFirst({
            where: { id, ...(actor.kind === "client" ? { clientId: actor.clientId } : {}) },
            include: { history: { orderBy: [{ at: "asc" }, { id: "asc" }] }, textVersion: true },
          })
        : null;
    if (!consent) throw new AuthError("NOT_FOUND", `No consent ${id}`);
    return consent;
  }

  private async requireCurrentText(version: string): Promise<void> {
    const now = new Date();
    const text = await this.prisma.consentTextVersion.findUnique({ where: { version } });
    if (text && text.publishedAt <= now && (!text.retiredAt || text.retiredAt > now)) return;
    const current = await this.prisma.consentTextVersion.findMany({
      where: { publishedAt: { lte: now }, OR: [{ retiredAt: null }, { retiredAt: { gt: now } }] },
      orderBy: { publishedAt: "desc" },
      select: { version: true },
    });
    const state = text?.retiredAt && text.retiredAt <= now ? "retired" : "unknown";
    throw new AuthError(
      "BAD_USER_INPUT",
      `consent_text_version \`${version}\` is ${state}; current: ${current.map((row) => row.version).join(", ") || "none"}`,
    );
  }
}

/** The distinct scopes asked for, each one a person may grant and this client may ask for. */
function grantableScopes(client: PartnerClient, requested: readonly string[]): string[] {
  const scopes = [...new Set(requested)];
  for (const scope of scopes) {
    if ((CLIENT_SCOPES as readonly string[]).includes(scope)) {
      throw new AuthError("FORBIDDEN", `\`${scope}\` is a client scope, not one a person grants; ask for it with grant_type=client_credentials`);
    }
    if (!(USER_SCOPES as readonly string[]).includes(scope)) throw new AuthError("FORBIDDEN", `\`${scope}\` is not a kamina-graph scope`);
    if (!client.allowedScopes.includes(scope)) throw new AuthError("FORBIDDEN", `Client ${client.id} may not ask for \`${scope}\``);
  }
  return scopes;
}

function notAwaiting(consent: Consent, verb: string): AuthError {
  return new AuthError("CONFLICT", `Consent ${consent.id} is ${consent.status}; only a consent awaiting authorisation can be ${verb}`);
}
