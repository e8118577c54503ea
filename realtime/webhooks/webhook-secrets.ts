import { randomBytes } from "node:crypto";
import { KekJwe } from "../../platform/encryption/kek-jwe.ts";
import type { KeyEncryptionKeys } from "../../platform/encryption/vault-factory.ts";

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
 * Webhook secrets at rest: a JWE under the key-encryption key (platform/encryption/kek-jwe.ts),
 * the way signing keys are kept (gateway/auth/signing-keys.ts). The dispatcher needs the secret
 * itself to sign, so it is encrypted, not hashed.
 */
export class SecretBox {
  private readonly jwe: KekJwe;

  constructor(keys: KeyEncryptionKeys) {
    this.jwe = new KekJwe(keys);
  }

  seal(secrets: EndpointSecrets): Promise<string> {
    return this.jwe.seal(secrets, { cty: "whsec" });
  }

  open(sealed: string): Promise<EndpointSecrets> {
    return this.jwe.open<EndpointSecrets>(sealed);
  }
}
