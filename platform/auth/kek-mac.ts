import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import { LOCAL_KEY_ENCRYPTION_KEY } from "../config/secret-policy.ts";

/**
 * HMAC-SHA256 between instances under a key derived (HKDF, one `purpose` each) from the
 * key-encryption key: made under the current KEK, checked under it and the previous ones
 * (KEY_ENCRYPTION_KEY_PREVIOUS), so a KEK rotation can roll through the instances one by one.
 * Never checked under the public local key unless it is the current one: a deployment moving off
 * it lists it as previous to unwrap its old data keys, and anyone can make a MAC with it.
 */
export class KekMac {
  /** The current KEK's first. */
  private readonly keys: Buffer[];

  constructor(purpose: string, keyEncryptionKey: Uint8Array, previousKeyEncryptionKeys: readonly Uint8Array[] = []) {
    const accepted = [keyEncryptionKey, ...previousKeyEncryptionKeys.filter((key) => !isPublicLocalKey(key))];
    this.keys = accepted.map((kek) => Buffer.from(hkdfSync("sha256", kek, new Uint8Array(0), purpose, 32)));
  }

  /** The MAC of `text` under the current KEK. */
  make(text: string): Buffer {
    return hmac(this.keys[0]!, text);
  }

  /** Whether `given` is the MAC of `text` under any accepted KEK (compared in constant time). */
  matches(given: Buffer, text: string): boolean {
    return this.keys.some((key) => {
      const expected = hmac(key, text);
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
  }
}

function hmac(key: Buffer, text: string): Buffer {
  return createHmac("sha256", key).update(text).digest();
}

function isPublicLocalKey(key: Uint8Array): boolean {
  return key.length === LOCAL_KEY_ENCRYPTION_KEY.length && timingSafeEqual(key, LOCAL_KEY_ENCRYPTION_KEY);
}
