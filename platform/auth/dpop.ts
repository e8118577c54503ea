import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { HeaderMap } from "@apollo/server";
import { calculateJwkThumbprint, EmbeddedJWK, errors as joseErrors, jwtVerify, type JWK } from "jose";
import { graphQLError } from "../errors.ts";

/** RFC 9449 proof-of-possession: a client binds its tokens to a key it holds. */
export const DPOP_ALGORITHMS = ["ES256", "EdDSA"] as const;
/** How far a proof's `iat` may be from now, either way. */
export const DPOP_MAX_SKEW_SECONDS = 60;
/** Larger than any honest proof (a header, a P-256 or Ed25519 key, a few claims). */
const MAX_PROOF_LENGTH = 8192;

export class DpopError extends Error {}

/** Remembers proofs until they are too old to be accepted anyway; shared by every instance. */
export interface ProofReplayStore {
  /** True the first time `key` (a proof's `jti`, scoped to its signing key) is seen, false on every later call. */
  remember(key: string, expiresAt: Date): Promise<boolean>;
}

export interface DpopCheck {
  proof: string | undefined;
  /**
   * The request the proof must have been made for: `htm`, `htu` (without query or fragment)
   * and `iat` within DPOP_MAX_SKEW_SECONDS. Omit only behind the gateway (a subgraph), which
   * receives the client's proof on a forwarded request and, for a subscription, long after
   * it was made.
   */
  request?: { method: string; url: string };
  /** The access token the proof must be bound to (`ath`), when one is presented. */
  accessToken?: string;
  /** The key the access token or grant is bound to (`cnf.jkt`), when there is one. */
  expectedJkt?: string;
  /** Omit to skip replay detection (a subgraph: the gateway already consumed the proof). */
  replay?: ProofReplayStore;
}

/** Verifies a DPoP proof (RFC 9449 §4.3) and returns the thumbprint of the key that signed it. */
export async function verifyDpopProof(check: DpopCheck): Promise<string> {
  const { proof } = check;
  if (!proof) throw new DpopError("This token is bound to a key: send a DPoP proof");
  if (proof.length > MAX_PROOF_LENGTH || proof.includes(",")) throw new DpopError("Send exactly one DPoP proof");
  let payload: Record<string, unknown>;
  let jwk: JWK;
  try {
    const verified = await jwtVerify(
      proof,
      (header, token) => {
        if (header.jwk && "d" in header.jwk) throw new DpopError("The DPoP proof carries a private key");
        return EmbeddedJWK(header, token);
      },
      { typ: "dpop+jwt", algorithms: [...DPOP_ALGORITHMS] },
    );
    payload = verified.payload;
    jwk = verified.protectedHeader.jwk as JWK;
  } catch (error) {
    if (error instanceof joseErrors.JOSEError) throw new DpopError("The DPoP proof is not valid");
    throw error;
  }
  const { jti, htm, htu, iat, ath } = payload;
  if (typeof jti !== "string" || jti.length < 8 || jti.length > 256) throw new DpopError("The DPoP proof needs a unique `jti`");
  if (typeof htm !== "string" || typeof htu !== "string" || typeof iat !== "number") throw new DpopError("The DPoP proof needs `htm`, `htu` and `iat`");
  if (check.request) {
    if (htm !== check.request.method) throw new DpopError("The DPoP proof's `htm` does not match the request method");
    const expected = normaliseUrl(check.request.url);
    if (expected === undefined || normaliseUrl(htu) !== expected) throw new DpopError("The DPoP proof's `htu` does not match the request URL");
    if (Math.abs(Math.floor(Date.now() / 1000) - iat) > DPOP_MAX_SKEW_SECONDS) throw new DpopError("The DPoP proof is too old or from the future (`iat`)");
  }
  if (check.accessToken !== undefined && ath !== createHash("sha256").update(check.accessToken).digest("base64url")) {
    throw new DpopError("The DPoP proof is not bound to this access token (`ath`)");
  }
  const jkt = await calculateJwkThumbprint(jwk);
  if (check.expectedJkt !== undefined && jkt !== check.expectedJkt) throw new DpopError("The DPoP proof is signed by another key than the token is bound to");
  if (check.replay) {
    // Kept until the proof fails the `iat` check anyway, with the same margin again for clock drift between instances.
    const key = createHash("sha256").update(`${jkt}\u0000${jti}`).digest("base64url");
    if (!(await check.replay.remember(key, new Date((iat + DPOP_MAX_SKEW_SECONDS * 2) * 1000)))) throw new DpopError("The DPoP proof has been used before");
  }
  return jkt;
}

/**
 * How a server checks the proofs of bound tokens. The gateway, where clients connect, checks
 * all of RFC 9449 §4.3; a subgraph behind it checks what survives forwarding: the proof's
 * signature, that it names this access token (`ath`) and is signed by the bound key (`cnf.jkt`).
 * It cannot check `htm`, `htu`, `iat` or replay: the gateway already consumed the proof, calls
 * it with POST on another URL, and forwards a subscription's proof with every event.
 */
export type ProofPolicy =
  | {
      edge: true;
      replay: ProofReplayStore;
      /** The URL the client called (`htu`), without query. */
      requestUrl(request: IncomingMessage): string;
    }
  | { edge: false };

export const BEHIND_GATEWAY: ProofPolicy = { edge: false };

export interface PresentedToken {
  scheme: "Bearer" | "DPoP";
  token: string;
  /** `cnf.jkt` of the verified token, when it is bound. */
  jkt: string | undefined;
}

/**
 * RFC 9449 §7: a bound token is accepted only with the `DPoP` scheme and a valid proof for
 * this request; an unbound token only with `Bearer` (a `DPoP` header beside it is ignored,
 * §7.2). Returns the proof to forward to the subgraphs, for a bound token.
 */
export async function checkTokenBinding(
  presented: PresentedToken,
  proof: string | undefined,
  request: IncomingMessage,
  policy: ProofPolicy,
): Promise<string | undefined> {
  if (presented.jkt === undefined) {
    if (presented.scheme === "DPoP") throw new DpopError("This access token is not bound to a key: send it with `Authorization: Bearer`");
    return undefined;
  }
  if (presented.scheme !== "DPoP") {
    throw new DpopError("This access token is bound to a key: send it with `Authorization: DPoP <access token>` and a `DPoP` proof");
  }
  await verifyDpopProof({
    proof,
    accessToken: presented.token,
    expectedJkt: presented.jkt,
    ...(policy.edge ? { request: { method: request.method ?? "GET", url: policy.requestUrl(request) }, replay: policy.replay } : {}),
  });
  return proof;
}

/** The `DPoP` request header, when sent once. */
export function dpopHeader(request: IncomingMessage): string | undefined {
  const value = request.headers.dpop;
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** RFC 9449 §7.1's challenge, beside a 401 INVALID_DPOP_PROOF. */
export function dpopChallenge(description: string): string {
  const quoted = description.replace(/[^\x20-\x7e]|["\\]/g, "");
  return `DPoP algs="${DPOP_ALGORITHMS.join(" ")}", error="invalid_dpop_proof", error_description="${quoted}"`;
}

/** The GraphQL error for a refused proof: 401 with the challenge, code INVALID_DPOP_PROOF. */
export function invalidDpopProof(reason: string) {
  return graphQLError("INVALID_DPOP_PROOF", reason, { http: { status: 401, headers: new HeaderMap([["www-authenticate", dpopChallenge(reason)]]) } });
}

/** Absent when the value is not an absolute http(s) URL; otherwise scheme, host (lowercase, default port dropped) and path. */
function normaliseUrl(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return undefined;
  }
}
