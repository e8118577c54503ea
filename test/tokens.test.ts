// Tokens over real HTTP and PostgreSQL: refresh rotation and reuse detection, client
// credentials, RFC 7009 revocation, the published keys and their rotation, and the tokens
// an attacker would try, each refused at the gateway and at a subgraph reached directly.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, generateKeyPair, jwtVerify, SignJWT, type CryptoKey, type JWTPayload } from "jose";
import { seedDatabase } from "../prisma/seed/index.ts";
import { refreshTokenHash } from "../gateway/auth/refresh-tokens.ts";
import { KEY_PUBLISH_LEAD_MS } from "../gateway/auth/signing-keys.ts";
import { hashSecret } from "../platform/secret-hash.ts";
import { USER_SCOPES } from "../platform/auth/scopes.ts";
import { verifiedTokensFor } from "../platform/auth/token-verifier.ts";
import { postGraphQL, startTestKamina, type GraphQLResponse } from "./support/kamina.ts";
import { createTestDatabase, type TestDatabase } from "../testkit/postgres.ts";
import { assertEnvelope, contractCalls, rest, type RestOptions, type RestResponse } from "./support/rest.ts";
import { BRIEF_CONSENT_REQUEST, basic, bearer, consentToken, DEMO_CLIENT, TEST_SANDBOX_SECRET } from "../testkit/tokens.ts";
import { postAsGateway } from "../testkit/gateway-signature.ts";

const OTHER = { id: "lab_other", secret: "other-secret-0123456789" };
const ENTITIES = `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { debts { id } } } }`;

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value), "utf8").toString("base64url");

describe("tokens: rotation, revocation, keys and attacks", () => {
  let database: TestDatabase;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;

  const sandbox = basic(DEMO_CLIENT, TEST_SANDBOX_SECRET);
  const asOther = basic(OTHER.id, OTHER.secret);
  const call = (method: string, path: string, options: RestOptions = {}) => rest(kamina.gateway!.origin, method, path, options);
  const askConsent = () => call("POST", "/v1/auth/consent", { headers: sandbox, json: BRIEF_CONSENT_REQUEST });
  const refresh = (refreshToken: string, headers: Record<string, string> = sandbox) =>
    call("POST", "/v1/auth/token", { headers, form: { grant_type: "refresh_token", refresh_token: refreshToken } });
  const revoke = (token: string, headers: Record<string, string> = sandbox) => call("POST", "/v1/auth/revoke", { headers, json: { token } });
  const me = (token: string) => postGraphQL(kamina.graphqlUrl, "{ me { id } }", undefined, bearer(token));
  const debtsDirect = (token: string) => postAsGateway(kamina, kamina.subgraphs.debts!.url, ENTITIES, { r: [{ __typename: "User", id: "USR_42891" }] }, bearer(token));

  function assertRefused(answer: GraphQLResponse, what: string, code = "UNAUTHENTICATED"): void {
    assert.equal(answer.status, 401, `${what}: ${JSON.stringify(answer.body)}`);
    assert.equal(answer.body.errors?.[0]?.extensions?.code, code, what);
    assert.equal(answer.body.data, undefined, `${what}: no data beside the error`);
  }

  before(async () => {
    database = await createTestDatabase();
    await seedDatabase({ kind: "postgres", url: database.url, poolSize: 2 }, { users: 30, seed: 5, sandboxClientSecret: TEST_SANDBOX_SECRET });
    kamina = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 4 });
    await kamina.gateway!.auth.prisma.partnerClient.create({
      data: { id: OTHER.id, name: "Other lab", secretHash: await hashSecret(OTHER.secret), countries: ["MX"], allowedScopes: [...USER_SCOPES], clientScopes: [], sandbox: true },
    });
  });

  after(async () => {
    await kamina?.stop();
    await database?.drop();
  });

  test("a refresh token is rotated on every use: each works once, and the access tokens it brings read the graph", async () => {
    const granted = await askConsent();
    let current: string = granted.body.refresh_token;
    const seen = new Set([current]);
    for (let round = 0; round < 3; round++) {
      const next = await refresh(current);
      assert.equal(next.status, 200, JSON.stringify(next.body));
      assert.deepEqual(Object.keys(next.body).sort(), ["access_token", "consent_id", "expires_in", "refresh_token", "scope", "token_type"]);
      assert.equal(next.body.consent_id, granted.body.consent_id);
      assert.equal(next.body.scope, "wellness.read debts.read expenses.read");
      assert.equal(next.headers.get("cache-control"), "no-store");
      assert.match(next.body.refresh_token, /^rf_/);
      assert.ok(!seen.has(next.body.refresh_token), "a new refresh token every time");
      seen.add(next.body.refresh_token);
      assert.equal((await me(next.body.access_token)).body.data!.me.id, "USR_42891");
      current = next.body.refresh_token;
    }
    const family = await kamina.gateway!.auth.prisma.refreshToken.findMany({ where: { consentId: granted.body.consent_id }, orderBy: { createdAt: "asc" } });
    assert.equal(family.length, 4);
    assert.equal(new Set(family.map((row) => row.familyId)).size, 1, "one family per grant");
    assert.deepEqual(family.map((row) => row.usedAt !== null), [true, true, true, false]);
    assert.equal(family.at(-1)!.tokenHash, refreshTokenHash(current));
  });

  test("reusing a spent refresh token revokes its whole family: the newest refresh token and the family's access tokens stop working", async () => {
    const granted = await askConsent();
    const first = await refresh(granted.body.refresh_token);
    const second = await refresh(first.body.refresh_token);
    assert.equal(second.status, 200);
    for (const token of [granted.body.access_token, first.body.access_token, second.body.access_token]) assert.equal((await me(token)).status, 200);

    assertEnvelope(await refresh(granted.body.refresh_token), 400, "INVALID_GRANT", /already used.*revoked/);
    assertEnvelope(await refresh(second.body.refresh_token), 400, "INVALID_GRANT", /revoked/);
    for (const token of [granted.body.access_token, first.body.access_token, second.body.access_token]) {
      assertRefused(await me(token), "an access token of a revoked family");
      assertRefused(await debtsDirect(token), "an access token of a revoked family, at a subgraph");
    }
    // The consent itself stands: the person did not revoke it.
    const consent = await call("GET", `/v1/consents/${granted.body.consent_id}`, { headers: sandbox });
    assert.equal(consent.body.status, "AUTHORISED");
  });

  test("two requests racing with one refresh token: one wins, the other is a reuse", async () => {
    const granted = await askConsent();
    const answers = await Promise.all([refresh(granted.body.refresh_token), refresh(granted.body.refresh_token)]);
    const statuses = answers.map((answer) => answer.status).sort();
    assert.deepEqual(statuses, [200, 400], JSON.stringify(answers.map((answer) => answer.body)));
    const winner = answers.find((answer) => answer.status === 200)!;
    assertEnvelope(await refresh(winner.body.refresh_token), 400, "INVALID_GRANT", /revoked/);
  });

  test("an unknown, expired or another client's refresh token is INVALID_GRANT, and another client cannot burn the family", async () => {
    assertEnvelope(await refresh("rf_not-a-token"), 400, "INVALID_GRANT", /not valid/);
    assertEnvelope(await refresh("something else"), 400, "INVALID_GRANT", /not valid/);

    const granted = await askConsent();
    assertEnvelope(await refresh(granted.body.refresh_token, asOther), 400, "INVALID_GRANT", /not valid/);
    assert.equal((await refresh(granted.body.refresh_token)).status, 200, "the owner's token still works");

    const expiring = await askConsent();
    await kamina.gateway!.auth.prisma.refreshToken.update({
      where: { tokenHash: refreshTokenHash(expiring.body.refresh_token) },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    assertEnvelope(await refresh(expiring.body.refresh_token), 400, "INVALID_GRANT", /expired/);
  });

  test("the token endpoint takes JSON or form bodies and names what is wrong with a request", async () => {
    assertEnvelope(await call("POST", "/v1/auth/token", { form: { grant_type: "client_credentials" } }), 401, "UNAUTHENTICATED");
    assert.equal((await call("POST", "/v1/auth/token", { headers: sandbox, form: { grant_type: "client_credentials" } })).status, 200);
    assert.equal((await call("POST", "/v1/auth/token", { headers: sandbox, json: { grant_type: "client_credentials" } })).status, 200);
    const cases: [RestOptions, RegExp][] = [
      [{ form: {} }, /`grant_type` is required/],
      [{ form: { grant_type: "password" } }, /`grant_type` password is not supported; use one of urn:kamina:consent, refresh_token, client_credentials/],
      [{ form: { grant_type: "refresh_token" } }, /`refresh_token` is required/],
      [{ form: { grant_type: "urn:kamina:consent" } }, /`consent_id` is required/],
      [{ json: { grant_type: "refresh_token", refresh_token: 12 } }, /`refresh_token` must be a string/],
      [{ form: { grant_type: "client_credentials", client_id: OTHER.id } }, /`client_id` must be the client that authenticates/],
      [{ raw: { contentType: "application/x-www-form-urlencoded", body: "grant_type=client_credentials&grant_type=refresh_token" } }, /`grant_type` is sent more than once/],
    ];
    for (const [options, message] of cases) assertEnvelope(await call("POST", "/v1/auth/token", { headers: sandbox, ...options }), 400, "BAD_USER_INPUT", message);
    // A JSON body sent as a form (curl -d's default content type) is told what to send.
    const jsonAsForm = await call("POST", "/v1/auth/token", { headers: sandbox, raw: { contentType: "application/x-www-form-urlencoded", body: '{"grant_type":"client_credentials"}' } });
    assertEnvelope(jsonAsForm, 415, "UNSUPPORTED_MEDIA_TYPE", /reads as JSON: send Content-Type: application\/json/);
  });

  test("token endpoint errors carry RFC 6749's error and error_description beside the envelope", async () => {
    await kamina.gateway!.auth.prisma.partnerClient.create({
      data: { id: "lab_paused", name: "Paused lab", secretHash: await hashSecret("paused-secret-0123456789"), countries: ["MX"], allowedScopes: ["wellness.read"], clientScopes: [], status: "SUSPENDED", sandbox: true },
    });
    const token = (options: RestOptions) => call("POST", "/v1/auth/token", options);
    const cases: [RestResponse, number, string, string][] = [
      [await token({ form: { grant_type: "client_credentials" } }), 401, "UNAUTHENTICATED", "invalid_client"],
      [await token({ headers: basic(DEMO_CLIENT, "wrong-secret"), form: { grant_type: "client_credentials" } }), 401, "UNAUTHENTICATED", "invalid_client"],
      [await token({ headers: basic("lab_paused", "paused-secret-0123456789"), form: { grant_type: "client_credentials" } }), 403, "FORBIDDEN", "unauthorized_client"],
      [await token({ headers: sandbox, form: {} }), 400, "BAD_USER_INPUT", "invalid_request"],
      [await token({ headers: sandbox, raw: { contentType: "text/plain", body: "grant_type=client_credentials" } }), 415, "UNSUPPORTED_MEDIA_TYPE", "invalid_request"],
      [await token({ headers: sandbox, form: { grant_type: "password" } }), 400, "BAD_USER_INPUT", "unsupported_grant_type"],
      [await token({ headers: sandbox, form: { grant_type: "refresh_token", refresh_token: "rf_unknown" } }), 400, "INVALID_GRANT", "invalid_grant"],
      [await token({ headers: sandbox, form: { grant_type: "client_credentials", scope: "coach.transcripts.write" } }), 403, "FORBIDDEN", "invalid_scope"],
      [await call("POST", "/v1/auth/revoke", { headers: sandbox, form: {} }), 400, "BAD_USER_INPUT", "invalid_request"],
      [await call("POST", "/v1/auth/revoke", { form: { token: "rf_unknown" } }), 401, "UNAUTHENTICATED", "invalid_client"],
    ];
    for (const [answer, status, code, error] of cases) {
      assertEnvelope(answer, status, code);
      assert.equal(answer.body.error, error, JSON.stringify(answer.body));
      assert.equal(answer.body.error_description, answer.body.message.replace(/["\\]/g, ""));
    }
    assert.match(cases[0]![0].headers.get("www-authenticate") ?? "", /^Basic realm="kamina-graph"/, "invalid_client asks for the client's credentials");
  });

  test("client credentials: the partner's token carries its countries and scopes, or a narrower scope on request", async () => {
    const all = await call("POST", "/v1/auth/token", { headers: sandbox, form: { grant_type: "client_credentials" } });
    assert.deepEqual(Object.keys(all.body).sort(), ["access_token", "expires_in", "scope", "token_type"], "no refresh token for client credentials");
    const claims = decodeJwt(all.body.access_token);
    assert.equal(claims.sub, DEMO_CLIENT);
    assert.equal(claims.token_use, "client");
    assert.deepEqual(claims.countries, ["EC", "MX", "PE", "CO", "CL"]);
    assert.deepEqual((claims.scope as string).split(" ").sort(), [...USER_SCOPES, "reports.read", "exports.create", "webhooks.manage"].sort());
    const page = await postGraphQL(kamina.graphqlUrl, "{ users(first: 5) { totalCount } }", undefined, bearer(all.body.access_token));
    assert.equal(page.status, 200, JSON.stringify(page.body));

    const narrow = await call("POST", "/v1/auth/token", { headers: sandbox, form: { grant_type: "client_credentials", scope: "reports.read wellness.read" } });
    assert.equal(narrow.body.scope, "reports.read wellness.read");
    assert.equal(decodeJwt(narrow.body.access_token).scope, "reports.read wellness.read");
    assertEnvelope(
      await call("POST", "/v1/auth/token", { headers: asOther, form: { grant_type: "client_credentials", scope: "reports.read" } }),
      403,
      "FORBIDDEN",
      /may not ask for `reports.read`/,
    );
  });

  test("the gateway and the subgraphs of one process share the tokens they verified; a revoked one still fails at both", async () => {
    const settings = kamina.gateway!.auth.config.tokens;
    const granted = await askConsent();
    const token: string = granted.body.access_token;
    assert.equal(verifiedTokensFor(settings).get(token), undefined, "a new token is not verified yet");
    assert.equal((await me(token)).status, 200);
    assert.equal(verifiedTokensFor(settings).get(token)?.claims.jti, decodeJwt(token).jti, "what the gateway verified, for the subgraphs too");
    assert.equal(verifiedTokensFor({ ...settings }).get(token), undefined, "other settings, another cache");
    // The cache holds signatures only: revocation is read on the next request, at the gateway and at a subgraph.
    assert.equal((await debtsDirect(token)).status, 200);
    await revoke(token);
    assertRefused(await me(token), "a revoked access token");
    assertRefused(await debtsDirect(token), "a revoked access token, at a subgraph");
  });

  test("RFC 7009: a revoked access token fails on the next request at the gateway and at a subgraph; any token answers 200", async () => {
    const granted = await askConsent();
    assert.equal((await debtsDirect(granted.body.access_token)).status, 200);
    const answer = await revoke(granted.body.access_token);
    assert.equal(answer.status, 200);
    assert.equal(answer.body, null, "an empty body");
    assertRefused(await me(granted.body.access_token), "a revoked access token");
    assertRefused(await debtsDirect(granted.body.access_token), "a revoked access token, at a subgraph");
    const { jti, exp } = decodeJwt(granted.body.access_token);
    const row = await kamina.gateway!.auth.prisma.revokedToken.findUniqueOrThrow({ where: { jti: jti! } });
    assert.equal(row.expiresAt.getTime(), exp! * 1000, "kept until the token would have expired anyway");
    assert.equal((await refresh(granted.body.refresh_token)).status, 200, "revoking an access token leaves the grant's refresh token");

    // A refresh token takes its grant's access tokens with it.
    const other = await askConsent();
    const byForm = await call("POST", "/v1/auth/revoke", { headers: sandbox, form: { token: other.body.refresh_token, token_type_hint: "refresh_token" } });
    assert.equal(byForm.status, 200);
    assertEnvelope(await refresh(other.body.refresh_token), 400, "INVALID_GRANT", /revoked/);
    assertRefused(await me(other.body.access_token), "the access token of a revoked refresh token");

    // Unknown, malformed and other clients' tokens: the same 200, and nothing changes.
    const third = await askConsent();
    for (const token of ["rf_unknown", "not a token at all", "eyJhbGciOiJub25lIn0.e30.", third.body.access_token]) {
      assert.equal((await revoke(token, asOther)).status, 200);
    }
    assert.equal((await me(third.body.access_token)).status, 200, "another client cannot revoke this client's token");
    assertEnvelope(await call("POST", "/v1/auth/revoke", { headers: sandbox, json: {} }), 400, "BAD_USER_INPUT", /`token` is required/);
    assertEnvelope(await revoke(third.body.access_token, {}), 401, "UNAUTHENTICATED");
  });

  test("the token and revocation endpoints answer as /v1/openapi.json documents them, on success and on a bad input", async () => {
    const { checker, check, problems, document } = await contractCalls(call);

    // A client that is not a sandbox, so that a consent waits for the person and is exchanged at the token endpoint.
    const bank = { id: "lab_contract_bank", secret: "contract-bank-secret-0123" };
    await kamina.gateway!.auth.prisma.partnerClient.create({
      data: { id: bank.id, name: "Contract bank", secretHash: await hashSecret(bank.secret), countries: ["MX"], allowedScopes: [...USER_SCOPES], clientScopes: [] },
    });
    const asBank = basic(bank.id, bank.secret);
    const waiting = await call("POST", "/v1/auth/consent", { headers: asBank, json: { ...BRIEF_CONSENT_REQUEST, client_id: bank.id } });
    assert.equal(waiting.status, 202, JSON.stringify(waiting.body));
    const consentId: string = waiting.body.consent_id;
    await check("POST", "/v1/auth/token", { headers: asBank, form: { grant_type: "urn:kamina:consent", consent_id: consentId } }, 400);
    const authorised = await call("POST", `/v1/consents/${consentId}/authorise`, { headers: { "x-kamina-app-key": kamina.gateway!.auth.config.appApiKey } });
    assert.equal(authorised.status, 200, JSON.stringify(authorised.body));
    const exchanged = await check("POST", "/v1/auth/token", { headers: asBank, form: { grant_type: "urn:kamina:consent", consent_id: consentId } }, 200);
    const refreshed = await check("POST", "/v1/auth/token", { headers: asBank, json: { grant_type: "refresh_token", refresh_token: exchanged.body.refresh_token } }, 200);
    await check("POST", "/v1/auth/token", { headers: asBank, form: { grant_type: "refresh_token", refresh_token: "rf_unknown" } }, 400);
    await check("POST", "/v1/auth/token", { headers: sandbox, json: { grant_type: "client_credentials", scope: "reports.read" } }, 200);
    await check("POST", "/v1/auth/token", { headers: sandbox, form: { grant_type: "password" } }, 400);

    await check("POST", "/v1/auth/revoke", { headers: asBank, form: { token: refreshed.body.refresh_token, token_type_hint: "refresh_token" } }, 200);
    await check("POST", "/v1/auth/revoke", { headers: asBank, json: {} }, 400);

    assert.deepEqual(problems, []);
    for (const operation of ["POST /v1/auth/token", "POST /v1/auth/revoke"]) {
      const [method, path] = operation.split(" ") as [string, string];
      assert.ok(checker.operations().includes(operation), `${operation} is in the document`);
      assert.equal(document.paths[path][method.toLowerCase()]["x-undocumented"], undefined, `${operation} has a spec`);
    }
  });

  describe("tokens an attacker would try are 401 UNAUTHENTICATED (CONSENT_REVOKED for a revoked consent) at the gateway and at a subgraph", () => {
    let genuine: string;
    let claims: JWTPayload;
    let kid: string;

    before(async () => {
      genuine = await consentToken(kamina, "USR_42891", ["wellness.read"]);
      claims = decodeJwt(genuine);
      kid = decodeProtectedHeader(genuine).kid!;
    });

    async function sign(changes: JWTPayload, options: { kid?: string; key?: CryptoKey } = {}): Promise<string> {
      const signer = await kamina.gateway!.auth.keys.signer();
      return new SignJWT({ ...claims, ...changes })
        .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid: options.kid ?? signer.kid })
        .sign(options.key ?? signer.key);
    }

    /** Refused at both hops, for the reason the attack should trip on. */
    async function assertAttackRefused(what: string, token: string, reason: RegExp, code = "UNAUTHENTICATED"): Promise<void> {
      for (const [where, answer] of [["gateway", await me(token)], ["subgraph", await debtsDirect(token)]] as const) {
        assertRefused(answer, `${what}, at the ${where}`, code);
        assert.match(answer.body.errors![0]!.message, reason, `${what}, at the ${where}`);
      }
    }

    test("the genuine token they start from works", async () => {
      assert.equal((await me(genuine)).status, 200);
      assert.equal((await debtsDirect(genuine)).status, 200);
    });

    test("expired", async () => {
      const now = Math.floor(Date.now() / 1000);
      await assertAttackRefused("expired", await sign({ iat: now - 7200, nbf: now - 7200, exp: now - 60 }), /has expired/);
    });

    test("a token that worked stops working the moment it expires (verified signatures are kept, expiry is not)", async () => {
      const now = Math.floor(Date.now() / 1000);
      // Within the 5 s clock tolerance until the clock reads now + 2 s (whole seconds, as JWT
      // times are): one to two seconds more, whatever fraction of a second it is.
      const token = await sign({ iat: now - 60, nbf: now - 60, exp: now - 3 });
      assert.equal((await me(token)).status, 200);
      assert.equal((await debtsDirect(token)).status, 200);
      await new Promise((resolve) => setTimeout(resolve, (now + 2) * 1000 + 100 - Date.now()));
      await assertAttackRefused("expired after use", token, /has expired/);
    });

    test("not yet valid (nbf in the future)", async () => {
      const now = Math.floor(Date.now() / 1000);
      await assertAttackRefused("not yet valid", await sign({ nbf: now + 3600, exp: now + 7200 }), /`nbf` claim/);
    });

    test("signed by another key under the genuine kid", async () => {
      const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
      await assertAttackRefused("another key, same kid", await sign({}, { kid, key: privateKey }), /not valid/);
    });

    test("unknown kid", async () => {
      const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
      await assertAttackRefused("unknown kid", await sign({}, { kid: "attacker-key-1", key: privateKey }), /key this service does not know/);
    });

    test("alg none", async () => {
      await assertAttackRefused("alg none", `${b64url({ alg: "none", typ: "at+jwt", kid })}.${b64url(claims)}.`, /not valid/);
    });

    test("HS256 keyed with the published public key (algorithm confusion)", async () => {
      const jwks = (await call("GET", "/.well-known/jwks.json")).body;
      const publicKey = Buffer.from(jwks.keys.find((key: { kid: string }) => key.kid === kid).x, "base64url");
      const token = await new SignJWT(claims).setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid }).sign(publicKey);
      await assertAttackRefused("HS256 with the public key", token, /not valid|does not know/);
    });

    test("wrong audience", async () => {
      await assertAttackRefused("wrong audience", await sign({ aud: "another-api" }), /`aud` claim/);
    });

    test("wrong issuer", async () => {
      await assertAttackRefused("wrong issuer", await sign({ iss: "https://attacker.example" }), /`iss` claim/);
    });

    test("tampered payload: a scope added by hand, the signature left as it was", async () => {
      const [header, , signature] = genuine.split(".");
      const tampered = `${header}.${b64url({ ...claims, scope: "wellness.read coach.transcripts.read" })}.${signature}`;
      await assertAttackRefused("tampered payload", tampered, /not valid/);
    });

    test("a token of a revoked consent", async () => {
      const token = await consentToken(kamina, "USR_42891", ["wellness.read"]);
      assert.equal((await me(token)).status, 200);
      const revoked = await call("DELETE", `/v1/consents/${decodeJwt(token).consent_id}`, { headers: sandbox, json: { reason: "test" } });
      assert.equal(revoked.status, 200);
      // Its own code: the consent is over, no refresh will help (an expired or revoked token is UNAUTHENTICATED).
      await assertAttackRefused("revoked consent", token, /behind this token was revoked/, "CONSENT_REVOKED");
    });

    test("a revoked jti", async () => {
      const token = await consentToken(kamina, "USR_42891", ["wellness.read"]);
      const { jti, exp } = decodeJwt(token);
      await kamina.gateway!.auth.prisma.revokedToken.create({ data: { jti: jti!, expiresAt: new Date(exp! * 1000) } });
      await assertAttackRefused("revoked jti", token, /has been revoked/);
    });

    test("not a bearer token at all", async () => {
      for (const header of ["Bearer", "Bearer not.a.jwt!", `Basic ${Buffer.from("of_lab_demo:kamina-sandbox-secret").toString("base64")}`, `Bearer ${genuine}x`]) {
        const answer = await postGraphQL(kamina.graphqlUrl, "{ me { id } }", undefined, { authorization: header });
        assertRefused(answer, header.slice(0, 12));
      }
    });
  });

  test("the published JWKS verifies issued tokens; a rotated-in key is published before it signs, and both generations of tokens keep working", async () => {
    const { config, keys } = kamina.gateway!.auth;
    const verifyOptions = { issuer: config.tokens.issuer, audience: config.tokens.audience };
    const before = await call("GET", "/.well-known/jwks.json");
    assert.equal(before.status, 200);
    assert.match(before.headers.get("cache-control") ?? "", /max-age/);
    assert.equal(before.body.keys.length, 1);
    for (const key of before.body.keys) {
      assert.deepEqual({ kty: key.kty, crv: key.crv, alg: key.alg, use: key.use }, { kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
      assert.equal(key.d, undefined, "no private part is published");
    }
    const old = await consentToken(kamina, "USR_42891", ["wellness.read"]);
    const oldKid = decodeProtectedHeader(old).kid;
    await jwtVerify(old, createLocalJWKSet(before.body), verifyOptions);
    assert.equal((await me(old)).status, 200, "the verifiers have just loaded their keys");

    const rotatedAt = Date.now();
    const newKid = await keys.rotate();
    assert.notEqual(newKid, oldKid);
    const published = await call("GET", "/.well-known/jwks.json");
    assert.deepEqual(published.body.keys.map((key: { kid: string }) => key.kid).sort(), [oldKid, newKid].sort(), "both keys are published at once");
    const during = await consentToken(kamina, "USR_42891", ["wellness.read"]);
    assert.equal(decodeProtectedHeader(during).kid, oldKid, "the new key does not sign before verifiers can know it");

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, rotatedAt + KEY_PUBLISH_LEAD_MS - Date.now()) + 50));
    const fresh = await consentToken(kamina, "USR_42891", ["wellness.read"]);
    assert.equal(decodeProtectedHeader(fresh).kid, newKid, "then it signs");

    const jwks = createLocalJWKSet((await call("GET", "/.well-known/jwks.json")).body);
    for (const token of [old, during, fresh]) {
      await jwtVerify(token, jwks, verifyOptions);
      assert.equal((await me(token)).status, 200, "at the gateway");
      assert.equal((await debtsDirect(token)).status, 200, "at a subgraph");
    }
  });
});
