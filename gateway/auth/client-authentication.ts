import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { PartnerClient } from "../../generated/prisma/client.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import { hashSecret, verifySecret } from "../../platform/secret-hash.ts";
import { AuthError } from "./auth-error.ts";

/** Counts failed authentications and refuses attempts past the quota (rate-limit/rate-limits.ts). */
export interface AuthenticationGuard {
  refuseLockedOut(clientId: string | undefined, address: string | undefined): Promise<void>;
  authenticationFailed(clientId: string | undefined, address: string | undefined): Promise<void>;
}

/** One message for an unknown client and a wrong secret: the answer must not tell them apart. */
export const CLIENT_AUTHENTICATION_FAILED = "Client authentication failed: send `Authorization: Basic` with a registered client id and its secret";
const MAX_CREDENTIAL_LENGTH = 512;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/**
 * Partner clients authenticate with HTTP Basic (RFC 6749 §2.3.1). The id and secret are
 * taken as sent, without form-decoding, so `curl -u id:secret` works as written.
 */
export class ClientAuthenticator {
  /** Verified against when the client is unknown, so both failures cost the same scrypt work. */
  private decoy: Promise<string> | undefined;

  constructor(
    private readonly prisma: PrismaClient,
    /** Failed attempts per client id and per source address: past the quota every attempt is refused, a right secret too. */
    private readonly guard?: AuthenticationGuard,
  ) {}

  /** `address`: where the request came from (the socket's peer), for the per-address count of failures. */
  async authenticate(authorization: string | undefined, address?: string): Promise<PartnerClient> {
    const credentials = parseBasic(authorization);
    // Sending no credentials guesses nothing; malformed ones count against the address.
    if (authorization !== undefined && authorization !== "") await this.guard?.refuseLockedOut(credentials?.id, address);
    if (!credentials) {
      if (authorization !== undefined && authorization !== "") await this.guard?.authenticationFailed(undefined, address);
      throw new AuthError("UNAUTHENTICATED", CLIENT_AUTHENTICATION_FAILED);
    }
    const client = await this.prisma.partnerClient.findUnique({ where: { id: credentials.id } });
    this.decoy ??= hashSecret(randomBytes(24).toString("base64url"));
    const matches = await verifySecret(credentials.secret, client?.secretHash ?? (await this.decoy));
    if (!client || !matches) {
      await this.guard?.authenticationFailed(credentials.id, address);
      throw new AuthError("UNAUTHENTICATED", CLIENT_AUTHENTICATION_FAILED);
    }
    if (client.status !== "ACTIVE") throw new AuthError("FORBIDDEN", `Client ${client.id} is suspended`);
    return client;
  }
}

function parseBasic(header: string | undefined): { id: string; secret: string } | null {
  const match = /^Basic +([A-Za-z0-9+/]+={0,2})$/i.exec(header?.trim() ?? "");
  if (!match?.[1] || match[1].length > MAX_CREDENTIAL_LENGTH) return null;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0 || colon === decoded.length - 1) return null;
  const id = decoded.slice(0, colon);
  // No client id holds a control character, and PostgreSQL refuses a NUL in text outright: such
  // an id is an unknown client, not a database error.
  if (CONTROL_CHARACTER.test(id)) return null;
  return { id, secret: decoded.slice(colon + 1) };
}

/** The Kamina app's key (it acts for the person); compared in constant time. */
export function isAppKey(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== "string" || given === "") return false;
  const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();
  return timingSafeEqual(digest(given), digest(expected));
}
