// The seed writes coach transcripts sealed, like the app does: each tenant's active data key is
// found (or created) inside the seed's transaction, then every transcript is sealed in memory
// before its COPY. Ciphertexts differ between runs (fresh keys and IVs); the plaintext does not.
import { COUNTRIES, type CountryCode } from "./catalogue.ts";
import { DataKeyTable, newDataKey, type UnwrappedKey, wrapContext } from "../../platform/encryption/data-keys.ts";
import { COACH_TRANSCRIPT_TEXT } from "../../platform/encryption/encrypted-columns.ts";
import { sealWithKey } from "../../platform/encryption/field-vault.ts";
import { LocalKeyEncryptionKeyProvider } from "../../platform/encryption/key-encryption-key.ts";
import type { SealedTranscriptRow, TranscriptRow } from "./rows.ts";
import type { SqlSession } from "./session.ts";

export interface SeedDataKeys {
  sealTranscript(row: TranscriptRow): SealedTranscriptRow;
}

export async function seedDataKeys(session: SqlSession, keyEncryptionKey: Uint8Array): Promise<SeedDataKeys> {
  const provider = new LocalKeyEncryptionKeyProvider(keyEncryptionKey);
  const table = new DataKeyTable((text, params) => session.query(text, params));
  const keys = new Map<CountryCode, UnwrappedKey>();
  for (const country of COUNTRIES) {
    const existing = await table.active(country);
    if (existing) {
      keys.set(country, { id: existing.id, country, key: await provider.unwrap(existing.wrappedKey, existing.kekId, wrapContext(existing.id, country)) });
      continue;
    }
    const created = await newDataKey(country, provider);
    await table.insertActive(created.row);
    keys.set(country, { id: created.row.id, country, key: created.key });
  }
  return {
    sealTranscript(row) {
      const key = keys.get(row.country);
      if (!key) throw new Error(`no data key for ${row.country}`);
      const { sealed, dataKeyId } = sealWithKey(key, row.text, COACH_TRANSCRIPT_TEXT.context(row.sessionId));
      return { ...row, text: sealed, dataKeyId };
    },
  };
}
