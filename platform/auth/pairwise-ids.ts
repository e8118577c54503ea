// Pairwise pseudonymous person ids (issue 16, item 6). Inside, a person is one id (`User.id`, the
// federation key); each partner client sees its own id for that person, different per client and
// per environment, so two clients comparing notes cannot tell they serve the same person.
//
// The id a client sees is our id encrypted deterministically (a synthetic-IV construction, as in
// RFC 5297's SIV mode, with HMAC-SHA-256 and AES-256-CTR) under a key derived for that client and
// environment: derived, so no table maps ids; reversible by the gateway alone, so an id a client
// sends back is translated without a look-up; authenticated, so an id made up, or one meant for
// another client, decrypts to nothing. Same person, same client: always the same id.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, timingSafeEqual } from "node:crypto";

export type Environment = "sandbox" | "live";

/** What every pairwise id starts with; our own ids (`USR_...`) never do. */
export const PAIRWISE_PREFIX = "usr_";

/** Bytes of the synthetic IV kept in the id: its authentication tag (96 bits). */
const TAG_BYTES = 12;

/**
 * The documented exception: the brief's sandbox client `of_lab_demo` sees our own ids in the
 * sandbox, so the brief's examples (`USR_42891`) run as written. Synthetic people only.
 */
export const OWN_ID_CLIENTS: ReadonlyMap<string, Environment> = new Map([["of_lab_demo", "sandbox"]]);

interface ClientKeys {
  mac: Buffer;
  cipher: Buffer;
}

export class PairwiseIds {
  private readonly keys = new Map<string, ClientKeys>();

  /** `secret`: the deployment's key (PAIRWISE_ID_KEY, else derived from KEY_ENCRYPTION_KEY). */
  constructor(private readonly secret: Uint8Array) {}

  /** Whether `clientId` sees our own ids in `environment` (OWN_ID_CLIENTS): nothing to translate. */
  keepsOwnIds(clientId: string, environment: Environment): boolean {
    return sameIds(clientId, environment);
  }

  /** The id `clientId` sees in `environment` for our person `internalId`. */
  external(clientId: string, environment: Environment, internalId: string): string {
    if (sameIds(clientId, environment)) return internalId;
    const keys = this.keysFor(clientId, environment);
    const plain = Buffer.from(internalId, "utf8");
    const tag = createHmac("sha256", keys.mac).update(plain).digest().subarray(0, TAG_BYTES);
    const cipher = createCipheriv("aes-256-ctr", keys.cipher, counterBlock(tag));
    return PAIRWISE_PREFIX + Buffer.concat([tag, cipher.update(plain), cipher.final()]).toString("base64url");
  }

  /** Our id for what `clientId` sent; undefined when it is not an id this client was given. */
  internal(clientId: string, environment: Environment, externalId: string): string | undefined {
    if (sameIds(clientId, environment)) return externalId;
    if (!externalId.startsWith(PAIRWISE_PREFIX) || externalId.length > 96) return undefined;
    const raw = Buffer.from(externalId.slice(PAIRWISE_PREFIX.length), "base64url");
    if (raw.length <= TAG_BYTES || raw.toString("base64url") !== externalId.slice(PAIRWISE_PREFIX.length)) return undefined;
    const keys = this.keysFor(clientId, environment);
    const tag = raw.subarray(0, TAG_BYTES);
    const decipher = createDecipheriv("aes-256-ctr", keys.cipher, counterBlock(tag));
    const plain = Buffer.concat([decipher.update(raw.subarray(TAG_BYTES)), decipher.final()]);
    const expected = createHmac("sha256", keys.mac).update(plain).digest().subarray(0, TAG_BYTES);
    return timingSafeEqual(tag, expected) ? plain.toString("utf8") : undefined;
  }

  /** Translates every id the client sends back to ours; undefined for an id it was never given. */
  private keysFor(clientId: string, environment: Environment): ClientKeys {
    const name = `${environment}\u0000${clientId}`;
    let keys = this.keys.get(name);
    if (!keys) {
      const material = Buffer.from(hkdfSync("sha256", this.secret, Buffer.from("kamina-pairwise-ids-v1"), Buffer.from(name, "utf8"), 64));
      keys = { mac: material.subarray(0, 32), cipher: material.subarray(32) };
      this.keys.set(name, keys);
    }
    return keys;
  }
}

/** A client's environment, from its row. */
export function environmentOf(client: { sandbox: boolean }): Environment {
  return client.sandbox ? "sandbox" : "live";
}

function sameIds(clientId: string, environment: Environment): boolean {
  return OWN_ID_CLIENTS.get(clientId) === environment;
}

/** AES-CTR's first counter block: the tag, then a 32-bit block counter from zero. */
function counterBlock(tag: Buffer): Buffer {
  return Buffer.concat([tag, Buffer.alloc(16 - TAG_BYTES)]);
}

/** The deployment's pairwise key: PAIRWISE_ID_KEY when set, else derived from the key-encryption key. */
export function pairwiseSecret(explicit: Uint8Array | undefined, keyEncryptionKey: Uint8Array): Uint8Array {
  return explicit ?? Buffer.from(hkdfSync("sha256", keyEncryptionKey, Buffer.alloc(0), Buffer.from("kamina-pairwise-secret-v1"), 32));
}
