import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";

export type DownloadCheck = "valid" | "bad-signature" | "expired";

/**
 * Signed download URLs, the way S3 presigns one: the URL itself is the credential, valid until
 * `expires` (Unix seconds). HMAC-SHA256 over the method, the path, the client the export
 * belongs to and the expiry, keyed with a key derived (HKDF) from the key-encryption key every
 * gateway instance shares, so any instance verifies what another signed. Changing any of them
 * (another job's path, a later expiry) breaks the signature.
 */
export class DownloadSigner {
  private readonly key: Buffer;

  constructor(keyEncryptionKey: Uint8Array) {
    this.key = Buffer.from(hkdfSync("sha256", keyEncryptionKey, new Uint8Array(0), "kamina-graph export download url v1", 32));
  }

  sign(method: string, path: string, clientId: string, expires: number): string {
    return createHmac("sha256", this.key).update(`${method}\n${path}\n${clientId}\n${expires}`, "utf8").digest("base64url");
  }

  /** The signature first: an expired URL is only reported as expired once it is known to be genuine. */
  check(method: string, path: string, clientId: string, expires: number, signature: string, now = Date.now()): DownloadCheck {
    const given = Buffer.from(signature, "base64url");
    const expected = Buffer.from(this.sign(method, path, clientId, expires), "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return "bad-signature";
    return expires * 1000 <= now ? "expired" : "valid";
  }
}
