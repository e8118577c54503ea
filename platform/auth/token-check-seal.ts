import { KekMac } from "./kek-mac.ts";
import type { Country } from "../../generated/prisma/enums.ts";

/** The header the gateway sends its seal in; a subgraph reached directly never gets a valid one. */
export const TOKEN_CHECK_HEADER = "x-kamina-token-check";
/** How long a seal vouches for a check: longer than any request, short enough to be useless later. */
const SEAL_TTL_MS = 30_000;

/** What a token's database check found, beyond the token's own claims. */
export type CheckedState = { kind: "consent" } | { kind: "client"; countries: Country[]; consentVersion: string };

interface SealBody {
  /** The token's `jti`. */
  t: string;
  /** Until when (ms since the epoch). */
  e: number;
  c?: Country[];
  v?: string;
}

/**
 * The gateway checks a token against the database (revoked? consent still authorised? client
 * still active?) at the start of every request; it seals what it found, keyed with a secret
 * derived from the key-encryption key every instance shares, and forwards the seal to the
 * subgraphs it calls for that request. A subgraph still verifies the token's signature, audience,
 * expiry, DPoP binding and scopes itself; with a valid seal for that very token it skips only the
 * repeated database check. Without one (a request that bypassed the gateway, a forged or stale
 * seal) it checks the database itself, so a subgraph reached directly still refuses a revoked
 * token on the very next request.
 */
export class TokenCheckSeal {
  /** Seals under the current key-encryption key, opens under it and the previous ones. */
  private readonly mac: KekMac;

  constructor(keyEncryptionKey: Uint8Array, previousKeyEncryptionKeys: readonly Uint8Array[] = []) {
    this.mac = new KekMac("kamina-graph token-check seal v1", keyEncryptionKey, previousKeyEncryptionKeys);
  }

  seal(tokenId: string, state: CheckedState, now = Date.now()): string {
    const body: SealBody = { t: tokenId, e: now + SEAL_TTL_MS, ...(state.kind === "client" ? { c: state.countries, v: state.consentVersion } : {}) };
    const encoded = Buffer.from(JSON.stringify(body)).toString("base64url");
    return `${encoded}.${this.mac.make(encoded).toString("base64url")}`;
  }

  /** The sealed state when `value` is a valid, current seal for the token `tokenId`; else undefined. */
  open(value: string | undefined, tokenId: string, now = Date.now()): CheckedState | undefined {
    if (!value || value.length > 2048) return undefined;
    const dot = value.indexOf(".");
    if (dot <= 0) return undefined;
    const encoded = value.slice(0, dot);
    const given = Buffer.from(value.slice(dot + 1), "base64url");
    if (!this.mac.matches(given, encoded)) return undefined;
    let body: SealBody;
    try {
      body = JSON.parse(Buffer.from(encoded, "base64url").toString("utf8")) as SealBody;
    } catch {
      return undefined;
    }
    if (body.t !== tokenId || typeof body.e !== "number" || body.e <= now) return undefined;
    if (body.c === undefined) return { kind: "consent" };
    if (!Array.isArray(body.c) || typeof body.v !== "string") return undefined;
    return { kind: "client", countries: body.c, consentVersion: body.v };
  }
}
