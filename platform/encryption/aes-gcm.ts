// AES-256-GCM over node:crypto: the one cipher of encryption at rest, for wrapping data keys
// and for sealing fields. A fresh random 96-bit IV per message (NIST SP 800-38D's
// recommended length); the 128-bit tag authenticates the ciphertext and the additional data.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

export const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A sealed message: IV, ciphertext and tag, concatenated in that order. */
export function seal(key: Uint8Array, plaintext: Uint8Array, additionalData: string): Buffer {
  if (key.byteLength !== KEY_BYTES) throw new RangeError(`AES-256-GCM needs a ${KEY_BYTES}-byte key, got ${key.byteLength}`);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(additionalData, "utf8"));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

/** The plaintext, or DecryptionError when the key, the additional data or a byte is wrong. */
export function open(key: Uint8Array, sealed: Uint8Array, additionalData: string): Buffer {
  if (key.byteLength !== KEY_BYTES) throw new RangeError(`AES-256-GCM needs a ${KEY_BYTES}-byte key, got ${key.byteLength}`);
  if (sealed.byteLength < IV_BYTES + TAG_BYTES) throw new DecryptionError("sealed message too short");
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(additionalData, "utf8"));
  decipher.setAuthTag(bytes.subarray(bytes.byteLength - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.byteLength - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new DecryptionError("authentication failed: wrong key, wrong context or altered ciphertext");
  }
}

/** A ciphertext that does not open: never says which byte or key, and never carries plaintext. */
export class DecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DecryptionError";
  }
}
