import { createHash } from "node:crypto";
import { calculateJwkThumbprint, EmbeddedJWK, errors as joseErrors, jwtVerify, type JWK } from "jose";

/** RFC 9449 proof-of-possession: a client binds its tokens to a key it holds. */
export const DPOP_ALGORITHMS = ["ES256", "EdDSA"] as const;
/** How far a proof's `iat` may be from now. */
const MAX_SKEW_SECONDS = 60;

export class DpopError extends Error {}

/** Remembers proof ids until they are too old to be accepted anyway; shared by every instance. */
export interface ProofReplayStore {
  /** True the first time a jti is seen, false on every later call. */
  remember(jti: string, expiresAt: Date): Promise<boolean>;
}

export interface DpopCheck {
  proof: string | undefined;
  method: string;
  /** The URL the client sent the request to, without query or fragment; omit to skip the htu check (a subgraph behind the gateway). */
  url?: string;
  /** The access token the proof must be bound to (`ath`), when one is presented. */
  accessToken?: string;
  /** The key the access token is bound to (`cnf.jkt`), when one is presented. */
  expectedJkt?: string;
  /** Omit to skip replay detection (a subgraph: the gateway already consumed the proof). */
  replay?: ProofReplayStore;
}

/** Verifies a DPoP proof and returns the thumbprint of the key that signed it. */
export async function verifyDpopProof(check: DpopCheck): Promise<string> {
  if (!check.proof) throw new DpopError("This token is bound to a key: send a DPoP proof");
  let payload: Record<string, unknown>;
  let jwk: JWK;
  try {
    const verified = await jwtVerify(check.proof, EmbeddedJWK, { typ: "dpop+jwt", algorithms: [...DPOP_ALGORITHMS] });
    payload = verified.payload;
    jwk = verified.protectedHeader.jwk as JWK;
  } catch (error) {
    if (error instanceof joseErrors.JOSEError) throw new DpopError("The DPoP proof is not valid");
    throw error;
  }
  if ("d" in jwk) throw new DpopError("The DPoP proof carries a private key");
  const { jti, htm, htu, iat, ath } = payload;
  if (typeof jti !== "string" || jti.length < 8 || jti.length > 256) throw new DpopError("The DPoP proof needs a unique `jti`");
  if (htm !== check.method) throw new DpopError("The DPoP proof's `htm` does not match the request method");
  if (check.url !== undefined && (typeof htu !== "string" || normaliseUrl(htu) !== normaliseUrl(check.url))) {
    throw new DpopError("The DPoP proof's `htu` does not match the request URL");
  }
  const now = Math.floor(Date.now() / 1000);
  if (typeof iat !== "number" || Math.abs(now - iat) > MAX_SKEW_SECONDS) throw new DpopError("The DPoP proof is too old or from the future");
  if (check.accessToken !== undefined && ath !== createHash("sha256").update(check.accessToken).digest("base64url")) {
    throw new DpopError("The DPoP proof is not bound to this access token (`ath`)");
  }
  const jkt = await calculateJwkThumbprint(jwk);
  if (check.expectedJkt !== undefined && jkt !== check.expectedJkt) throw new DpopError("The DPoP proof is signed by another key than the token is bound to");
  if (check.replay && !(await check.replay.remember(jti, new Date((iat + MAX_SKEW_SECONDS * 2) * 1000)))) {
    throw new DpopError("The DPoP proof has been used before");
  }
  return jkt;
}

function normaliseUrl(value: string): string {
  try {
    const url = new URL(value);
    return `${url.protocol}//${url.host.toLowerCase()}${url.pathname}`;
  } catch {
    return "";
  }
}
