// Every column encrypted at rest, for the re-encryption pass of `npm run keys:rotate`. A new
// encrypted column adds itself here: its value column holds the envelope, its key column the
// data key id (null only for a row written before the column was encrypted: plaintext).
export interface EncryptedColumn {
  table: string;
  /** The row's primary key column (one column). */
  idColumn: string;
  /** The tenant column (`country`). */
  countryColumn: string;
  /** Holds the envelope (field-vault.ts). */
  valueColumn: string;
  /** Holds the data key id the value is sealed with. */
  keyColumn: string;
  /** The additional data the value is sealed under, from its row id. */
  context(rowId: string): string;
}

export const COACH_TRANSCRIPT_TEXT: EncryptedColumn = {
  table: "coach_transcript",
  idColumn: "session_id",
  countryColumn: "country",
  valueColumn: "text",
  keyColumn: "data_key_id",
  context: (sessionId) => `coach_transcript.text|${sessionId}`,
};

/** A partner's own id for a person (platform/partner-ids/); its lookup digest is not sealed, it is a keyed hash. */
export const PARTNER_PERSON_ID_VALUE: EncryptedColumn = {
  table: "partner_person_id",
  idColumn: "id",
  countryColumn: "country",
  valueColumn: "value",
  keyColumn: "data_key_id",
  context: (id) => `partner_person_id.value|${id}`,
};

export const ENCRYPTED_COLUMNS: readonly EncryptedColumn[] = [COACH_TRANSCRIPT_TEXT, PARTNER_PERSON_ID_VALUE];

/** A column of JWEs sealed directly under the key-encryption key (kek-jwe.ts): secrets a service reads back whole. */
export interface KekSealedColumn {
  table: string;
  /** The row's primary key column (one column). */
  idColumn: string;
  valueColumn: string;
}

/** Sealed again under the current KEK by every `npm run keys:rotate`. A new such column adds itself here. */
export const KEK_SEALED_COLUMNS: readonly KekSealedColumn[] = [
  { table: "signing_key", idColumn: "kid", valueColumn: "private_jwe" },
  { table: "webhook_endpoint", idColumn: "id", valueColumn: "secret_encrypted" },
];
