// Envelope encryption of single fields: a value is sealed with its tenant's data key
// (AES-256-GCM) and stored as `kge1:<data key id>:<IV|ciphertext|tag, base64url>`, so each
// value names the key that opens it. The additional data binds the tenant, the key id and the
// caller's context (table, column and row id): a sealed value copied to another row, column or
// tenant does not open.
import { createHmac, hkdfSync } from "node:crypto";
import type { Country } from "../../generated/prisma/enums.ts";
import { DecryptionError, open, seal } from "./aes-gcm.ts";
import type { DataKeyRing, UnwrappedKey } from "./data-keys.ts";

const PREFIX = "kge1";

export interface SealedField {
  /** What to store: the envelope. */
  sealed: string;
  /** The data key it was sealed with (also inside `sealed`); store it beside to find rows by key. */
  dataKeyId: string;
}

const additionalData = (country: Country, dataKeyId: string, context: string): string => `${PREFIX}|${country}|${dataKeyId}|${context}`;

/** Seals with a key already in hand (the seed, which creates its keys in its own transaction). */
export function sealWithKey(dataKey: UnwrappedKey, plaintext: string, context: string): SealedField {
  const body = seal(dataKey.key, Buffer.from(plaintext, "utf8"), additionalData(dataKey.country, dataKey.id, context));
  return { sealed: `${PREFIX}:${dataKey.id}:${body.toString("base64url")}`, dataKeyId: dataKey.id };
}

/** The data key id a sealed value names; DecryptionError when it is not an envelope. */
export function dataKeyIdOf(sealed: string): string {
  const parts = sealed.split(":");
  if (parts.length !== 3 || parts[0] !== PREFIX || !parts[1] || !parts[2]) throw new DecryptionError("not a kge1 envelope");
  return parts[1];
}

export class FieldVault {
  constructor(private readonly ring: DataKeyRing) {}

  /** Seals `plaintext` with `country`'s active data key. `context`: e.g. `coach_transcript.text|<session id>`. */
  async encrypt(country: Country, plaintext: string, context: string): Promise<SealedField> {
    return sealWithKey(await this.ring.active(country), plaintext, context);
  }

  /** Opens a value sealed for `country` under `context`; DecryptionError on any mismatch or alteration. */
  async decrypt(country: Country, sealed: string, context: string): Promise<string> {
    const dataKeyId = dataKeyIdOf(sealed);
    const key = await this.ring.byId(dataKeyId, country);
    const body = Buffer.from(sealed.slice(sealed.lastIndexOf(":") + 1), "base64url");
    return open(key.key, body, additionalData(country, dataKeyId, context)).toString("utf8");
  }

  /** True when the value is sealed with a key other than the tenant's active one (a re-encryption candidate). */
  async isStale(country: Country, sealed: string): Promise<boolean> {
    return dataKeyIdOf(sealed) !== (await this.ring.active(country)).id;
  }
}

/**
 * An equality-lookup digest (a "blind index") for an encrypted value that must also be found by
 * value, such as a partner's own customer id: HMAC-SHA256 under a key derived from the KEK for
 * this purpose alone. Deterministic by design, so only for values with many possible values;
 * rotating KEY_ENCRYPTION_KEY changes it (recompute from the decrypted values).
 */
export function lookupDigest(keyEncryptionKey: Uint8Array, purpose: string, value: string): string {
  const key = Buffer.from(hkdfSync("sha256", keyEncryptionKey, Buffer.alloc(0), `kamina-graph lookup digest v1|${purpose}`, 32));
  return createHmac("sha256", key).update(value, "utf8").digest("base64url");
}
