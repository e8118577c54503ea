import { randomBytes } from "node:crypto";
import { compactDecrypt, CompactEncrypt } from "jose";

/** A signing secret, and the one it replaced while the overlap window lasts. */
export interface EndpointSecrets {
  current: string;
  previous?: string;
  /** Epoch ms until which `previous` still signs beside `current`. */
  previousUntil?: number;
}

export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

/** The secrets that sign a delivery now: the current one, and the previous one during the overlap. */
export function liveSecrets(secrets: EndpointSecrets, now = Date.now()): string[] {
  return secrets.previous && (secrets.previousUntil ?? 0) > now ? [secrets.current, secrets.previous] : [secrets.current];
}

/**
 * Webhook secrets at rest: a JWE (dir, A256GCM) under the key-encryption key from configuration,
 * the way signing keys are kept (gateway/auth/signing-keys.ts). The dispatcher needs the secret
 * itself to sign, so it is encrypted, not hashed.
 */
export class SecretBox {
  constructor(private readonly keyEncryptionKey: Uint8Array) {}

  async seal(secrets: EndpointSecrets): Promise<string> {
    return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(secrets))).setProtectedHeader({ alg: "dir", enc: "A256GCM", cty: "whsec" }).encrypt(this.keyEncryptionKey);
  }

  async open(sealed: string): Promise<EndpointSecrets> {
    const { plaintext } = await compactDecrypt(sealed, this.keyEncryptionKey);
    return JSON.parse(new TextDecoder().decode(plaintext)) as EndpointSecrets;
  }
}
