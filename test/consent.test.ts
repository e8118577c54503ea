// The consent API a partner integrates against: asking for a person's consent, the person's
// answer, reading, revoking and auditing it, over real HTTP and PostgreSQL.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { seedDatabase } from "../prisma/seed/index.ts";
import { PairwiseIds } from "../platform/auth/pairwise-ids.ts";
import { hashSecret } from "../platform/secret-hash.ts";
import { postGraphQL, startTestKamina } from "./support/kamina.ts";
import { createTestDatabase, type TestDatabase } from "../testkit/postgres.ts";
import { assertEnvelope, contractCalls, rest, type RestOptions } from "./support/rest.ts";
import { BRIEF_CONSENT_REQUEST, basic, bearer, consentToken, DEMO_CLIENT, TEST_SANDBOX_SECRET } from "../testkit/tokens.ts";
import { gatewaySignatureHeader, postAsGateway } from "../testkit/gateway-signature.ts";


/** A bank that is not a sandbox: its consents wait for the person. */
const BANK = { id: "lab_bank_mx", secret: "bank-secret-0123456789" };
/** Another sandbox client, to show one client cannot see another's consents. */
const OTHER = { id: "lab_other", secret: "other-secret-0123456789" };
const SUSPENDED = { id: "lab_suspended", secret: "suspended-secret-0123" };

const ENTITIES = `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { debts { id } } } }`;

describe("consent: asking, answering, reading, revoking", () => {
  let database: TestDatabase;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  let peruvian: string;
  let unserved: { id: string; country: string };

  const sandbox = basic(DEMO_CLIENT, TEST_SANDBOX_SECRET);
  const asBank = basic(BANK.id, BANK.secret);
  const asOther = basic(OTHER.id, OTHER.secret);
  const appKey = () => ({ "x-kamina-app-key": kamina.gateway!.auth.config.appApiKey });
  const call = (method: string, path: string, options: RestOptions = {}) => rest(kamina.gateway!.origin, method, path, options);
  const askConsent = (body: unknown, headers: Record<string, string> = sandbox) => call("POST", "/v1/auth/consent", { headers, json: body });
  const theirs = (clientId: string, person: string) => new PairwiseIds(kamina.gateway!.auth.config.tokens.pairwiseIdKey).external(clientId, "live", person);
  const me = (token: string) => postGraphQL(kamina.graphqlUrl, "{ me { id } }", undefined, bearer(token));
  const debtsDirect = (token: string) => postAsGateway(kamina, kamina.subgraphs.debts!.url, ENTITIES, { r: [{ __typename: "User", id: "USR_42891" }] }, bearer(token));

  before(async () => {
    database = await createTestDatabase();
    await seedDatabase({ kind: "postgres", url: database.url, poolSize: 2 }, { users: 40, seed: 11, sandboxClientSecret: TEST_SANDBOX_SECRET });
    kamina = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 4 });
    const { prisma } = kamina.gateway!.auth;
    const userScopes = ["wellness.read", "debts.read", "expenses.read"];
    await prisma.partnerClient.createMany({
      data: [
        { id: BANK.id, name: "Lab bank", secretHash: await hashSecret(BANK.secret), countries: ["MX", "PE"], allowedScopes: userScopes, clientScopes: ["reports.read"] },
        { id: OTHER.id, name: "Other lab", secretHash: await hashSecret(OTHER.secret), countries: ["EC", "MX", "PE", "CO", "CL"], allowedScopes: userScopes, clientScopes: [], sandbox: true },
        { id: SUSPENDED.id, name: "Suspended lab", secretHash: await hashSecret(SUSPENDED.secret), countries: ["MX"], allowedScopes: userScopes, clientScopes: [], status: "SUSPENDED", sandbox: true },
      ],
    });
    await prisma.consentTextVersion.create({ data: { version: "2025-01-01", sha256: "0".repeat(64), publishedAt: new Date("2025-01-01"), retiredAt: new Date("2026-05-01") } });
    peruvian = (await prisma.user.findFirstOrThrow({ where: { country: "PE" }, select: { id: true } })).id;
    unserved = await prisma.user.findFirstOrThrow({ where: { country: { notIn: ["MX", "PE"] } }, select: { id: true, country: true } });
  });

  after(async () => {
    await kamina?.stop();
    await database?.drop();
  });

  test("the brief's consent request, sent as written with the sandbox credentials, answers exactly its keys and a token that reads `me`", async () => {
    const response = await askConsent(BRIEF_CONSENT_REQUEST);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.deepEqual(Object.keys(response.body).sort(), ["access_token", "consent_id", "expires_in", "refresh_token"]);
    assert.equal(response.body.expires_in, 3600);
    assert.match(response.body.consent_id, /^cns_[0-9a-f]{24}$/);
    assert.match(response.body.refresh_token, /^rf_[A-Za-z0-9_-]{43}$/, "256 random bits after the prefix");
    assert.match(response.body.access_token, /^ey/);
    assert.equal(response.headers.get("cache-control"), "no-store");

    const header = decodeProtectedHeader(response.body.access_token);
    assert.equal(header.alg, "EdDSA");
    assert.equal(header.typ, "at+jwt");
    assert.ok(header.kid);
    const claims = decodeJwt(response.body.access_token);
    assert.equal(claims.sub, "USR_42891");
    assert.equal(claims.client_id, "of_lab_demo");
    assert.equal(claims.consent_id, response.body.consent_id);
    assert.equal(claims.scope, "wellness.read debts.read expenses.read");
    assert.equal(claims.exp! - claims.iat!, 3600);

    const { status, body } = await postGraphQL(kamina.graphqlUrl, "{ me { id wellness { score } } }", undefined, bearer(response.body.access_token));
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.equal(body.data!.me.id, "USR_42891");
    assert.equal(typeof body.data!.me.wellness.score, "number");

    const stored = await kamina.gateway!.auth.prisma.refreshToken.findMany({ where: { consentId: response.body.consent_id } });
    assert.equal(stored.length, 1);
    assert.notEqual(stored[0]!.tokenHash, response.body.refresh_token, "only the hash is stored");
    assert.match(stored[0]!.tokenHash, /^[0-9a-f]{64}$/);
  });

  test("no credentials, an unknown client and a wrong secret are the same 401 UNAUTHENTICATED", async () => {
    const answers = [
      await askConsent(BRIEF_CONSENT_REQUEST, {}),
      await askConsent(BRIEF_CONSENT_REQUEST, basic("no_such_client", TEST_SANDBOX_SECRET)),
      await askConsent(BRIEF_CONSENT_REQUEST, basic(DEMO_CLIENT, "not-the-secret")),
      await askConsent(BRIEF_CONSENT_REQUEST, { authorization: "Basic !!!" }),
      await askConsent(BRIEF_CONSENT_REQUEST, { authorization: `Bearer ${"x".repeat(20)}` }),
    ];
    for (const answer of answers) {
      assertEnvelope(answer, 401, "UNAUTHENTICATED");
      assert.equal(answer.body.message, answers[0]!.body.message, "one message: the answer does not say whether the client exists");
      assert.match(answer.headers.get("www-authenticate") ?? "", /^Basic /);
    }
  });

  test("a suspended client is 403 FORBIDDEN", async () => {
    const answer = await askConsent({ ...BRIEF_CONSENT_REQUEST, client_id: SUSPENDED.id }, basic(SUSPENDED.id, SUSPENDED.secret));
    assertEnvelope(answer, 403, "FORBIDDEN", /suspended/);
  });

  test("a malformed body is 400, and the message names the field", async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ ...BRIEF_CONSENT_REQUEST, scopes: undefined }, "BAD_USER_INPUT", /`scopes` is required/],
      [{ ...BRIEF_CONSENT_REQUEST, scopes: "wellness.read" }, "BAD_USER_INPUT", /`scopes` must be an array/],
      [{ ...BRIEF_CONSENT_REQUEST, scopes: [] }, "BAD_USER_INPUT", /`scopes` must name at least one scope/],
      [{ ...BRIEF_CONSENT_REQUEST, scopes: [42] }, "BAD_USER_INPUT", /`scopes.0` must hold strings/],
      [{ ...BRIEF_CONSENT_REQUEST, country: "AR" }, "BAD_USER_INPUT", /`country` must be one of EC, MX, PE, CO, CL/],
      [{ ...BRIEF_CONSENT_REQUEST, user_external_id: undefined }, "BAD_USER_INPUT", /exactly one of `user_external_id` and `customer_id`/],
      [{ ...BRIEF_CONSENT_REQUEST, consent_text_version: 20260501 }, "BAD_USER_INPUT", /`consent_text_version` must be a string/],
      [{ ...BRIEF_CONSENT_REQUEST, client_id: undefined }, "BAD_USER_INPUT", /`client_id` is required/],
      [{ ...BRIEF_CONSENT_REQUEST, scope: "wellness.read" }, "BAD_USER_INPUT", /Unknown field `scope`/],
      // PostgreSQL text cannot hold NUL: it answered 500 (issue 16, cause 6).
      [{ ...BRIEF_CONSENT_REQUEST, user_external_id: "USR_42891\u0000" }, "BAD_USER_INPUT", /NUL character/],
      [{ ...BRIEF_CONSENT_REQUEST, scopes: ["wellness.read\u0000"] }, "BAD_USER_INPUT", /NUL character/],
      [{ ...BRIEF_CONSENT_REQUEST, client_id: OTHER.id }, "BAD_USER_INPUT", /`client_id` must be the client that authenticates \(of_lab_demo\)/],
      [{}, "BAD_USER_INPUT", /`client_id` is required/],
    ];
    for (const [body, code, message] of cases) assertEnvelope(await askConsent(body), 400, code, message);

    assertEnvelope(await call("POST", "/v1/auth/consent", { headers: sandbox, raw: { contentType: "application/json", body: "{not json" } }), 400, "BAD_REQUEST", /not valid JSON/);
    assertEnvelope(await call("POST", "/v1/auth/consent", { headers: sandbox, raw: { contentType: "application/json", body: "[1,2]" } }), 400, "BAD_REQUEST", /JSON object/);
    assertEnvelope(await call("POST", "/v1/auth/consent", { headers: sandbox, raw: { contentType: "text/plain", body: "hello" } }), 415, "UNSUPPORTED_MEDIA_TYPE", /application\/json/);
    // curl -d without -H sends a form's content type: the JSON was read as one nameless form field.
    const json = JSON.stringify(BRIEF_CONSENT_REQUEST);
    for (const contentType of ["application/x-www-form-urlencoded", ""]) {
      const forgotten = await call("POST", "/v1/auth/consent", { headers: sandbox, raw: { contentType, body: json } });
      assertEnvelope(forgotten, 415, "UNSUPPORTED_MEDIA_TYPE", /send Content-Type: application\/json$/);
    }
    assertEnvelope(await call("POST", "/v1/auth/consent", { headers: sandbox, raw: { contentType: "application/x-www-form-urlencoded", body: "client_id=of_lab_demo" } }), 415, "UNSUPPORTED_MEDIA_TYPE", /send Content-Type: application\/json/);
    assertEnvelope(await call("POST", "/v1/auth/consent", { headers: sandbox }), 400, "BAD_USER_INPUT", /`client_id` is required/);
    assertEnvelope(
      await call("POST", "/v1/auth/consent", { headers: sandbox, json: { ...BRIEF_CONSENT_REQUEST, user_external_id: "x".repeat(70_000) } }),
      413,
      "PAYLOAD_TOO_LARGE",
    );
  });

  test("a user who does not exist, or who lives in another country, is 404 NOT_FOUND", async () => {
    assertEnvelope(await askConsent({ ...BRIEF_CONSENT_REQUEST, user_external_id: "USR_00000000" }), 404, "NOT_FOUND", /No such person in MX/);
    assertEnvelope(await askConsent({ ...BRIEF_CONSENT_REQUEST, user_external_id: peruvian }), 404, "NOT_FOUND", /No such person in MX/);
    assert.equal((await askConsent({ ...BRIEF_CONSENT_REQUEST, user_external_id: peruvian, country: "PE" })).status, 200, "the same user in their own country");
  });

  test("a scope that is not a person's to grant, unknown, or not allowed to the client is 403 FORBIDDEN naming it", async () => {
    assertEnvelope(await askConsent({ ...BRIEF_CONSENT_REQUEST, scopes: ["wellness.read", "reports.read"] }), 403, "FORBIDDEN", /`reports.read` is a client scope/);
    assertEnvelope(await askConsent({ ...BRIEF_CONSENT_REQUEST, scopes: ["wellness.read", "everything.read"] }), 403, "FORBIDDEN", /`everything.read` is not a kamina-graph scope/);
    assertEnvelope(
      await askConsent({ ...BRIEF_CONSENT_REQUEST, client_id: BANK.id, scopes: ["wellness.read", "coach.read"] }, asBank),
      403,
      "FORBIDDEN",
      /Client lab_bank_mx may not ask for `coach.read`/,
    );
  });

  test("an unknown or retired consent text version is 400 BAD_USER_INPUT", async () => {
    assertEnvelope(await askConsent({ ...BRIEF_CONSENT_REQUEST, consent_text_version: "2030-01-01" }), 400, "BAD_USER_INPUT", /`2030-01-01` is unknown; current: 2026-05-01/);
    assertEnvelope(await askConsent({ ...BRIEF_CONSENT_REQUEST, consent_text_version: "2025-01-01" }), 400, "BAD_USER_INPUT", /`2025-01-01` is retired; current: 2026-05-01/);
  });

  test("a country the client does not serve is 403 FORBIDDEN", async () => {
    const answer = await askConsent({ ...BRIEF_CONSENT_REQUEST, client_id: BANK.id, user_external_id: unserved.id, country: unserved.country }, asBank);
    assertEnvelope(answer, 403, "FORBIDDEN", new RegExp(`does not serve ${unserved.country}; it serves MX, PE`));
  });

  test("a bank's consent waits for the person: 202 without tokens, tokens once the app authorises it, and only once", async () => {
    const asked = await askConsent({ ...BRIEF_CONSENT_REQUEST, client_id: BANK.id }, asBank);
    assert.equal(asked.status, 202, JSON.stringify(asked.body));
    assert.deepEqual(asked.body, { consent_id: asked.body.consent_id, status: "AWAITING_AUTHORISATION" });
    const id: string = asked.body.consent_id;
    assert.equal(asked.headers.get("location"), `/v1/consents/${id}`);

    const exchange = () => call("POST", "/v1/auth/token", { headers: asBank, json: { grant_type: "urn:kamina:consent", consent_id: id } });
    assertEnvelope(await exchange(), 400, "AUTHORISATION_PENDING");

    assertEnvelope(await call("POST", `/v1/consents/${id}/authorise`), 401, "UNAUTHENTICATED", /x-kamina-app-key/);
    assertEnvelope(await call("POST", `/v1/consents/${id}/authorise`, { headers: { "x-kamina-app-key": "wrong-key-wrong-key" } }), 401, "UNAUTHENTICATED");
    assertEnvelope(await call("POST", `/v1/consents/${id}/authorise`, { headers: asBank }), 401, "UNAUTHENTICATED", /the Kamina app's/);
    assertEnvelope(await call("POST", "/v1/consents/cns_nope/authorise", { headers: appKey() }), 404, "NOT_FOUND");

    const authorised = await call("POST", `/v1/consents/${id}/authorise`, { headers: appKey() });
    assert.equal(authorised.status, 200, JSON.stringify(authorised.body));
    assert.equal(authorised.body.status, "AUTHORISED");
    assert.ok(Date.parse(authorised.body.expires_at) > Date.now() + 364 * 86_400_000, "an authorised consent lasts a year");
    assertEnvelope(await call("POST", `/v1/consents/${id}/authorise`, { headers: appKey() }), 409, "CONFLICT", /is AUTHORISED/);

    const tokens = await exchange();
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    assert.deepEqual(Object.keys(tokens.body).sort(), ["access_token", "consent_id", "expires_in", "refresh_token", "scope", "token_type"]);
    assert.equal(tokens.body.token_type, "Bearer");
    assert.equal(tokens.body.scope, "wellness.read debts.read expenses.read");
    // A live client reads the person under its own pairwise id (docs/compliance/pseudonymous-ids.md).
    assert.equal((await me(tokens.body.access_token)).body.data!.me.id, theirs(BANK.id, "USR_42891"));

    assertEnvelope(await exchange(), 400, "INVALID_GRANT", /already issued/);
    assertEnvelope(
      await call("POST", "/v1/auth/token", { headers: asOther, json: { grant_type: "urn:kamina:consent", consent_id: id } }),
      400,
      "INVALID_GRANT",
      /No consent/,
    );
  });

  test("the seeded live-flow client `of_lab_live` runs docs/auth.md's non-sandbox flow with its local secret", async () => {
    const live = basic("of_lab_live", "kamina-live-secret");
    const asked = await askConsent({ ...BRIEF_CONSENT_REQUEST, client_id: "of_lab_live" }, live);
    assert.equal(asked.status, 202, JSON.stringify(asked.body));
    assert.deepEqual(Object.keys(asked.body).sort(), ["consent_id", "status"]);
    assert.equal(asked.body.status, "AWAITING_AUTHORISATION");
    const id: string = asked.body.consent_id;
    assertEnvelope(await call("POST", "/v1/auth/token", { headers: live, form: { grant_type: "urn:kamina:consent", consent_id: id } }), 400, "AUTHORISATION_PENDING");
    assert.equal((await call("POST", `/v1/consents/${id}/authorise`, { headers: appKey() })).status, 200);
    const tokens = await call("POST", "/v1/auth/token", { headers: live, form: { grant_type: "urn:kamina:consent", consent_id: id } });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    const read = await me(tokens.body.access_token);
    assert.equal(read.body.data?.me.id, theirs("of_lab_live", "USR_42891"), JSON.stringify(read.body));
  });

  test("the person can reject a waiting consent, and it then yields no tokens", async () => {
    const asked = await askConsent({ ...BRIEF_CONSENT_REQUEST, client_id: BANK.id }, asBank);
    const id: string = asked.body.consent_id;
    assertEnvelope(await call("POST", `/v1/consents/${id}/reject`, { headers: appKey(), json: { reason: 7 } }), 400, "BAD_USER_INPUT", /`reason` must be a string/);
    const rejected = await call("POST", `/v1/consents/${id}/reject`, { headers: appKey(), json: { reason: "I do not know this bank" } });
    assert.equal(rejected.status, 200);
    assert.equal(rejected.body.status, "REJECTED");
    assert.deepEqual(rejected.body.history.map((event: { status: string }) => event.status), ["AWAITING_AUTHORISATION", "REJECTED"]);
    assert.equal(rejected.body.history[1].reason, "I do not know this bank");
    assertEnvelope(await call("POST", "/v1/auth/token", { headers: asBank, json: { grant_type: "urn:kamina:consent", consent_id: id } }), 400, "INVALID_GRANT", /REJECTED/);
    assertEnvelope(await call("POST", `/v1/consents/${id}/authorise`, { headers: appKey() }), 409, "CONFLICT");
  });

  test("GET /v1/consents/:id shows status, scopes, versions, timestamps and history to its own client (and the app) only", async () => {
    const created = await askConsent(BRIEF_CONSENT_REQUEST);
    const id: string = created.body.consent_id;
    const read = await call("GET", `/v1/consents/${id}`, { headers: sandbox });
    assert.equal(read.status, 200);
    const { created_at, authorised_at, expires_at, consent_text_sha256, history, ...rest } = read.body;
    assert.deepEqual(rest, {
      consent_id: id,
      client_id: DEMO_CLIENT,
      user_external_id: "USR_42891",
      country: "MX",
      status: "AUTHORISED",
      scopes: ["wellness.read", "debts.read", "expenses.read"],
      consent_text_version: "2026-05-01",
      revoked_at: null,
      revocation_reason: null,
    });
    assert.match(consent_text_sha256, /^[0-9a-f]{64}$/);
    assert.ok(Date.parse(created_at) <= Date.parse(authorised_at));
    assert.ok(Date.parse(expires_at) > Date.parse(authorised_at));
    assert.deepEqual(
      history.map((event: { status: string; reason: string }) => [event.status, event.reason]),
      [
        ["AWAITING_AUTHORISATION", "requested by client of_lab_demo"],
        ["AUTHORISED", "sandbox client: authorised at once"],
      ],
    );

    assertEnvelope(await call("GET", `/v1/consents/${id}`, { headers: asOther }), 404, "NOT_FOUND", new RegExp(`No consent ${id}`));
    assertEnvelope(await call("GET", "/v1/consents/cns_does_not_exist", { headers: sandbox }), 404, "NOT_FOUND");
    assertEnvelope(await call("GET", `/v1/consents/${id}`), 401, "UNAUTHENTICATED");
    assertEnvelope(await call("GET", "/v1/consents/%E0%A4%A", { headers: sandbox }), 400, "BAD_REQUEST");
    // A NUL byte would reach PostgreSQL, which refuses it in text (issue 16: it answered 500).
    assertEnvelope(await call("GET", "/v1/consents/%00", { headers: sandbox }), 400, "BAD_USER_INPUT", /control character/);
    assertEnvelope(await call("DELETE", "/v1/consents/cns_%0A", { headers: sandbox }), 400, "BAD_USER_INPUT", /control character/);
    assert.equal((await call("GET", `/v1/consents/${id}`, { headers: appKey() })).body.status, "AUTHORISED");
  });

  test("an expired consent reads as EXPIRED with an event, and its tokens stop working", async () => {
    const { prisma } = kamina.gateway!.auth;
    const created = await askConsent(BRIEF_CONSENT_REQUEST);
    const id: string = created.body.consent_id;
    assert.equal((await me(created.body.access_token)).status, 200);
    await prisma.consent.update({ where: { id }, data: { expiresAt: new Date(Date.now() - 1000) } });

    const answer = await me(created.body.access_token);
    assert.equal(answer.status, 401);
    assert.equal(answer.body.errors![0]!.extensions!.code, "CONSENT_REVOKED", "an ended consent, not an expired token: no refresh will help");
    assert.match(answer.body.errors![0]!.message, new RegExp(`Consent ${id} behind this token has expired`));
    const read = await call("GET", `/v1/consents/${id}`, { headers: sandbox });
    assert.equal(read.body.status, "EXPIRED");
    assert.deepEqual(read.body.history.at(-1).status, "EXPIRED");
    assert.equal(read.body.history.at(-1).reason, "reached its end date");
    assertEnvelope(
      await call("POST", "/v1/auth/token", { headers: sandbox, json: { grant_type: "refresh_token", refresh_token: created.body.refresh_token } }),
      400,
      "INVALID_GRANT",
    );
    assertEnvelope(await call("DELETE", `/v1/consents/${id}`, { headers: sandbox, json: { reason: "too late" } }), 409, "CONFLICT", /EXPIRED/);

    // A consent the person never answered expires too.
    const waiting = await askConsent({ ...BRIEF_CONSENT_REQUEST, client_id: BANK.id }, asBank);
    await prisma.consent.update({ where: { id: waiting.body.consent_id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    assertEnvelope(await call("POST", `/v1/consents/${waiting.body.consent_id}/authorise`, { headers: appKey() }), 409, "CONFLICT", /EXPIRED/);
    const history = (await call("GET", `/v1/consents/${waiting.body.consent_id}`, { headers: asBank })).body.history;
    assert.deepEqual(history.map((event: { status: string }) => event.status), ["AWAITING_AUTHORISATION", "EXPIRED"]);
  });

  test("revoking a consent takes effect on the very next request, at the gateway and at a subgraph behind it", async () => {
    const created = await askConsent(BRIEF_CONSENT_REQUEST);
    const id: string = created.body.consent_id;
    const token: string = created.body.access_token;
    assert.equal((await me(token)).status, 200);
    const direct = await debtsDirect(token);
    assert.equal(direct.status, 200, JSON.stringify(direct.body));
    assert.ok(Array.isArray(direct.body.data!._entities[0].debts));

    const other = await askConsent(BRIEF_CONSENT_REQUEST);
    const withoutBody = await call("DELETE", `/v1/consents/${other.body.consent_id}`, { headers: sandbox });
    assert.equal(withoutBody.status, 200, JSON.stringify(withoutBody.body));
    assert.deepEqual([withoutBody.body.status, withoutBody.body.revocation_reason], ["REVOKED", null], "the brief's revocation needs no body");
    assertEnvelope(await call("DELETE", `/v1/consents/${id}`, { headers: sandbox, json: { reason: "   " } }), 400, "BAD_USER_INPUT", /`reason` must not be empty/);
    assertEnvelope(await call("DELETE", `/v1/consents/${id}`, { headers: asOther, json: { reason: "not mine" } }), 404, "NOT_FOUND");
    assertEnvelope(await call("DELETE", `/v1/consents/${id}`, { json: { reason: "no credentials" } }), 401, "UNAUTHENTICATED");

    const revoked = await call("DELETE", `/v1/consents/${id}`, { headers: sandbox, json: { reason: "customer closed the account" } });
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    assert.equal(revoked.body.status, "REVOKED");
    assert.equal(revoked.body.revocation_reason, "customer closed the account");
    assert.ok(revoked.body.revoked_at);

    for (const answer of [await me(token), await debtsDirect(token)]) {
      assert.equal(answer.status, 401, JSON.stringify(answer.body));
      assert.equal(answer.body.errors![0]!.extensions!.code, "CONSENT_REVOKED", "a client tells a revoked consent from an expired token by its code");
      assert.match(answer.body.errors![0]!.message, new RegExp(`Consent ${id} behind this token was revoked`));
      assert.equal(answer.body.data, undefined, "nothing leaks beside the error");
    }
    const typename = JSON.stringify({ query: "{ __typename }" });
    for (const url of [kamina.graphqlUrl, kamina.subgraphs.debts!.url]) {
      // At the subgraph, signed as the gateway signs: the token check is the subgraph's own.
      const signed = url === kamina.graphqlUrl ? {} : gatewaySignatureHeader(kamina, { url, body: typename });
      const raw = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...bearer(token), ...signed }, body: typename });
      assert.equal(raw.status, 401);
      assert.match(raw.headers.get("www-authenticate") ?? "", /^Bearer realm="kamina-graph", error="invalid_token", error_description="Consent cns_\w+ behind this token was revoked/, url);
    }
    // A subgraph reached directly, as a partner would: refused before the token is even looked at.
    const unsigned = await postGraphQL(kamina.subgraphs.debts!.url, ENTITIES, { r: [{ __typename: "User", id: "USR_42891" }] }, bearer(token));
    assert.equal(unsigned.status, 401);
    assert.equal(unsigned.body.errors![0]!.extensions!.code, "GATEWAY_SIGNATURE_REQUIRED");
    const overRest = await call("GET", "/v1/debts", { headers: bearer(token) });
    assertEnvelope(overRest, 401, "CONSENT_REVOKED", /was revoked; ask the person for a new consent/);
    assert.match(overRest.headers.get("www-authenticate") ?? "", /error="invalid_token"/);
    assertEnvelope(
      await call("POST", "/v1/auth/token", { headers: sandbox, json: { grant_type: "refresh_token", refresh_token: created.body.refresh_token } }),
      400,
      "INVALID_GRANT",
      /revoked/,
    );

    const again = await call("DELETE", `/v1/consents/${id}?reason=again`, { headers: sandbox });
    assert.equal(again.status, 200, "revoking twice is not an error");
    assert.equal(again.body.history.filter((event: { status: string }) => event.status === "REVOKED").length, 1, "and writes no second event");
  });

  test("the person can revoke from the app, with the reason as a query parameter", async () => {
    const token = await consentToken(kamina, "USR_42891");
    const id = decodeJwt(token).consent_id as string;
    const revoked = await call("DELETE", `/v1/consents/${id}?reason=${encodeURIComponent("I changed my mind")}`, { headers: appKey() });
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.history.at(-1).reason, "revoked by the person in the Kamina app: I changed my mind");
    assert.equal((await me(token)).status, 401);
  });

  test("receipts are listed newest first, a page at a time, to the owning client only", async () => {
    const { prisma } = kamina.gateway!.auth;
    const created = await askConsent(BRIEF_CONSENT_REQUEST);
    const id: string = created.body.consent_id;
    const base = Date.now() - 60_000;
    await prisma.auditEvent.createMany({
      data: [
        ...[0, 1, 2, 3, 4].map((index) => ({
          at: new Date(base + index * 1000),
          action: "consent.receipt",
          requestId: `req-${index}`,
          clientId: DEMO_CLIENT,
          userId: "USR_42891",
          consentId: id,
          country: "MX" as const,
          scopes: ["wellness.read"],
          fields: ["User.wellness"],
        })),
        // Two receipts that share a timestamp still page apart by id.
        { at: new Date(base + 4000), action: "consent.receipt", requestId: "req-5", clientId: DEMO_CLIENT, userId: "USR_42891", consentId: id, country: "MX", scopes: [], fields: [] },
        { at: new Date(base), action: "consent.other", consentId: id, scopes: [], fields: [] },
        { at: new Date(base), action: "consent.receipt", consentId: "cns_someone_else", scopes: [], fields: [] },
      ],
    });

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : "?limit=2";
      const page = await call("GET", `/v1/consents/${id}/receipts${query}`, { headers: sandbox });
      assert.equal(page.status, 200, JSON.stringify(page.body));
      assert.ok(page.body.items.length <= 2);
      seen.push(...page.body.items.map((item: { request_id: string }) => item.request_id));
      cursor = page.body.page.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    assert.deepEqual(seen, ["req-5", "req-4", "req-3", "req-2", "req-1", "req-0"]);
    assert.equal(pages, 3);

    const first = (await call("GET", `/v1/consents/${id}/receipts?limit=1`, { headers: sandbox })).body.items[0];
    assert.deepEqual(Object.keys(first).sort(), ["at", "client_id", "consent_id", "country", "detail", "fields", "receipt_id", "request_id", "request_ids", "scopes", "user_external_id"]);
    assert.deepEqual(first.request_ids, ["req-5"], "a receipt of one request names it alone");

    assertEnvelope(await call("GET", `/v1/consents/${id}/receipts?limit=0`, { headers: sandbox }), 400, "BAD_USER_INPUT", /`limit`/);
    assertEnvelope(await call("GET", `/v1/consents/${id}/receipts?limit=ten`, { headers: sandbox }), 400, "BAD_USER_INPUT", /`limit`/);
    assertEnvelope(await call("GET", `/v1/consents/${id}/receipts?cursor=bm9wZQ`, { headers: sandbox }), 400, "BAD_USER_INPUT", /`cursor`/);
    // Well-formed cursors holding what PostgreSQL cannot store: an id past bigint, a year before 1 (they answered 500).
    for (const key of [["2026-05-01T00:00:00.000Z", "9999999999999999999"], ["-271821-04-20T00:00:00.000Z", "1"]]) {
      const cursor = Buffer.from(JSON.stringify(key)).toString("base64url");
      assertEnvelope(await call("GET", `/v1/consents/${id}/receipts?cursor=${cursor}`, { headers: sandbox }), 400, "BAD_USER_INPUT", /`cursor`/);
    }
    assertEnvelope(await call("GET", `/v1/consents/${id}/receipts`, { headers: asOther }), 404, "NOT_FOUND");
    assertEnvelope(await call("GET", `/v1/consents/${id}/receipts`), 401, "UNAUTHENTICATED");
  });

  test("every consent route answers as /v1/openapi.json documents it, on success and on a bad input", async () => {
    const { checker, check, problems, document } = await contractCalls(call);

    const sandboxConsent = await check("POST", "/v1/auth/consent", { headers: sandbox, json: BRIEF_CONSENT_REQUEST }, 200);
    await check("POST", "/v1/auth/consent", { headers: sandbox, json: { ...BRIEF_CONSENT_REQUEST, country: "AR" } }, 400);
    const id: string = sandboxConsent.body.consent_id;
    await check("GET", `/v1/consents/${id}`, { headers: sandbox }, 200);
    await check("GET", `/v1/consents/${id}`, { headers: asOther }, 404);
    await kamina.gateway!.auth.prisma.auditEvent.create({
      data: {
        action: "consent.receipt",
        requestId: "req-contract",
        clientId: DEMO_CLIENT,
        userId: "USR_42891",
        consentId: id,
        country: "MX",
        scopes: ["wellness.read"],
        fields: ["User.wellness"],
        detail: { tokenUse: "consent", operationName: null },
      },
    });
    await check("GET", `/v1/consents/${id}/receipts?limit=5`, { headers: sandbox }, 200);
    await check("GET", `/v1/consents/${id}/receipts?limit=0`, { headers: sandbox }, 400);
    await check("DELETE", `/v1/consents/${id}`, { headers: sandbox, json: { reason: "   " } }, 400);
    await check("DELETE", `/v1/consents/${id}?reason=contract`, { headers: sandbox }, 200);

    const waiting = await check("POST", "/v1/auth/consent", { headers: asBank, json: { ...BRIEF_CONSENT_REQUEST, client_id: BANK.id } }, 202);
    const rejecting = await check("POST", "/v1/auth/consent", { headers: asBank, json: { ...BRIEF_CONSENT_REQUEST, client_id: BANK.id } }, 202);
    await check("POST", `/v1/consents/${waiting.body.consent_id}/authorise`, { headers: appKey() }, 200);
    await check("POST", `/v1/consents/${waiting.body.consent_id}/authorise`, { headers: appKey() }, 409);
    await check("POST", `/v1/consents/${rejecting.body.consent_id}/reject`, { headers: appKey(), json: { reason: 7 } }, 400);
    await check("POST", `/v1/consents/${rejecting.body.consent_id}/reject`, { headers: appKey(), json: { reason: "I do not know this bank" } }, 200);

    assert.deepEqual(problems, []);
    const operations = ["POST /v1/auth/consent", "GET /v1/consents/{id}", "DELETE /v1/consents/{id}", "POST /v1/consents/{id}/authorise", "POST /v1/consents/{id}/reject", "GET /v1/consents/{id}/receipts"];
    for (const operation of operations) {
      const [method, path] = operation.split(" ") as [string, string];
      assert.ok(checker.operations().includes(operation), `${operation} is in the document`);
      assert.equal(document.paths[path][method.toLowerCase()]["x-undocumented"], undefined, `${operation} has a spec`);
    }
  });

  test("without a token only the consent, token and key endpoints and health answer; unknown /v1 paths are a 404 envelope", async () => {
    assert.equal((await call("GET", "/healthz")).status, 200);
    assert.equal((await call("GET", "/.well-known/jwks.json")).status, 200);
    const graphql = await postGraphQL(kamina.graphqlUrl, "{ me { id } }");
    assert.equal(graphql.status, 401);
    assert.equal(graphql.body.errors![0]!.extensions!.code, "UNAUTHENTICATED");
    assertEnvelope(await call("GET", "/v1/nothing-here"), 404, "NOT_FOUND", /No route for GET \/v1\/nothing-here/);
    assertEnvelope(await call("GET", "/v1"), 404, "NOT_FOUND");
    const put = await call("PUT", "/v1/auth/consent");
    assertEnvelope(put, 405, "METHOD_NOT_ALLOWED", /PUT is not allowed/);
    assert.equal(put.headers.get("allow"), "POST");
  });
});
