// The key-encryption key (KEK) that wraps each tenant's data keys. Behind an interface so a
// cloud KMS (AWS KMS Encrypt/Decrypt, GCP Cloud KMS, Azure Key Vault wrapKey) can fill it: the
// KEK then never leaves the KMS, and only data keys are unwrapped here. The local provider
// keeps the KEK from configuration (KEY_ENCRYPTION_KEY) in process.
import { createHash, hkdfSync } from "node:crypto";
import { DecryptionError, open, seal } from "./aes-gcm.ts";

export interface KeyEncryptionKeyProvider {
  /** The KEK new wraps use, e.g. `local-3f9a...` or a KMS key ARN. Stored beside each wrapped key. */
  readonly currentKeyId: string;
  /** Wraps a data key under the current KEK; `context` (data key id and tenant) is bound into it. */
  wrap(dataKey: Uint8Array, context: string): Promise<{ kekId: string; wrapped: string }>;
  /** Unwraps a data key wrapped by the KEK `kekId` (the current one or one still configured as previous). */
  unwrap(wrapped: string, kekId: string, context: string): Promise<Buffer>;
}

/**
 * The wrapping key is derived from KEY_ENCRYPTION_KEY with HKDF under its own label, because the
 * same configured secret also derives the gateway-signature and token-check-seal keys and encrypts
 * signing keys: one use can never stand in for another.
 */
function wrappingKey(keyEncryptionKey: Uint8Array): Buffer {
  return Buffer.from(hkdfSync("sha256", keyEncryptionKey, Buffer.alloc(0), "kamina-graph data-key wrapping v1", 32));
}

/** A public, stable name for a configured KEK: a digest prefix, never the key. */
export function localKeyId(keyEncryptionKey: Uint8Array): string {
  return `local-${createHash("sha256").update("kamina-graph kek id").update(keyEncryptionKey).digest("hex").slice(0, 16)}`;
}

export class LocalKeyEncryptionKeyProvider implements KeyEncryptionKeyProvider {
  readonly currentKeyId: string;
  private readonly keys = new Map<string, Buffer>();

  /** `previous`: KEKs being rotated away from (KEY_ENCRYPTION_KEY_PREVIOUS), for unwrapping only. */
  constructor(current: Uint8Array, previous: readonly Uint8Array[] = []) {
    this.currentKeyId = localKeyId(current);
    this.keys.set(this.currentKeyId, wrappingKey(current));
    for (const key of previous) if (!this.keys.has(localKeyId(key))) this.keys.set(localKeyId(key), wrappingKey(key));
  }

  async wrap(dataKey: Uint8Array, context: string): Promise<{ kekId: string; wrapped: string }> {
    const key = this.keys.get(this.currentKeyId) as Buffer;
    return { kekId: this.currentKeyId, wrapped: seal(key, dataKey, context).toString("base64url") };
  }

  async unwrap(wrapped: string, kekId: string, context: string): Promise<Buffer> {
    const key = this.keys.get(kekId);
    if (!key) throw new DecryptionError(`key-encryption key ${kekId} is not configured (set it as KEY_ENCRYPTION_KEY_PREVIOUS while rotating)`);
    return open(key, Buffer.from(wrapped, "base64url"), context);
  }
}
