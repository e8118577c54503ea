// `npm run keys:rotate -- [--new-data-keys] [--reencrypt] [--batch N]`: key rotation for
// encryption at rest (platform/encryption), with the servers running.
//   (always)          re-wraps every data key not wrapped by the current KEY_ENCRYPTION_KEY, and
//                     seals the signing keys and webhook secrets again under it; the old KEK
//                     must still be listed in KEY_ENCRYPTION_KEY_PREVIOUS
//   --new-data-keys   gives every tenant a fresh data key; the old ones stay to open old values
//   --reencrypt       seals every encrypted column's rows again with the active data keys, in
//                     batches (also seals rows still plaintext from before encryption), and
//                     rewrites the partner ids' lookup digests under the current KEK
// Works on DATABASE_URL, else the embedded PGlite under DATA_DIR (with the server stopped).
// Exit codes: 0 done, 1 failed, 2 bad arguments.
import { loadConfig } from "../platform/config/config.ts";
import { DataKeyRing, DataKeyTable } from "../platform/encryption/data-keys.ts";
import { ENCRYPTED_COLUMNS, KEK_SEALED_COLUMNS } from "../platform/encryption/encrypted-columns.ts";
import { KekJwe } from "../platform/encryption/kek-jwe.ts";
import { PartnerIds } from "../platform/partner-ids/partner-ids.ts";
import { FieldVault } from "../platform/encryption/field-vault.ts";
import { reencryptColumn, resealKekColumn, rewrapDataKeys, rotateDataKeys } from "../platform/encryption/key-rotation.ts";
import { keyEncryptionKeyProvider, prismaQuery } from "../platform/encryption/vault-factory.ts";
import { Country } from "../generated/prisma/enums.ts";
import { runCommand, withDatabase } from "./operator-command.ts";

const USAGE = `usage: npm run keys:rotate -- [--new-data-keys] [--reencrypt] [--batch N]
  (always)          re-wrap data keys, signing keys and webhook secrets under the current KEY_ENCRYPTION_KEY
  --new-data-keys   create a fresh data key per tenant (old ones kept for reading)
  --reencrypt       seal every encrypted row again with its tenant's active data key
  --batch N         rows per re-encryption batch (default 500)
environment: KEY_ENCRYPTION_KEY, KEY_ENCRYPTION_KEY_PREVIOUS (the KEK(s) being rotated away from),
             DATABASE_URL (else embedded PGlite under DATA_DIR)`;

interface Arguments {
  newDataKeys: boolean;
  reencrypt: boolean;
  batchSize: number;
}

function parseArguments(argv: readonly string[]): Arguments | string {
  const args: Arguments = { newDataKeys: false, reencrypt: false, batchSize: 500 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--new-data-keys") args.newDataKeys = true;
    else if (arg === "--reencrypt") args.reencrypt = true;
    else if (arg === "--batch") {
      const raw = argv[++i] ?? "";
      if (!/^\d{1,6}$/.test(raw) || Number(raw) < 1) return `--batch needs a positive integer, got "${raw}"`;
      args.batchSize = Number(raw);
    } else return `unknown argument "${arg}"`;
  }
  return args;
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  const args = parseArguments(argv);
  if (typeof args === "string") {
    console.error(`keys:rotate: ${args}\n${USAGE}`);
    return 2;
  }
  const { tokens } = loadConfig();
  const provider = keyEncryptionKeyProvider({ keyEncryptionKey: tokens.keyEncryptionKey, previousKeyEncryptionKeys: tokens.previousKeyEncryptionKeys });
  return withDatabase(async (prisma, where) => {
    const query = prismaQuery(prisma);
    const table = new DataKeyTable(query);
    const rewrap = await rewrapDataKeys(table, provider);
    console.log(`re-wrapped ${rewrap.rewrapped} data keys under ${provider.currentKeyId} (${rewrap.alreadyCurrent} already were) in ${where}`);
    const jwe = new KekJwe(tokens);
    for (const column of KEK_SEALED_COLUMNS) {
      const resealed = await resealKekColumn(query, jwe, column);
      console.log(`${column.table}.${column.valueColumn}: ${resealed.rewrapped} sealed again under the current KEY_ENCRYPTION_KEY (${resealed.alreadyCurrent} already were)`);
    }
    if (args.newDataKeys) {
      const created = await rotateDataKeys((work) => prisma.$transaction((tx) => work(prismaQuery(tx))), provider, Object.values(Country));
      console.log(`new active data keys: ${Object.entries(created).map(([country, id]) => `${country} ${id}`).join(", ")}`);
    }
    if (args.reencrypt) {
      const ring = new DataKeyRing(table, provider);
      const vault = new FieldVault(ring);
      for (const column of ENCRYPTED_COLUMNS) {
        const report = await reencryptColumn(query, ring, vault, column, {
          batchSize: args.batchSize,
          onBatch: (progress) => console.log(`  ${progress.table}: ${progress.resealed} rows sealed again after ${progress.batches} batches`),
        });
        console.log(`${report.table}.${column.valueColumn}: ${report.resealed} rows sealed with the active keys (${report.wasPlaintext} were plaintext)`);
      }
      // Lookup digests are keyed by the KEK, not the data keys: rewritten under the current one.
      const digests = await new PartnerIds(prisma, vault, [tokens.keyEncryptionKey]).refreshDigests(args.batchSize);
      console.log(`partner_person_id.digest: ${digests} rows rewritten under the current KEY_ENCRYPTION_KEY`);
    }
    return 0;
  });
}

runCommand("keys:rotate", main);
