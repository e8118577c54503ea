import { KekMac } from "../../platform/auth/kek-mac.ts";

export type DownloadCheck = "valid" | "bad-signature" | "expired";

/**
 * Signed download URLs, the way S3 presigns one: the URL itself is the credential, valid until
 * `expires` (Unix seconds). HMAC-SHA256 over the method, the path, the client the export
 * belongs to and the expiry, keyed with a key derived (HKDF) from the key-encryption key every
 * gateway instance shares, so any instance verifies what another signed. Changing any of them
 * (another job's path, a later expiry) breaks the signature. Checked under the previous KEKs
 * too (KekMac): a URL handed out before a KEK rotation works until it expires.
 */
export class DownloadSigner {
  private readonly mac: KekMac;

  constructor(keyEncryptionKey: Uint8Array, previousKeyEncryptionKeys: readonly Uint8Array[] = []) {
    this.mac = new KekMac("kamina-graph export download url v1", keyEncryptionKey, previousKeyEncryptionKeys);
  }

  sign(method: string, path: string, clientId: string, expires: number): string {
    return this.mac.make(signedText(method, path, clientId, expires)).toString("base64url");
  }

  /** The signature first: an expired URL is only reported as expired once it is known to be genuine. */
  check(method: string, path: string, clientId: string, expires: number, signature: string, now = Date.now()): DownloadCheck {
    if (!this.mac.matches(Buffer.from(signature, "base64url"), signedText(method, path, clientId, expires))) return "bad-signature";
    return expires * 1000 <= now ? "expired" : "valid";
  }
}

function signedText(method: string, path: string, clientId: string, expires: number): string {
  return `${method}\n${path}\n${clientId}\n${expires}`;
}
