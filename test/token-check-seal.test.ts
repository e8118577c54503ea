// The gateway's seal of its per-request token check: subgraphs called through the gateway skip
// the repeated database check, and nothing else can use a seal to get past a revocation.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { TOKEN_CHECK_HEADER, TokenCheckSeal } from "../platform/auth/token-check-seal.ts";
import { LOCAL_KEY_ENCRYPTION_KEY } from "../platform/config/secret-policy.ts";
import { AuthenticationError, TokenVerifier } from "../platform/auth/token-verifier.ts";
import { allTenants, createPrismaClient } from "../platform/database/database.ts";
import { countStatements, postGraphQL, startTestKamina } from "./support/kamina.ts";
import { startSeededKamina, stopSeededKamina } from "./support/seeded-kamina.ts";
import type { TestDatabase } from "../testkit/postgres.ts";
import { bearer, clientToken, consentToken } from "../testkit/tokens.ts";
import { postAsGateway } from "../testkit/gateway-signature.ts";

const ENTITIES = `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { debts { id } } } }`;
const jtiOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8")).jti as string;

describe("a token-check seal, on its own", () => {
  const kek = randomBytes(32);
  const seals = new TokenCheckSeal(kek);

  test("opens for the token it was made for, with the state it carries", () => {
    assert.deepEqual(seals.open(seals.seal("jti-1", { kind: "consent" }), "jti-1"), { kind: "consent" });
    const client = { kind: "client" as const, countries: ["MX" as const, "PE" as const], consentVersion: "41" };
    assert.deepEqual(seals.open(seals.seal("jti-2", client), "jti-2"), client);
  });

  test("refuses another token's seal, a stale one, another key's, a tampered one and garbage", () => {
    const sealed = seals.seal("jti-1", { kind: "client", countries: ["MX"], consentVersion: "1" });
    assert.equal(seals.open(sealed, "jti-2"), undefined, "another token");
    assert.equal(seals.open(seals.seal("jti-1", { kind: "consent" }, Date.now() - 60_000), "jti-1"), undefined, "stale");
    assert.equal(new TokenCheckSeal(randomBytes(32)).open(sealed, "jti-1"), undefined, "another key-encryption key");
    const [body, mac] = sealed.split(".") as [string, string];
    const widened = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, "base64url").toString()), c: ["MX", "CO"] })).toString("base64url");
    assert.equal(seals.open(`${widened}.${mac}`, "jti-1"), undefined, "tampered body");
    for (const garbage of ["", ".", "abc", `${body}.`, `.${mac}`, `${body}.${mac}x`, "x".repeat(5000)]) assert.equal(seals.open(garbage, "jti-1"), undefined, garbage);
  });

  test("during a KEK rotation opens a seal of the previous key too, never one of the public local key", () => {
    const next = randomBytes(32);
    const rotated = new TokenCheckSeal(next, [kek, LOCAL_KEY_ENCRYPTION_KEY]);
    assert.deepEqual(rotated.open(seals.seal("jti-1", { kind: "consent" }), "jti-1"), { kind: "consent" }, "sealed under the previous key");
    assert.equal(seals.open(rotated.seal("jti-1", { kind: "consent" }), "jti-1"), undefined, "sealed under the current key");
    assert.equal(rotated.open(new TokenCheckSeal(LOCAL_KEY_ENCRYPTION_KEY).seal("jti-1", { kind: "consent" }), "jti-1"), undefined, "the public local key");
  });
});

describe("the gateway seals its token check for the subgraphs it calls", () => {
  let database: TestDatabase;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  let sql: pg.Client;

  before(async () => {
    ({ database, kamina, sql } = await startSeededKamina({ users: 30, seed: 7, poolSize: 3 }));
  });

  after(async () => {
    await stopSeededKamina({ database, kamina, sql });
  });

  const seals = () => new TokenCheckSeal(kamina.gateway!.auth.config.tokens.keyEncryptionKey);

  test("through the gateway a subgraph makes no token statement; signed as the gateway but without a seal it does", async () => {
    const token = await consentToken(kamina, "USR_42891", ["debts.read"]);
    const query = `{ me { id debts { id } } }`;
    await postGraphQL(kamina.graphqlUrl, query, {}, bearer(token)); // the subgraphs load the signing keys once
    const viaGateway = await countStatements(kamina, async () => {
      const { body } = await postGraphQL(kamina.graphqlUrl, query, {}, bearer(token));
      assert.ok(Array.isArray(body.data?.me?.debts), JSON.stringify(body));
    });
    const direct = await countStatements(kamina, async () => {
      const { body } = await postAsGateway(kamina, kamina.subgraphs.debts!.url, ENTITIES, { r: [{ __typename: "User", id: "USR_42891" }] }, bearer(token));
      assert.ok(Array.isArray(body.data?._entities?.[0]?.debts), JSON.stringify(body));
    });
    assert.equal(direct.debts, viaGateway.debts! + 1, "the call without a seal checks the token in the database itself");
  });

  test("a revoked token is refused at a subgraph even with a seal made before the revocation", async () => {
    const token = await consentToken(kamina, "USR_42891", ["debts.read"]);
    const consentId = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()).consent_id as string;
    // What an insider on the private network could capture: a genuine seal of this token.
    const captured = seals().seal(jtiOf(token), { kind: "consent" });
    await sql.query("UPDATE consent SET status = 'REVOKED', revoked_at = now() WHERE id = $1", [consentId]);
    const atGateway = await postGraphQL(kamina.graphqlUrl, `{ me { id } }`, {}, { ...bearer(token), [TOKEN_CHECK_HEADER]: captured });
    assert.equal(atGateway.status, 401, "the gateway never takes a seal from a client");
    // Reached directly, a subgraph port refuses the request before it looks at the seal or the token.
    const unsigned = await postGraphQL(kamina.subgraphs.debts!.url, ENTITIES, { r: [{ __typename: "User", id: "USR_42891" }] }, { ...bearer(token), [TOKEN_CHECK_HEADER]: captured });
    assert.equal(unsigned.status, 401);
    assert.equal(unsigned.body.errors?.[0]?.extensions?.code, "GATEWAY_SIGNATURE_REQUIRED");
    // Behind the gateway's signature, a seal vouches for one check, for 30 s: a subgraph honours it (as it would for the gateway's own request)...
    const sealed = await postAsGateway(kamina, kamina.subgraphs.debts!.url, ENTITIES, { r: [{ __typename: "User", id: "USR_42891" }] }, { ...bearer(token), [TOKEN_CHECK_HEADER]: captured });
    assert.equal(sealed.status, 200);
    // ...but no seal, a seal of another token, a forged one or a stale one leaves the check to the database.
    const other = await consentToken(kamina, "USR_42891", ["debts.read"]);
    const forged = new TokenCheckSeal(randomBytes(32)).seal(jtiOf(token), { kind: "consent" });
    const stale = seals().seal(jtiOf(token), { kind: "consent" }, Date.now() - 31_000);
    for (const [what, seal] of [["none", undefined], ["another token's", seals().seal(jtiOf(other), { kind: "consent" })], ["forged", forged], ["stale", stale]] as const) {
      const headers = { ...bearer(token), ...(seal ? { [TOKEN_CHECK_HEADER]: seal } : {}) };
      const answer = await postAsGateway(kamina, kamina.subgraphs.debts!.url, ENTITIES, { r: [{ __typename: "User", id: "USR_42891" }] }, headers);
      assert.equal(answer.status, 401, `${what} seal: ${JSON.stringify(answer.body)}`);
    }
  });

  test("concurrent checks of one partner token share one statement, and a revocation is seen by the very next check", async () => {
    let statements = 0;
    const prisma = createPrismaClient({ kind: "postgres", url: database.url, poolSize: 2 }, { access: allTenants("test"), onStatement: (text) => void (/FROM unnest\(.*partner_client/s.test(text) && statements++) });
    const verifier = new TokenVerifier(prisma, kamina.gateway!.auth.config.tokens);
    try {
      const token = await clientToken(kamina);
      const checked = await Promise.all(Array.from({ length: 12 }, () => verifier.verifyAuthorization(`Bearer ${token}`)));
      assert.ok(checked.every((verified) => verified?.viewer.kind === "client" && verified.viewer.countries.length > 0));
      assert.equal(statements, 1, `${statements} statements for 12 checks of one token`);
      await sql.query("INSERT INTO revoked_token (jti, expires_at) VALUES ($1, now() + interval '1 hour')", [jtiOf(token)]);
      await assert.rejects(verifier.verifyAuthorization(`Bearer ${token}`), (error: unknown) => error instanceof AuthenticationError && /revoked/.test(error.reason));
    } finally {
      await prisma.$disconnect();
    }
  });

  test("concurrent checks of a forged token are all refused, and the next check verifies afresh", async () => {
    const prisma = createPrismaClient({ kind: "postgres", url: database.url, poolSize: 2 }, { access: allTenants("test") });
    const verifier = new TokenVerifier(prisma, kamina.gateway!.auth.config.tokens);
    try {
      const token = await clientToken(kamina);
      const [header, payload, signature] = token.split(".") as [string, string, string];
      // The same claims under another signature: one shared verification, refused for every caller.
      const forged = `${header}.${payload}.${Buffer.from(signature, "base64url").reverse().toString("base64url")}`;
      const refused = await Promise.allSettled(Array.from({ length: 8 }, () => verifier.verifyAuthorization(`Bearer ${forged}`)));
      for (const outcome of refused) assert.ok(outcome.status === "rejected" && outcome.reason instanceof AuthenticationError && /not valid/.test(outcome.reason.reason), String(outcome.status === "rejected" ? outcome.reason : "accepted"));
      // Nothing of the refusal stays behind: the genuine token, then the forged one again, each decided on its own.
      assert.equal((await verifier.verifyAuthorization(`Bearer ${token}`))?.viewer.kind, "client");
      await assert.rejects(verifier.verifyAuthorization(`Bearer ${forged}`), AuthenticationError);
    } finally {
      await prisma.$disconnect();
    }
  });

  test("a partner's seal carries its countries and consent version, so a consent change still reaches the subgraph", async () => {
    const token = await clientToken(kamina);
    const person = (await sql.query<{ user_id: string }>(
      "SELECT user_id FROM consent WHERE client_id = 'of_lab_demo' AND status = 'AUTHORISED' AND 'debts.read' = ANY(scopes) ORDER BY user_id LIMIT 1",
    )).rows[0]!.user_id;
    const read = () => postGraphQL(kamina.graphqlUrl, `query($id: ID!) { user(id: $id) { id debts { id } } }`, { id: person }, bearer(token));
    assert.ok(Array.isArray((await read()).body.data?.user?.debts));
    await sql.query("UPDATE consent SET scopes = array_remove(scopes, 'debts.read') WHERE user_id = $1 AND client_id = 'of_lab_demo'", [person]);
    const after = await read();
    assert.equal(after.body.data?.user?.debts, null);
    assert.equal(after.body.errors?.[0]?.extensions?.code, "UNAUTHORIZED_FIELD_OR_TYPE");
  });
});
