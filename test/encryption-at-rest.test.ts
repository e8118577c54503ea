// Encryption at rest, read the way an attacker with a database dump would: the raw columns of
// the seeded coach transcripts hold envelopes and no plaintext; a flipped byte, a value moved to
// another row or tenant, or the wrong key-encryption key opens nothing; and `npm run keys:rotate`
// re-wraps the data keys under a new KEK, gives each tenant a new data key and seals every row
// again, while values keep reading the same.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { allTenants, createPrismaClient, type PrismaClient } from "../platform/database/database.ts";
import { DecryptionError } from "../platform/encryption/aes-gcm.ts";
import { DataKeyRing, DataKeyTable } from "../platform/encryption/data-keys.ts";
import { COACH_TRANSCRIPT_TEXT } from "../platform/encryption/encrypted-columns.ts";
import { FieldVault } from "../platform/encryption/field-vault.ts";
import { LocalKeyEncryptionKeyProvider, localKeyId } from "../platform/encryption/key-encryption-key.ts";
import { createFieldVault, prismaQuery } from "../platform/encryption/vault-factory.ts";
import { seedDatabase } from "../prisma/seed/index.ts";
import { SigningKeys } from "../gateway/auth/signing-keys.ts";
import { SecretBox } from "../realtime/webhooks/webhook-secrets.ts";
import { createTestDatabase, type TestDatabase } from "../testkit/postgres.ts";

const run = promisify(execFile);
const KEK_1 = randomBytes(32);
const KEK_2 = randomBytes(32);
const KEK_3 = randomBytes(32);

interface RawTranscript {
  session_id: string;
  country: "EC" | "MX" | "PE" | "CO" | "CL";
  text: string;
  data_key_id: string | null;
}

describe("encryption at rest: coach transcripts", () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  const raw = () => prisma.$queryRawUnsafe<RawTranscript[]>(`SELECT session_id, country::text AS country, text, data_key_id FROM coach_transcript ORDER BY session_id`);
  const vaultWith = (current: Uint8Array, previous: Uint8Array[] = []) =>
    new FieldVault(new DataKeyRing(new DataKeyTable(prismaQuery(prisma)), new LocalKeyEncryptionKeyProvider(current, previous)));
  const openAll = async (vault: FieldVault) =>
    Promise.all((await raw()).map((row) => vault.decrypt(row.country, row.text, COACH_TRANSCRIPT_TEXT.context(row.session_id))));

  before(async () => {
    database = await createTestDatabase();
    await seedDatabase({ kind: "postgres", url: database.url, poolSize: 2 }, { users: 60, seed: 21, sandboxClientSecret: "kamina-sandbox-secret", keyEncryptionKey: KEK_1 });
    prisma = createPrismaClient({ kind: "postgres", url: database.url, poolSize: 2 }, { access: allTenants("test") });
  });
  after(async () => {
    await prisma?.$disconnect();
    await database?.drop();
  });

  test("the raw column holds envelopes naming their tenant's data key, and no plaintext", async () => {
    const rows = await raw();
    assert.ok(rows.length >= 3, `the seed wrote transcripts (${rows.length})`);
    const keys = await prisma.dataKey.findMany();
    assert.deepEqual(new Set(keys.map((key) => key.country)), new Set(["EC", "MX", "PE", "CO", "CL"]), "one data key per tenant");
    const plaintexts = await openAll(createFieldVault(prisma, { keyEncryptionKey: KEK_1 }));
    const dump = (await prisma.$queryRawUnsafe<{ row: string }[]>(`SELECT t::text AS row FROM coach_transcript t`)).map((row) => row.row).join("\n");
    for (const [i, row] of rows.entries()) {
      assert.match(row.text, /^kge1:dk_[A-Z]{2}_[0-9a-f]{20}:[A-Za-z0-9_-]+$/);
      const key = keys.find((candidate) => candidate.id === row.data_key_id);
      assert.equal(key?.country, row.country, "sealed with its own tenant's key, named in its column");
      const plaintext = plaintexts[i] as string;
      assert.ok(plaintext.length > 20 && /\s/.test(plaintext), "opens to the Spanish text");
      // No run of the text survives in the dump (a 12-character window of it would be a leak).
      for (let at = 0; at + 12 <= plaintext.length; at += 12) assert.ok(!dump.includes(plaintext.slice(at, at + 12)), "no plaintext in the raw column");
    }
    for (const key of keys) {
      assert.equal(key.kekId, localKeyId(KEK_1));
      assert.ok(!key.wrappedKey.includes(KEK_1.toString("base64url")), "the KEK is never stored");
    }
  });

  test("a flipped byte, a value moved to another row or tenant, or the wrong KEK opens nothing", async () => {
    const [first, second] = await raw();
    assert.ok(first && second);
    const vault = createFieldVault(prisma, { keyEncryptionKey: KEK_1 });
    const body = Buffer.from(first.text.split(":")[2] as string, "base64url");
    body[body.length - 20] = (body[body.length - 20] as number) ^ 0x01;
    const flipped = `${first.text.split(":").slice(0, 2).join(":")}:${body.toString("base64url")}`;
    await assert.rejects(vault.decrypt(first.country, flipped, COACH_TRANSCRIPT_TEXT.context(first.session_id)), DecryptionError);
    await assert.rejects(vault.decrypt(first.country, first.text, COACH_TRANSCRIPT_TEXT.context(second.session_id)), DecryptionError, "bound to its row");
    const otherTenant = first.country === "MX" ? "EC" : "MX";
    await assert.rejects(vault.decrypt(otherTenant, first.text, COACH_TRANSCRIPT_TEXT.context(first.session_id)), DecryptionError, "bound to its tenant");
    await assert.rejects(vault.decrypt(first.country, "not an envelope", COACH_TRANSCRIPT_TEXT.context(first.session_id)), DecryptionError);
    await assert.rejects(vault.decrypt(first.country, `kge1:dk_MX_00000000000000000000:${body.toString("base64url")}`, "x"), DecryptionError, "an unknown key id");
    await assert.rejects(openAll(vaultWith(randomBytes(32))), DecryptionError, "another KEK does not unwrap the data keys");
    // A wrapped data key moved to another key's row does not unwrap there either.
    const [a, b] = await prisma.dataKey.findMany({ orderBy: { id: "asc" } });
    assert.ok(a && b);
    const provider = new LocalKeyEncryptionKeyProvider(KEK_1);
    await assert.rejects(provider.unwrap(a.wrappedKey, a.kekId, `data_key|${b.id}|${b.country}`), DecryptionError);
  });

  test("two instances sealing a tenant's first value agree on one data key", async () => {
    await prisma.dataKey.updateMany({ where: { country: "CL" }, data: { retiredAt: new Date() } });
    const vaults = [vaultWith(KEK_1), vaultWith(KEK_1), vaultWith(KEK_1)];
    const sealed = await Promise.all(vaults.map((vault) => vault.encrypt("CL", "hola", "race")));
    assert.equal(new Set(sealed.map((value) => value.dataKeyId)).size, 1);
    assert.equal(await prisma.dataKey.count({ where: { country: "CL", retiredAt: null } }), 1);
    for (const value of sealed) assert.equal(await vaults[0]!.decrypt("CL", value.sealed, "race"), "hola");
  });

  test("keys:rotate re-wraps under a new KEK, makes new data keys and seals every row again, old plaintext rows too", async () => {
    const before = await openAll(vaultWith(KEK_1));
    // A row written before encryption existed: plaintext, no key id.
    const [session] = await prisma.coachSession.findMany({ where: { transcript: null }, take: 1 });
    assert.ok(session);
    await prisma.coachTranscript.create({ data: { sessionId: session.id, country: session.country, text: "texto antiguo sin cifrar del coach" } });
    const oldKeys = new Set((await prisma.dataKey.findMany()).map((key) => key.id));

    const env = {
      ...process.env,
      DATABASE_URL: database.url,
      KEY_ENCRYPTION_KEY: KEK_2.toString("base64url"),
      KEY_ENCRYPTION_KEY_PREVIOUS: KEK_1.toString("base64url"),
      LOG_LEVEL: "silent",
    };
    const { stdout } = await run("node", ["--import", "tsx", "scripts/keys-rotate.ts", "--new-data-keys", "--reencrypt", "--batch", "7"], { env });
    assert.match(stdout, /re-wrapped \d+ data keys under local-/);
    assert.match(stdout, /coach_transcript\.text: \d+ rows sealed with the active keys \(1 were plaintext\)/);

    const keys = await prisma.dataKey.findMany();
    assert.ok(keys.every((key) => key.kekId === localKeyId(KEK_2)), "every data key now wrapped by the new KEK");
    const active = keys.filter((key) => key.retiredAt === null);
    assert.equal(active.length, 5);
    assert.ok(active.every((key) => !oldKeys.has(key.id)), "fresh active keys");
    const rows = await raw();
    assert.ok(rows.every((row) => row.data_key_id !== null && active.some((key) => key.id === row.data_key_id)), "every row under an active key");
    assert.ok(!rows.some((row) => row.text.includes("texto antiguo")), "the old plaintext row is sealed now");

    // The new KEK alone reads everything, the same text as before; the old one alone reads nothing.
    const after = await openAll(vaultWith(KEK_2));
    assert.deepEqual(after.filter((text) => text !== "texto antiguo sin cifrar del coach"), before);
    assert.ok(after.includes("texto antiguo sin cifrar del coach"));
    await assert.rejects(openAll(vaultWith(KEK_1)), DecryptionError);

    // A second run has nothing left to do.
    const again = await run("node", ["--import", "tsx", "scripts/keys-rotate.ts", "--reencrypt"], { env });
    assert.match(again.stdout, /re-wrapped 0 data keys/);
    assert.match(again.stdout, /0 rows sealed with the active keys/);
  });

  test("signing keys and webhook secrets sealed under the old KEK keep working through a KEK change, and keys:rotate seals them under the new one", async () => {
    // Sealed under KEK_2: a signing key (its private half) and a webhook endpoint's secrets.
    const old = { keyEncryptionKey: KEK_2 };
    await new SigningKeys(prisma, old).ensureActiveKey();
    const secrets = { current: "whsec_current-secret-of-the-endpoint", previous: "whsec_previous-one", previousUntil: Date.now() + 60_000 };
    const client = await prisma.partnerClient.findFirstOrThrow({ select: { id: true } });
    await prisma.webhookEndpoint.create({ data: { id: "whe_kek_rotation", clientId: client.id, url: "https://example.com/hooks", events: ["alert.created"], secretEncrypted: await new SecretBox(old).seal(secrets) } });
    const sealedSecret = async () => (await prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: "whe_kek_rotation" } })).secretEncrypted;

    // The new KEK alone opens neither; beside the old one as previous, both open as before.
    const alone = { keyEncryptionKey: KEK_3 };
    const during = { keyEncryptionKey: KEK_3, previousKeyEncryptionKeys: [KEK_2] };
    await assert.rejects(new SecretBox(alone).open(await sealedSecret()), DecryptionError);
    await assert.rejects(new SigningKeys(prisma, alone).signer(), DecryptionError);
    assert.deepEqual(await new SecretBox(during).open(await sealedSecret()), secrets);
    const signer = await new SigningKeys(prisma, during).signer();

    const env = { ...process.env, DATABASE_URL: database.url, KEY_ENCRYPTION_KEY: KEK_3.toString("base64url"), KEY_ENCRYPTION_KEY_PREVIOUS: KEK_2.toString("base64url"), LOG_LEVEL: "silent" };
    const { stdout } = await run("node", ["--import", "tsx", "scripts/keys-rotate.ts"], { env });
    const signingKeys = await prisma.signingKey.count();
    assert.match(stdout, new RegExp(`signing_key\\.private_jwe: ${signingKeys} sealed again under the current KEY_ENCRYPTION_KEY \\(0 already were\\)`));
    assert.match(stdout, /webhook_endpoint\.secret_encrypted: 1 sealed again under the current KEY_ENCRYPTION_KEY \(0 already were\)/);

    // Now the new KEK alone opens both, to the same secrets and the same key; the old one alone opens nothing.
    assert.deepEqual(await new SecretBox(alone).open(await sealedSecret()), secrets);
    assert.equal((await new SigningKeys(prisma, alone).signer()).kid, signer.kid);
    await assert.rejects(new SecretBox(old).open(await sealedSecret()), DecryptionError);
    await assert.rejects(new SigningKeys(prisma, old).signer(), DecryptionError);
    const again = await run("node", ["--import", "tsx", "scripts/keys-rotate.ts"], { env });
    assert.match(again.stdout, /webhook_endpoint\.secret_encrypted: 0 sealed again under the current KEY_ENCRYPTION_KEY \(1 already were\)/);
  });

  test("keys:rotate refuses bad arguments with exit code 2", async () => {
    await assert.rejects(run("node", ["--import", "tsx", "scripts/keys-rotate.ts", "--batch", "0"], { env: { ...process.env, DATABASE_URL: database.url } }), (error: { code?: number; stderr?: string }) => {
      assert.equal(error.code, 2);
      assert.match(error.stderr ?? "", /--batch needs a positive integer/);
      return true;
    });
  });
});
