import { timingSafeEqual } from "node:crypto";
import { LOCAL_KEY_ENCRYPTION_KEY } from "../config/secret-policy.ts";

/**
 * The key-encryption keys a MAC made by another instance is checked under: the current one,
 * then the previous ones (KEY_ENCRYPTION_KEY_PREVIOUS, during a rotation). Never the public local
 * key unless it is the current one: a deployment moving off it lists it as previous to unwrap
 * its old data keys, and must not accept what anyone can sign with it.
 */
export function acceptedKeys(current: Uint8Array, previous: readonly Uint8Array[]): Uint8Array[] {
  const isPublic = (key: Uint8Array) => key.length === LOCAL_KEY_ENCRYPTION_KEY.length && timingSafeEqual(key, LOCAL_KEY_ENCRYPTION_KEY);
  return [current, ...previous.filter((key) => !isPublic(key))];
}

/** Whether `given` is the MAC that `macUnder` makes under any of `keys` (compared in constant time). */
export function macUnderAny(given: Buffer, keys: readonly Buffer[], macUnder: (key: Buffer) => Buffer): boolean {
  return keys.some((key) => {
    const expected = macUnder(key);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
