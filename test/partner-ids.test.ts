// The partner's own ids (issue 21, item 1): the person links a client's customer id (and their
// credit-bureau id) in the Kamina app; that client then names the person by it at consent and
// reads it beside its pairwise id over GraphQL, REST, webhooks and exports. Another client never
// sees it and cannot use it; the table holds it sealed; erasure removes it. Hand-built people.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { PAIRWISE_PREFIX } from "../platform/auth/pairwise-ids.ts";
import { CLIENT_SCOPES, USER_SCOPES } from "../platform/auth/scopes.ts";
import type { PrismaClient } from "../platform/database/database.ts";
import { hashSecret } from "../platform/secret-hash.ts";
import { createFieldVault } from "../platform/encryption/vault-factory.ts";
import { PartnerIds } from "../platform/partner-ids/partner-ids.ts";
import type { TestDatabase } from "../testkit/postgres.ts";
import { basic, bearer, CONSENT_TEXT_VERSION } from "../testkit/tokens.ts";
import { Receiver } from "../testkit/webhook-receiver.ts";
import { postGraphQL } from "./support/kamina.ts";
import { startTestKamina } from "./support/kamina.ts";
import { createRealtimeDatabase, PERSON_A, PERSON_B, raiseAlert } from "./support/realtime.ts";
import { assertEnvelope, rest, type RestResponse } from "./support/rest.ts";

const CUSTOMER_ID = "CIF-000731-PT";
const BUREAU_ID = "BUREAU:MX/CURP-9921";

describe("a partner's own ids for a person", () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  const receiver = new Receiver();
  const secrets = { bank_a: randomBytes(12).toString("hex"), bank_b: randomBytes(12).toString("hex") };
  const credentials = (client: keyof typeof secrets) => basic(client, secrets[client]);
  const origin = () => kamina.gateway!.origin;
  const appKey = () => ({ "x-kamina-app-key": kamina.gateway!.auth.config.appApiKey });
  const link = (userId: string, clientId: string, json: unknown, headers = appKey()): Promise<RestResponse> =>
    rest(origin(), "PUT", `/v1/app/users/${userId}/partner-ids/${clientId}`, { headers, json });
  const askConsent = (client: keyof typeof secrets, person: Record<string, string>, scopes: readonly string[] = ["wellness.read", "alerts.read"]): Promise<RestResponse> =>
    rest(origin(), "POST", "/v1/auth/consent", {
      headers: credentials(client),
      json: { client_id: client, ...person, scopes, country: "MX", consent_text_version: CONSENT_TEXT_VERSION },
    });
  const clientCredentialsToken = async (client: keyof typeof secrets): Promise<string> => {
    const answer = await rest(origin(), "POST", "/v1/auth/token", { headers: credentials(client), form: { grant_type: "client_credentials" } });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body.access_token as string;
  };

  before(async () => {
    ({ database, prisma } = await createRealtimeDatabase());
    for (const id of ["bank_a", "bank_b"] as const) {
      await prisma.partnerClient.create({
        data: { id, name: id, secretHash: await hashSecret(secrets[id]), countries: ["MX"], allowedScopes: [...USER_SCOPES], clientScopes: [...CLIENT_SCOPES], sandbox: true },
      });
    }
    await prisma.wellnessSnapshot.create({
      data: {
        id: "snp_partner_ids_a", userId: PERSON_A, country: "MX", snapshotDate: new Date("2026-12-01"), score: 52, band: "AMBER", trend30d: 3,
        factors: [{ name: "debt_to_income", weight: 1, value: 0.3 }], actionPlan: [], computedAt: new Date("2026-12-01T10:00:00Z"), nextReviewAt: new Date("2027-01-01"),
      },
    });
    await receiver.start();
    kamina = await startTestKamina(
      { kind: "postgres", url: database.url, poolSize: 4 },
      { RELAY_POLL_MS: "100", WEBHOOK_POLL_MS: "50", EXPORT_POLL_MS: "100" },
    );
  });

  after(async () => {
    await kamina?.stop();
    await receiver.stop();
    await prisma?.$disconnect();
    await database?.drop();
  });

  test("the app links a client's ids; bad input, a wrong key, an unknown person or client and a taken id each get their code", async () => {
    const linked = await link(PERSON_A, "bank_a", { customer_id: CUSTOMER_ID, bureau_id: BUREAU_ID });
    assert.equal(linked.status, 200, JSON.stringify(linked.body));
    assert.deepEqual({ ...linked.body, linked_at: undefined }, { user_id: PERSON_A, client_id: "bank_a", customer_id: CUSTOMER_ID, bureau_id: BUREAU_ID, linked_at: undefined });
    const again = await link(PERSON_A, "bank_a", { customer_id: CUSTOMER_ID, bureau_id: BUREAU_ID });
    assert.equal(again.status, 200, "linking the same ids again is idempotent");
    assert.equal(await prisma.partnerPersonId.count({ where: { userId: PERSON_A, clientId: "bank_a" } }), 2);

    assertEnvelope(await link(PERSON_A, "bank_a", { customer_id: CUSTOMER_ID }, { "x-kamina-app-key": "not-the-key" }), 401, "UNAUTHENTICATED");
    assertEnvelope(await link(PERSON_A, "bank_a", { customer_id: CUSTOMER_ID }, {} as ReturnType<typeof appKey>), 401, "UNAUTHENTICATED");
    assertEnvelope(await link(PERSON_A, "bank_a", { customer_id: "has spaces" }), 400, "BAD_USER_INPUT", /customer_id/);
    assertEnvelope(await link(PERSON_A, "bank_a", { customer_id: "x".repeat(65) }), 400, "BAD_USER_INPUT", /customer_id/);
    assertEnvelope(await link(PERSON_A, "bank_a", { customer_id: CUSTOMER_ID, bureau_id: 42 }), 400, "BAD_USER_INPUT", /bureau_id/);
    assertEnvelope(await link(PERSON_A, "bank_a", { customer_id: CUSTOMER_ID, extra: 1 }), 400, "BAD_USER_INPUT");
    assertEnvelope(await link(PERSON_A, "bank_a", {}), 400, "BAD_USER_INPUT", /customer_id/);
    assertEnvelope(await link("USR_NOBODY", "bank_a", { customer_id: "C-1" }), 404, "NOT_FOUND", /person/);
    assertEnvelope(await link(PERSON_A, "no_such_bank", { customer_id: "C-1" }), 404, "NOT_FOUND", /client/);
    assertEnvelope(await link(PERSON_A, "bad%20client", { customer_id: "C-1" }), 400, "BAD_USER_INPUT", /client_id/);

    // The same customer id for another person at the same client: a conflict that names no id; at another client it is that client's own.
    const taken = await link(PERSON_B, "bank_a", { customer_id: CUSTOMER_ID });
    assertEnvelope(taken, 409, "CONFLICT", /customer_id/);
    assert.ok(!JSON.stringify(taken.body).includes(CUSTOMER_ID), "the conflict does not echo the id");
    assertEnvelope(await link(PERSON_B, "bank_a", { customer_id: "CIF-OTHER", bureau_id: BUREAU_ID }), 409, "CONFLICT", /bureau_id/);
    assert.equal(await prisma.partnerPersonId.count({ where: { userId: PERSON_B } }), 0, "a refused link leaves nothing behind");
    const elsewhere = await link(PERSON_B, "bank_b", { customer_id: CUSTOMER_ID });
    assert.equal(elsewhere.status, 200, JSON.stringify(elsewhere.body));
  });

  test("the client names the person by its customer id at consent; another client's customer id names nobody for it", async () => {
    const consent = await askConsent("bank_a", { customer_id: CUSTOMER_ID });
    assert.equal(consent.status, 200, JSON.stringify(consent.body));
    const view = await rest(origin(), "GET", `/v1/consents/${consent.body.consent_id}`, { headers: credentials("bank_a") });
    assert.ok(view.body.user_external_id.startsWith(PAIRWISE_PREFIX), "the consent shows bank_a's pairwise id");
    assert.equal((await prisma.consent.findUniqueOrThrow({ where: { id: consent.body.consent_id } })).userId, PERSON_A);

    // bank_b's own CIF-000731-PT is PERSON_B: the same string names another person there, never bank_a's.
    const other = await askConsent("bank_b", { customer_id: CUSTOMER_ID });
    assert.equal(other.status, 200, JSON.stringify(other.body));
    assert.equal((await prisma.consent.findUniqueOrThrow({ where: { id: other.body.consent_id } })).userId, PERSON_B);
    const unknown = await askConsent("bank_b", { customer_id: "CIF-NOT-LINKED" });
    assertEnvelope(unknown, 404, "NOT_FOUND");
    assert.ok(!unknown.body.message.includes("CIF-NOT-LINKED"), "the 404 does not echo the id");
    assertEnvelope(await askConsent("bank_b", { customer_id: CUSTOMER_ID, user_external_id: PERSON_A }), 400, "BAD_USER_INPUT", /exactly one/);
    assertEnvelope(await askConsent("bank_b", {}), 400, "BAD_USER_INPUT", /exactly one/);
    assertEnvelope(await askConsent("bank_b", { customer_id: "bad id!" }), 400, "BAD_USER_INPUT", /customer_id/);
  });

  test("GraphQL and REST show the client its own ids beside its pairwise id, and another client none", async () => {
    const a = (await askConsent("bank_a", { customer_id: CUSTOMER_ID })).body.access_token as string;
    const me = await postGraphQL(kamina.graphqlUrl, "{ me { id partnerRef { customerId bureauId linkedAt } } }", {}, bearer(a));
    assert.equal(me.body.errors, undefined, JSON.stringify(me.body.errors));
    assert.ok(me.body.data!.me.id.startsWith(PAIRWISE_PREFIX));
    assert.equal(me.body.data!.me.partnerRef.customerId, CUSTOMER_ID);
    assert.equal(me.body.data!.me.partnerRef.bureauId, BUREAU_ID);

    // bank_b's consent to PERSON_A (by the id the person gave it): PERSON_A linked nothing for bank_b.
    const b = (await askConsent("bank_b", { user_external_id: PERSON_A })).body.access_token as string;
    const theirs = await postGraphQL(kamina.graphqlUrl, "{ me { id partnerRef { customerId bureauId } } }", {}, bearer(b));
    assert.equal(theirs.body.data!.me.partnerRef, null);
    assert.notEqual(theirs.body.data!.me.id, me.body.data!.me.id, "each client its own pairwise id");

    // A partner (client-credentials) token: the users it lists each carry its own ids only.
    const listed = await postGraphQL(kamina.graphqlUrl, "{ users(first: 10) { edges { node { id partnerRef { customerId } } } } }", {}, bearer(await clientCredentialsToken("bank_b")));
    const refs = listed.body.data!.users.edges.map((edge: { node: { partnerRef: { customerId: string } | null } }) => edge.node.partnerRef?.customerId ?? null).sort();
    assert.deepEqual(refs, [CUSTOMER_ID, null], "PERSON_B under bank_b's own id, PERSON_A with none");
    assert.ok(!JSON.stringify(listed.body).includes(BUREAU_ID));

    const latest = await rest(origin(), "GET", "/v1/diagnosis/latest", { headers: bearer(a) });
    assert.equal(latest.status, 200, JSON.stringify(latest.body));
    assert.deepEqual(Object.keys(latest.body).slice(0, 2), ["user_id", "partner_ref"]);
    assert.deepEqual(latest.body.partner_ref, { customer_id: CUSTOMER_ID, bureau_id: BUREAU_ID });
    const latestB = await rest(origin(), "GET", "/v1/diagnosis/latest", { headers: bearer(b) });
    assert.equal(latestB.status, 200, JSON.stringify(latestB.body));
    assert.ok(!("partner_ref" in latestB.body), "absent for a client with nothing linked: the brief's keys exactly");
  });

  test("the alert webhook carries the endpoint's client's ids only; the export carries the exporting client's only", async () => {
    const manage = (client: keyof typeof secrets) => ({ headers: credentials(client) });
    const hookA = await rest(origin(), "POST", "/v1/webhooks", { ...manage("bank_a"), json: { url: `${receiver.origin}/bank-a`, events: ["alert.created"] } });
    const hookB = await rest(origin(), "POST", "/v1/webhooks", { ...manage("bank_b"), json: { url: `${receiver.origin}/bank-b`, events: ["alert.created"] } });
    assert.equal(hookA.status, 201, JSON.stringify(hookA.body));
    assert.equal(hookB.status, 201, JSON.stringify(hookB.body));
    await raiseAlert(prisma, PERSON_A);
    const [toA] = await receiver.waitFor("/bank-a", 1);
    const [toB] = await receiver.waitFor("/bank-b", 1);
    const payloadA = JSON.parse(toA!.body);
    const payloadB = JSON.parse(toB!.body);
    assert.ok(payloadA.user_id.startsWith(PAIRWISE_PREFIX));
    assert.deepEqual(payloadA.partner_ref, { customer_id: CUSTOMER_ID, bureau_id: BUREAU_ID });
    assert.equal(payloadB.partner_ref, null);
    assert.ok(!toB!.body.includes(CUSTOMER_ID) && !toB!.body.includes(BUREAU_ID));

    const exportFor = async (client: keyof typeof secrets): Promise<Record<string, string>[]> => {
      const token = await clientCredentialsToken(client);
      const created = await rest(origin(), "POST", "/v1/exports/wellness", { headers: bearer(token), json: { format: "jsonl" } });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      for (let polls = 0; ; polls++) {
        const polled = await rest(origin(), "GET", created.body.poll_url, { headers: bearer(token) });
        if (polled.body.status === "succeeded") {
          const text = await (await fetch(polled.body.download_url)).text();
          return text.trim().split("\n").map((line) => JSON.parse(line) as Record<string, string>);
        }
        assert.ok(polls < 400 && ["queued", "running"].includes(polled.body.status), JSON.stringify(polled.body));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const rowsA = await exportFor("bank_a");
    assert.deepEqual(rowsA.map((row) => [row.customer_id, row.bureau_id]), [[CUSTOMER_ID, BUREAU_ID]]);
    const rowsB = await exportFor("bank_b");
    assert.deepEqual(rowsB.map((row) => row.customer_id).sort(), [CUSTOMER_ID, null].sort(), "bank_b's own id for PERSON_B, none for PERSON_A");
    assert.ok(!JSON.stringify(rowsB).includes(BUREAU_ID));
  });

  test("no column of any table holds the ids in the clear", async () => {
    const sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
    try {
      const stored = await sql.query<{ value: string; digest: string; data_key_id: string }>("SELECT value, digest, data_key_id FROM partner_person_id");
      assert.ok(stored.rows.length >= 3);
      for (const row of stored.rows) {
        assert.match(row.value, /^kge1:dk_MX_/, "an envelope under MX's data key");
        assert.equal(row.value.split(":")[1], row.data_key_id);
      }
      const tables = await sql.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'");
      for (const { table_name: table } of tables.rows) {
        const found = await sql.query(`SELECT 1 FROM "${table}" t WHERE t::text LIKE '%' || $1 || '%' OR t::text LIKE '%' || $2 || '%' LIMIT 1`, [CUSTOMER_ID, BUREAU_ID]);
        assert.equal(found.rowCount, 0, `${table} holds a partner id in the clear`);
      }
    } finally {
      await sql.end();
    }
  });

  test("the person's export includes every client's ids; erasure removes them, and the customer id then names nobody", async () => {
    const exported = await rest(origin(), "POST", "/v1/data-subject/export", { headers: appKey(), json: { user_external_id: PERSON_A } });
    assert.equal(exported.status, 200, JSON.stringify(exported.body));
    assert.deepEqual(
      exported.body.partner_ids.map((row: { client_id: string; kind: string; value: string }) => [row.client_id, row.kind, row.value]),
      [["bank_a", "CUSTOMER", CUSTOMER_ID], ["bank_a", "BUREAU", BUREAU_ID]],
    );
    const erased = await rest(origin(), "POST", "/v1/data-subject/erase", { headers: appKey(), json: { user_external_id: PERSON_A } });
    assert.equal(erased.status, 200, JSON.stringify(erased.body));
    assert.equal(erased.body.deleted.partner_person_ids, 2);
    assert.equal(await prisma.partnerPersonId.count({ where: { userId: PERSON_A } }), 0);
    assertEnvelope(await askConsent("bank_a", { customer_id: CUSTOMER_ID }), 404, "NOT_FOUND");
  });

  test("unlinking removes a client's ids; unlinking nothing is NOT_FOUND", async () => {
    const unlinked = await rest(origin(), "DELETE", `/v1/app/users/${PERSON_B}/partner-ids/bank_b`, { headers: appKey() });
    assert.equal(unlinked.status, 200, JSON.stringify(unlinked.body));
    assert.equal(unlinked.body.unlinked, 1);
    assertEnvelope(await rest(origin(), "DELETE", `/v1/app/users/${PERSON_B}/partner-ids/bank_b`, { headers: appKey() }), 404, "NOT_FOUND");
    assertEnvelope(await askConsent("bank_b", { customer_id: CUSTOMER_ID }), 404, "NOT_FOUND");
  });

  test("identical links racing each other all succeed and leave one row (a PUT)", async () => {
    const answers = await Promise.all(Array.from({ length: 6 }, () => link(PERSON_B, "bank_a", { customer_id: "CIF-RACE-1" })));
    assert.deepEqual(answers.map((answer) => answer.status), [200, 200, 200, 200, 200, 200], JSON.stringify(answers.map((answer) => answer.body)));
    assert.equal(await prisma.partnerPersonId.count({ where: { userId: PERSON_B, clientId: "bank_a" } }), 1);
  });

  test("after a change of KEK, lookups find digests under the previous one, and the rotation's digest pass moves them to the new one", async () => {
    assert.equal((await link(PERSON_B, "bank_a", { customer_id: "CIF-ROT-1" })).status, 200);
    const previous = kamina.gateway!.auth.config.tokens.keyEncryptionKey;
    const keys = { keyEncryptionKey: randomBytes(32), previousKeyEncryptionKeys: [previous] };
    const duringRotation = new PartnerIds(prisma, createFieldVault(prisma, keys), [keys.keyEncryptionKey, previous]);
    const afterRotation = new PartnerIds(prisma, createFieldVault(prisma, keys), [keys.keyEncryptionKey]);
    assert.equal(await duringRotation.personFor("bank_a", "CIF-ROT-1"), PERSON_B);
    assert.equal(await afterRotation.personFor("bank_a", "CIF-ROT-1"), undefined, "the digest is still the previous KEK's");
    assert.ok((await duringRotation.refreshDigests(2)) >= 1);
    assert.equal(await afterRotation.personFor("bank_a", "CIF-ROT-1"), PERSON_B);
    assert.equal((await afterRotation.refsFor("bank_a", [PERSON_B])).get(PERSON_B)?.customerId, "CIF-ROT-1");
  });
});
