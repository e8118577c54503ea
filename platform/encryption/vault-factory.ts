// The field vault of a process: the data_key table through its Prisma client, under the local
// KEK provider built from configuration. A deployment on a cloud KMS swaps the provider here.
import type { PrismaClient } from "../../generated/prisma/client.ts";
import { DataKeyRing, DataKeyTable, type DataKeyRingOptions, type SqlQuery } from "./data-keys.ts";
import { FieldVault } from "./field-vault.ts";
import { LocalKeyEncryptionKeyProvider, type KeyEncryptionKeyProvider } from "./key-encryption-key.ts";

export interface KeyEncryptionKeys {
  /** KEY_ENCRYPTION_KEY: wraps new and re-wrapped data keys. */
  keyEncryptionKey: Uint8Array;
  /** KEY_ENCRYPTION_KEY_PREVIOUS: still unwraps data keys wrapped before a KEK rotation. */
  previousKeyEncryptionKeys?: readonly Uint8Array[];
}

/** Statements through Prisma's raw query, parameters passed as $1..$n. */
export const prismaQuery =
  (prisma: Pick<PrismaClient, "$queryRawUnsafe">): SqlQuery =>
  <T>(text: string, params: unknown[]) =>
    prisma.$queryRawUnsafe<T[]>(text, ...params);

export function keyEncryptionKeyProvider(keys: KeyEncryptionKeys): KeyEncryptionKeyProvider {
  return new LocalKeyEncryptionKeyProvider(keys.keyEncryptionKey, keys.previousKeyEncryptionKeys ?? []);
}

export function createFieldVault(prisma: PrismaClient, keys: KeyEncryptionKeys, options: DataKeyRingOptions = {}): FieldVault {
  return new FieldVault(new DataKeyRing(new DataKeyTable(prismaQuery(prisma)), keyEncryptionKeyProvider(keys), options));
}
