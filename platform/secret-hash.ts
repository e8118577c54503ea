// Client secrets are stored as scrypt hashes, never in the clear:
//   scrypt$N$r$p$<salt base64>$<hash base64>
// The parameters travel with the hash so they can be raised later without breaking the
// secrets already stored.
import { randomBytes, scrypt as scryptCallback, type ScryptOptions, timingSafeEqual } from "node:crypto";

const DEFAULT_COST = { N: 16_384, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
/** Upper bounds on what a stored hash may ask for, so a bad row cannot exhaust memory. */
const MAX_N = 1 << 20;
const MAX_R = 32;
const MAX_P = 16;

function scrypt(secret: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCallback(secret, salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

function memoryFor(N: number, r: number): number {
  // scrypt needs 128 * N * r bytes; leave headroom over Node's 32 MiB default.
  return 128 * N * r * 2 + 1024 * 1024;
}

export interface HashOptions {
  /** Fixed salt, for reproducible seed data only; a random 16-byte salt otherwise. */
  salt?: Buffer;
}

export async function hashSecret(secret: string, options: HashOptions = {}): Promise<string> {
  const salt = options.salt ?? randomBytes(SALT_LENGTH);
  const { N, r, p } = DEFAULT_COST;
  const key = await scrypt(secret, salt, KEY_LENGTH, { N, r, p, maxmem: memoryFor(N, r) });
  return ["scrypt", N, r, p, salt.toString("base64"), key.toString("base64")].join("$");
}

/** True when `secret` matches `stored`; false for a mismatch or a malformed hash. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![N, r, p].every(Number.isSafeInteger) || N < 2 || (N & (N - 1)) !== 0 || N > MAX_N) return false;
  if (r < 1 || r > MAX_R || p < 1 || p > MAX_P) return false;
  const salt = Buffer.from(parts[4] ?? "", "base64");
  const expected = Buffer.from(parts[5] ?? "", "base64");
  if (salt.length === 0 || expected.length === 0) return false;
  const actual = await scrypt(secret, salt, expected.length, { N, r, p, maxmem: memoryFor(N, r) });
  return timingSafeEqual(actual, expected);
}
