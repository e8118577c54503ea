import { createHash } from "node:crypto";
import { LruMap } from "../lru-map.ts";
import { KekMac } from "./kek-mac.ts";

/** The header every request to a subgraph carries: `v1,t=<unix ms>,s=<base64url HMAC-SHA256>`. */
export const GATEWAY_SIGNATURE_HEADER = "x-kamina-gateway-signature";
/** How far a signature's time may be from the subgraph's clock, either way. */
export const SIGNATURE_WINDOW_MS = 30_000;
/** A header longer than this is not one of ours: refused before anything is computed. */
const MAX_HEADER_LENGTH = 200;

/** What a signature covers: the method, the path with its query string, and the body's bytes. */
export interface SignedRequest {
  method: string;
  /** The request target: path and query string (`/graphql`, `/graphql?query=...`); a full URL is reduced to it. */
  target: string;
  body: string | Uint8Array;
}

/** Why a request was refused, for the subgraph's log (the caller only learns that it was). */
export type SignatureRefusal = "missing" | "malformed" | "stale" | "mismatch";

/**
 * Subgraphs serve only the gateway (and the project's own callers): every request to a
 * subgraph's GraphQL path carries an HMAC of its time, method, target and body, keyed with a
 * secret derived (HKDF) from the key-encryption key every instance of a deployment shares, so
 * there is no new secret to configure and the public local key is refused outside local use
 * (secret-policy.ts). A subgraph refuses, before parsing anything, a request without a valid
 * signature made within 30 s of its clock. What a subgraph would otherwise have to repeat (DPoP
 * method, URL and replay, consent receipts) the gateway has done for the request it signed.
 *
 * Signed under the current key-encryption key; verified under it and the previous ones
 * (KekMac), so a KEK rotation can roll through the instances (docs/operations.md, Rotating keys).
 */
export class GatewaySignature {
  private readonly mac: KekMac;

  constructor(keyEncryptionKey: Uint8Array, previousKeyEncryptionKeys: readonly Uint8Array[] = []) {
    this.mac = new KekMac("kamina-graph gateway request signature v1", keyEncryptionKey, previousKeyEncryptionKeys);
  }

  /** The header value for `request`, made at `now`. */
  sign(request: SignedRequest, now = Date.now()): string {
    const time = String(Math.trunc(now));
    return `v1,t=${time},s=${this.mac.make(signedText(time, request)).toString("base64url")}`;
  }

  /** Undefined when `header` is a current signature of `request`; else why not. */
  verify(header: string | undefined, request: SignedRequest, now = Date.now()): SignatureRefusal | undefined {
    if (header === undefined || header === "") return "missing";
    if (header.length > MAX_HEADER_LENGTH) return "malformed";
    const match = /^v1,t=(\d{1,15}),s=([A-Za-z0-9_-]{43})$/.exec(header);
    if (!match) return "malformed";
    const [, time, signature] = match as unknown as [string, string, string];
    if (Math.abs(now - Number(time)) > SIGNATURE_WINDOW_MS) return "stale";
    const given = Buffer.from(signature, "base64url");
    return this.mac.matches(given, signedText(time, request)) ? undefined : "mismatch";
  }
}

function signedText(time: string, request: SignedRequest): string {
  const bodyHash = createHash("sha256").update(request.body).digest("hex");
  return `v1\n${time}\n${request.method.toUpperCase()}\n${targetOf(request.target)}\n${bodyHash}`;
}

/** Full URLs signed lately (the gateway signs for a handful of subgraph URLs): parsed once each. */
const pathsOfUrls = new LruMap<string, string>(64);

/** `http://host:4002/graphql?x=1` and `/graphql?x=1` both name `/graphql?x=1`. */
function targetOf(target: string): string {
  if (target.startsWith("/")) return target;
  let path = pathsOfUrls.get(target);
  if (path === undefined) {
    const url = new URL(target);
    pathsOfUrls.set(target, (path = url.pathname + url.search));
  }
  return path;
}
