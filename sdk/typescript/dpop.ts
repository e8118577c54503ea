// DPoP proofs (RFC 9449) as docs/auth.md §7 asks for them: a JWT per request, typ dpop+jwt,
// ES256 or EdDSA, the public key in the header, htm, htu (no query or fragment), iat, jti, and
// ath = base64url(SHA-256(access token)) when an access token goes with it.
import { base64url, exportJWK, SignJWT, type CryptoKey } from "jose";

/** A key pair from `crypto.subtle.generateKey` or jose's `generateKeyPair("ES256" | "EdDSA")`; keep the private key non-extractable. */
export type DpopKeyPair = { publicKey: CryptoKey; privateKey: CryptoKey };

function algorithmOf(key: CryptoKey): "ES256" | "EdDSA" {
  const name = key.algorithm.name;
  if (name === "ECDSA" && (key.algorithm as { namedCurve?: string }).namedCurve === "P-256") return "ES256";
  if (name === "Ed25519" || name === "EdDSA") return "EdDSA";
  throw new TypeError(`DPoP keys must be ES256 (P-256) or Ed25519, not ${name}`);
}

/** The URL a proof names: the one called, without query or fragment. */
export function htuOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

export async function createDpopProof(key: DpopKeyPair, method: string, url: string, accessToken?: string): Promise<string> {
  const jwk = await exportJWK(key.publicKey);
  const claims: Record<string, unknown> = { htm: method.toUpperCase(), htu: htuOf(url), iat: Math.floor(Date.now() / 1000), jti: crypto.randomUUID() };
  if (accessToken !== undefined) {
    claims.ath = base64url.encode(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(accessToken))));
  }
  return new SignJWT(claims).setProtectedHeader({ alg: algorithmOf(key.privateKey), typ: "dpop+jwt", jwk }).sign(key.privateKey);
}
