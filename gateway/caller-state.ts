/**
 * What an answer depends on about its caller, for sharing identical work in flight
 * (inflight-fetches.ts): the exact token, the DPoP proof's public key, and the consent state
 * the gateway's token check found for this request as its seal states it. Two requests with
 * the same state are the same caller seeing the same consents; a revocation in between moves
 * the state, so the later request never shares the earlier one's work.
 */
import { LruMap } from "../platform/lru-map.ts";

/** The public key a DPoP proof is signed with (its protected header's `jwk`), as JSON. */
export function dpopKey(proof: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(proof.slice(0, proof.indexOf(".")), "base64url").toString("utf8")) as { jwk?: unknown };
    return header.jwk === undefined ? undefined : JSON.stringify(header.jwk);
  } catch {
    return undefined;
  }
}

/** Seals read lately: a request's seal is read for its operation and again for each of its fetches. */
const sealedStates = new LruMap<string, string | null>(1024);

/** The seal's body without its expiry: what the gateway's token check found for this request. */
export function sealedState(seal: string): string | undefined {
  let state = sealedStates.get(seal);
  if (state === undefined) sealedStates.set(seal, (state = readSealedState(seal) ?? null));
  return state ?? undefined;
}

function readSealedState(seal: string): string | undefined {
  try {
    const dot = seal.indexOf(".");
    if (dot <= 0) return undefined;
    const { e: _expiry, ...state } = JSON.parse(Buffer.from(seal.slice(0, dot), "base64url").toString("utf8")) as Record<string, unknown>;
    return JSON.stringify(state);
  } catch {
    return undefined;
  }
}

/**
 * The caller's state as one string, or undefined when it cannot be told exactly (no seal of the
 * token check, an unreadable proof or seal): such a request shares nothing.
 */
export function callerState(request: { authorization: string; dpop?: string; tokenCheck?: string }): string | undefined {
  if (request.tokenCheck === undefined) return undefined;
  const checked = sealedState(request.tokenCheck);
  if (checked === undefined) return undefined;
  let key = "";
  if (request.dpop !== undefined) {
    const found = dpopKey(request.dpop);
    if (found === undefined) return undefined;
    key = found;
  }
  return `${request.authorization}\n${key}\n${checked}`;
}
