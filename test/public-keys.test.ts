// The token-signing public keys every verifier holds: refreshed from the database without
// making a verification wait for the refresh.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { exportJWK, generateKeyPair } from "jose";
import pg from "pg";
import { PublicKeyStore } from "../platform/auth/public-keys.ts";
import { allTenants, createPrismaClient, type PrismaClient } from "../platform/database/database.ts";
import { createTestDatabase, type TestDatabase } from "../testkit/postgres.ts";

const REFRESH_MS = 100;

describe("the public key store", () => {
  let database: TestDatabase;
  let sql: pg.Client;
  let prisma: PrismaClient;

  before(async () => {
    database = await createTestDatabase();
    sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
    prisma = createPrismaClient({ kind: "postgres", url: database.url, poolSize: 2 }, { access: allTenants("test") });
  });
  after(async () => {
    await prisma?.$disconnect();
    await sql?.end();
    await database?.drop();
  });

  async function insertKey(client: pg.Client, kid: string): Promise<void> {
    const { publicKey } = await generateKeyPair("EdDSA", { extractable: true });
    await client.query("INSERT INTO signing_key (kid, alg, public_jwk, private_jwe, active_from) VALUES ($1, 'EdDSA', $2, 'unused', now())", [kid, await exportJWK(publicKey)]);
  }

  test("a due refresh runs behind the verifications: they keep the keys in hand meanwhile, and then see the database's changes", async () => {
    await insertKey(sql, "kid_first");
    const store = new PublicKeyStore(prisma, REFRESH_MS);
    assert.ok(await store.get("kid_first", "EdDSA"), "the first key, loaded on first use");

    // The refresh's read will wait for this transaction, which retires the first key past its
    // grace period and adds a second one.
    const locker = new pg.Client({ connectionString: database.url });
    await locker.connect();
    try {
      await locker.query("BEGIN");
      await locker.query("LOCK TABLE signing_key IN ACCESS EXCLUSIVE MODE");
      await locker.query("UPDATE signing_key SET retired_at = now() - interval '2 days' WHERE kid = 'kid_first'");
      await insertKey(locker, "kid_second");
      await new Promise((resolve) => setTimeout(resolve, REFRESH_MS * 2));

      const answer = await Promise.race([store.get("kid_first", "EdDSA"), new Promise<string>((resolve) => setTimeout(() => resolve("still waiting"), 1_000))]);
      assert.notEqual(answer, "still waiting", "a verification waited for the refresh");
      assert.ok(answer, "the key in hand still verifies while the refresh waits");

      await locker.query("COMMIT");
    } finally {
      await locker.end();
    }
    const deadline = Date.now() + 5_000;
    while (await store.get("kid_first", "EdDSA")) {
      assert.ok(Date.now() < deadline, "the refresh never dropped the retired key");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(await store.get("kid_second", "EdDSA"), "the refresh brought the new key");
  });

  test("an unknown kid waits for a reload, so a key rotated in elsewhere verifies at once", async () => {
    const store = new PublicKeyStore(prisma, REFRESH_MS);
    assert.ok(await store.get("kid_second", "EdDSA"));
    await new Promise((resolve) => setTimeout(resolve, 2_100)); // past MIN_RELOAD_GAP_MS
    await insertKey(sql, "kid_third");
    assert.ok(await store.get("kid_third", "EdDSA"));
    assert.equal(await store.get("kid_third", "RS256"), undefined, "a key answers only for its own algorithm");
    assert.equal(await store.get("kid_unknown", "EdDSA"), undefined);
  });
});
