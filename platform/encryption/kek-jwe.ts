// Secrets a service must read back whole (the token-signing keys' private halves, webhook signing
// secrets) are sealed as compact JWE (dir, A256GCM) directly under the key-encryption key. During a
// KEK rotation a value sealed under a key being rotated away from (KEY_ENCRYPTION_KEY_PREVIOUS)
// still opens, and says so, until `npm run keys:rotate` seals it again under the current key.
import { compactDecrypt, CompactEncrypt, decodeProtectedHeader, errors, type CompactJWEHeaderParameters } from "jose";
import { DecryptionError } from "./aes-gcm.ts";
import type { KeyEncryptionKeys } from "./vault-factory.ts";

interface Opened {
  plaintext: Uint8Array;
  /** Sealed under the current KEK; false: under a previous one, to be sealed again. */
  current: boolean;
}

export class KekJwe {
  private readonly current: Uint8Array;
  private readonly previous: readonly Uint8Array[];

  constructor(keys: KeyEncryptionKeys) {
    this.current = keys.keyEncryptionKey;
    this.previous = keys.previousKeyEncryptionKeys ?? [];
  }

  /** `value` as JSON; `header`: what the JWE names besides its algorithms (a key id, a content type). */
  seal(value: unknown, header: Omit<CompactJWEHeaderParameters, "alg" | "enc"> = {}): Promise<string> {
    return this.sealBytes(new TextEncoder().encode(JSON.stringify(value)), header);
  }

  /** The value `seal` was given, whichever configured KEK it was sealed under. */
  async open<T>(sealed: string): Promise<T> {
    return JSON.parse(new TextDecoder().decode((await this.openBytes(sealed)).plaintext)) as T;
  }

  /** The same plaintext and header sealed under the current KEK, or null when it already is. */
  async resealed(sealed: string): Promise<string | null> {
    const opened = await this.openBytes(sealed);
    if (opened.current) return null;
    const { alg: _alg, enc: _enc, ...header } = decodeProtectedHeader(sealed);
    return this.sealBytes(opened.plaintext, header);
  }

  private sealBytes(plaintext: Uint8Array, header: Omit<CompactJWEHeaderParameters, "alg" | "enc">): Promise<string> {
    return new CompactEncrypt(plaintext).setProtectedHeader({ ...header, alg: "dir", enc: "A256GCM" }).encrypt(this.current);
  }

  private async openBytes(sealed: string): Promise<Opened> {
    for (const [index, key] of [this.current, ...this.previous].entries()) {
      try {
        const { plaintext } = await compactDecrypt(sealed, key);
        return { plaintext, current: index === 0 };
      } catch (error) {
        // Another key's tag fails; anything else (a malformed JWE) fails the same way under every key.
        if (!(error instanceof errors.JWEDecryptionFailed)) throw error;
      }
    }
    throw new DecryptionError("a secret sealed under the key-encryption key opens under neither KEY_ENCRYPTION_KEY nor any KEY_ENCRYPTION_KEY_PREVIOUS");
  }
}
