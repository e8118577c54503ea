// Trusted documents (issue 16, item 4): with TRUSTED_DOCUMENTS=enforce a client runs over HTTP
// only the documents registered for it, by hash (Apollo's APQ extension or `documentId`); raw
// queries, unknown hashes, another client's documents and APQ registration are refused with a
// code. Off, nothing changes. Introspection and "Did you mean" suggestions go off in production,
// and the subgraphs' `_service` and `_entities` are not part of what the gateway serves.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { startGateway, type RunningGateway } from "../gateway/server.ts";
import { documentHash, FIRST_PARTY, TrustedDocumentStore } from "../gateway/trusted-documents/trusted-document-store.ts";
import { CLIENT_SCOPES, USER_SCOPES } from "../platform/auth/scopes.ts";
import { loadConfig, SUBGRAPH_NAMES, type SubgraphName } from "../platform/config/config.ts";
import type { PrismaClient } from "../platform/database/database.ts";
import { createLogger } from "../platform/logger.ts";
import { hashSecret } from "../platform/secret-hash.ts";
import type { TestDatabase } from "../testkit/postgres.ts";
import { basic, bearer, CONSENT_TEXT_VERSION, DEMO_CLIENT, TEST_SANDBOX_SECRET } from "../testkit/tokens.ts";
import { startTestKamina } from "./support/kamina.ts";
import { createRealtimeDatabase, PERSON_A } from "./support/realtime.ts";
import { rest } from "./support/rest.ts";

const REPO_ROOT = fileURLToPath(new URL("../", import.meta.url));
const OTHER_CLIENT = "td_other_client";
const OTHER_SECRET = "td-other-client-secret-0123456789";

const PING = "query Ping { __typename }";
const MY_WELLNESS = "query MyWellness { me { id wellness { score band } } }";
const OTHERS_ONLY = "query OthersOnly { users(first: 1) { totalCount } }";
const INTROSPECTION = "query Schema { __schema { queryType { name } } }";

interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

async function post(url: string, token: string, body: Record<string, unknown>): Promise<Answer> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...bearer(token) }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Answer["body"] };
}

/** Apollo's APQ request: the hash, and the text only when registering. */
const persisted = (sha256: string, query?: string) => ({ ...(query !== undefined ? { query } : {}), extensions: { persistedQuery: { version: 1, sha256Hash: sha256 } } });

function assertRefused(answer: Answer, code: string, what: string): void {
  assert.equal(answer.status, 400, `${what}: ${JSON.stringify(answer.body)}`);
  assert.equal(answer.body.errors?.[0]?.extensions?.code, code, `${what}: ${JSON.stringify(answer.body)}`);
  assert.equal(answer.body.data, undefined, `${what}: no data`);
}

function assertServed(answer: Answer, what: string): void {
  assert.equal(answer.status, 200, `${what}: ${JSON.stringify(answer.body)}`);
  assert.equal(answer.body.errors, undefined, `${what}: ${JSON.stringify(answer.body.errors)}`);
}

describe("trusted documents", () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  /** The same subgraphs behind gateways configured otherwise. */
  const gateways: RunningGateway[] = [];
  let documentsDir: string;
  let consent: string;
  let demoClient: string;
  let otherClient: string;

  async function gatewayWith(env: Record<string, string>): Promise<RunningGateway> {
    const config = loadConfig({ HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "silent", ...env });
    const subgraphUrls = Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, kamina.subgraphs[name]!.url])) as Record<SubgraphName, string>;
    const gateway = await startGateway({ config, database: kamina.database, host: "127.0.0.1", port: 0, subgraphUrls, logger: createLogger("silent") });
    gateways.push(gateway);
    return gateway;
  }

  async function clientToken(origin: string, clientId: string, secret: string): Promise<string> {
    const answer = await rest(origin, "POST", "/v1/auth/token", { headers: basic(clientId, secret), form: { grant_type: "client_credentials" } });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body.access_token as string;
  }

  before(async () => {
    ({ database, prisma } = await createRealtimeDatabase());
    await prisma.partnerClient.create({
      data: { id: OTHER_CLIENT, name: "Another partner", secretHash: await hashSecret(OTHER_SECRET), countries: ["MX"], allowedScopes: [...USER_SCOPES], clientScopes: [...CLIENT_SCOPES] },
    });
    kamina = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 4 }, { TRUSTED_DOCUMENTS: "enforce" });
    const origin = kamina.gateway!.origin;
    const granted = await rest(origin, "POST", "/v1/auth/consent", {
      headers: basic(DEMO_CLIENT, TEST_SANDBOX_SECRET),
      json: { client_id: DEMO_CLIENT, user_external_id: PERSON_A, scopes: ["wellness.read"], country: "MX", consent_text_version: CONSENT_TEXT_VERSION },
    });
    assert.equal(granted.status, 200, JSON.stringify(granted.body));
    consent = granted.body.access_token as string;
    demoClient = await clientToken(origin, DEMO_CLIENT, TEST_SANDBOX_SECRET);
    otherClient = await clientToken(origin, OTHER_CLIENT, OTHER_SECRET);

    // The operator registers the demo client's documents with the script, as in production.
    documentsDir = await mkdtemp(join(tmpdir(), "kamina-documents-"));
    const files = { "ping.graphql": PING, "my-wellness.graphql": MY_WELLNESS, "schema.graphql": INTROSPECTION };
    for (const [name, text] of Object.entries(files)) await writeFile(join(documentsDir, name), text);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "scripts/documents-push.ts", "--client", DEMO_CLIENT, ...Object.keys(files).map((name) => join(documentsDir, name))],
      { cwd: REPO_ROOT, env: { ...process.env, DATABASE_URL: database.url } },
    );
    for (const text of Object.values(files)) assert.match(stdout, new RegExp(`${documentHash(text)} .* registered`));
    await new TrustedDocumentStore(prisma).register(OTHER_CLIENT, [OTHERS_ONLY]);
  });

  after(async () => {
    for (const gateway of gateways) await gateway.stop();
    await kamina?.stop();
    await prisma?.$disconnect();
    await database?.drop();
    if (documentsDir) await rm(documentsDir, { recursive: true, force: true });
  });

  test("enforced: a registered document runs by its APQ hash, by documentId, and over GET", async () => {
    const byHash = await post(kamina.graphqlUrl, consent, persisted(documentHash(MY_WELLNESS)));
    assertServed(byHash, "by APQ hash");
    assert.equal(byHash.body.data.me.id, PERSON_A);
    assert.equal(byHash.body.data.me.wellness.band, "AMBER");

    assertServed(await post(kamina.graphqlUrl, consent, { documentId: `sha256:${documentHash(MY_WELLNESS)}` }), "by documentId");
    assertServed(await post(kamina.graphqlUrl, demoClient, { documentId: documentHash(PING) }), "a client token, documentId without prefix");
    // The text may come along when it is the registered one.
    assertServed(await post(kamina.graphqlUrl, consent, persisted(documentHash(PING), PING)), "hash and its own text");

    const extensions = encodeURIComponent(JSON.stringify(persisted(documentHash(PING)).extensions));
    const overGet = await fetch(`${kamina.graphqlUrl}?extensions=${extensions}`, { headers: { ...bearer(consent), "apollo-require-preflight": "true" } });
    assert.equal(overGet.status, 200);
    assert.deepEqual(await overGet.json(), { data: { __typename: "Query" } });
  });

  test("enforced: a raw query, an unknown hash and another client's document are refused with a code", async () => {
    const raw = await post(kamina.graphqlUrl, consent, { query: MY_WELLNESS });
    assertRefused(raw, "PERSISTED_QUERY_REQUIRED", "a raw query");
    assert.match(raw.body.errors![0]!.message, /sha256Hash|documentId/);
    assertRefused(await post(kamina.graphqlUrl, demoClient, { query: "{ __typename }" }), "PERSISTED_QUERY_REQUIRED", "a raw query with a client token");
    const rawOverGet = await fetch(`${kamina.graphqlUrl}?query=${encodeURIComponent(PING)}`, { headers: { ...bearer(consent), "apollo-require-preflight": "true" } });
    assert.equal(rawOverGet.status, 400);
    assert.equal(((await rawOverGet.json()) as Answer["body"]).errors?.[0]?.extensions?.code, "PERSISTED_QUERY_REQUIRED");

    assertRefused(await post(kamina.graphqlUrl, consent, persisted("0".repeat(64))), "PERSISTED_QUERY_NOT_FOUND", "an unknown hash");
    assertRefused(await post(kamina.graphqlUrl, consent, { documentId: "not-a-hash" }), "PERSISTED_QUERY_NOT_FOUND", "a malformed documentId");
    assertRefused(await post(kamina.graphqlUrl, demoClient, persisted(documentHash(OTHERS_ONLY))), "PERSISTED_QUERY_NOT_FOUND", "another client's document");
    assertServed(await post(kamina.graphqlUrl, otherClient, persisted(documentHash(OTHERS_ONLY))), "that document, by its own client");
    assertRefused(await post(kamina.graphqlUrl, otherClient, persisted(documentHash(PING))), "PERSISTED_QUERY_NOT_FOUND", "the demo client's document, by the other");

    // A text that is not the one hashed is not run in its place.
    assertRefused(await post(kamina.graphqlUrl, consent, persisted(documentHash(PING), "{ me { id } }")), "BAD_REQUEST", "a hash with another text");
    // No token is still a 401, before anything about documents.
    const anonymous = await fetch(kamina.graphqlUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: PING }) });
    assert.equal(anonymous.status, 401);
  });

  test("enforced: a subscription over graphql-ws runs only a registered document too", async () => {
    const ALERTS = "subscription Alerts { alertCreated { id type } }";
    await new TrustedDocumentStore(prisma).register(DEMO_CLIENT, [ALERTS]);
    /** The first error the socket answers a subscription with (a refusal before it starts), or "started" once it is running. */
    const firstAnswer = async (payload: { query: string; extensions?: Record<string, unknown> }) => {
      const client = createClient({ url: kamina.graphqlUrl.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${consent}` }, retryAttempts: 0 });
      try {
        return await new Promise<string>((resolve) => {
          client.subscribe(payload, {
            next: (result) => resolve(String(result.errors?.[0]?.extensions?.code ?? "data")),
            error: (errors) => resolve(String((errors as { extensions?: { code?: string } }[])[0]?.extensions?.code ?? errors)),
            complete: () => resolve("complete"),
          });
        });
      } finally {
        await client.dispose();
      }
    };
    assert.equal(await firstAnswer({ query: ALERTS }), "PERSISTED_QUERY_REQUIRED", "the text alone");
    assert.equal(await firstAnswer({ query: "", extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } } }), "PERSISTED_QUERY_NOT_FOUND", "an unknown hash");
    // Admitted by its hash, the registered text runs: the consent lacks alerts.read, so the field's own refusal answers.
    assert.equal(await firstAnswer({ query: "", extensions: { persistedQuery: { version: 1, sha256Hash: documentHash(ALERTS) } } }), "UNAUTHORIZED_FIELD_OR_TYPE", "by hash");
  });

  test("enforced: APQ registration is off; sending the text registers nothing", async () => {
    const text = "query Probe { me { id } }";
    const hash = documentHash(text);
    assertRefused(await post(kamina.graphqlUrl, consent, persisted(hash)), "PERSISTED_QUERY_NOT_FOUND", "the APQ link's first try");
    const registration = await post(kamina.graphqlUrl, consent, persisted(hash, text));
    assertRefused(registration, "PERSISTED_QUERY_NOT_FOUND", "the APQ link's registration");
    assert.match(registration.body.errors![0]!.message, /does not register/);
    assertRefused(await post(kamina.graphqlUrl, consent, persisted(hash)), "PERSISTED_QUERY_NOT_FOUND", "the hash after the attempt");
    assert.equal(await prisma.trustedDocument.count({ where: { sha256: hash } }), 0);
  });

  test("enforced: the REST routes' own stored operations still run", async () => {
    const answer = await rest(kamina.gateway!.origin, "GET", "/v1/diagnosis/latest", { headers: bearer(consent) });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.user_id, PERSON_A);
  });

  test("the shared first-party set serves the clients named first-party, and only them", async () => {
    const gateway = await gatewayWith({ TRUSTED_DOCUMENTS: "enforce", TRUSTED_DOCUMENTS_FIRST_PARTY_CLIENTS: OTHER_CLIENT });
    const shared = "query SharedFirstParty { __typename }";
    await new TrustedDocumentStore(prisma).register(FIRST_PARTY, [shared]);
    assertServed(await post(gateway.url, otherClient, persisted(documentHash(shared))), "a first-party client");
    assertRefused(await post(gateway.url, demoClient, persisted(documentHash(shared))), "PERSISTED_QUERY_NOT_FOUND", "a partner client");
  });

  test("off (the local default): raw queries run and automatic persisted queries work as before", async () => {
    const gateway = await gatewayWith({});
    assertServed(await post(gateway.url, consent, { query: "{ me { id } }" }), "a raw query");
    const text = "query OffModeApq { me { id } }";
    const first = await post(gateway.url, consent, persisted(documentHash(text)));
    assert.equal(first.body.errors?.[0]?.extensions?.code, "PERSISTED_QUERY_NOT_FOUND", "unknown to the APQ cache");
    assertServed(await post(gateway.url, consent, persisted(documentHash(text), text)), "registering");
    const again = await post(gateway.url, consent, persisted(documentHash(text)));
    assertServed(again, "by hash once registered");
    assert.equal(again.body.data.me.id, PERSON_A);
    assert.equal(await prisma.trustedDocument.count({ where: { sha256: documentHash(text) } }), 0, "APQ is a cache, not the trusted store");
  });

  test("production turns enforcement on and introspection and suggestions off by default", () => {
    const secrets = {
      KEY_ENCRYPTION_KEY: Buffer.from(Array.from({ length: 32 }, (_, index) => index * 7 + 1)).toString("base64url"),
      APP_API_KEY: "q8Zr2mX5vT1pL9wK4nB7cD3fG6hJ0sAe",
      SANDBOX_CLIENT_SECRET: "V3nR8tY1uI5oP2aS6dF9gH4jK7lZ0xCm",
      LIVE_CLIENT_SECRET: "Lq4Wm8Zt2Xv6Bn0Rk3Hj7Gd1Fs5Ya9Pc",
    };
    const production = loadConfig({ NODE_ENV: "production", ...secrets }).security;
    assert.equal(production.trustedDocuments, "enforce");
    assert.equal(production.introspection, false);
    assert.equal(production.suggestions, false);
    const local = loadConfig({}).security;
    assert.deepEqual([local.trustedDocuments, local.introspection, local.suggestions], ["off", true, true]);
    assert.equal(loadConfig({ NODE_ENV: "production", TRUSTED_DOCUMENTS: "off", ...secrets }).security.trustedDocuments, "off", "an explicit setting wins");
  });

  test("introspection off: refused with INTROSPECTION_DISABLED, by text or by registered hash, and no suggestions", async () => {
    const strict = await gatewayWith({ GRAPHQL_INTROSPECTION: "false", GRAPHQL_SUGGESTIONS: "false" });
    for (const query of [INTROSPECTION, `{ __type(name: "User") { fields { name } } }`, `query { ...Q } fragment Q on Query { __schema { types { name } } }`]) {
      const answer = await post(strict.url, consent, { query });
      assertRefused(answer, "INTROSPECTION_DISABLED", query);
    }
    assertServed(await post(strict.url, consent, { query: "{ __typename me { __typename } }" }), "__typename stays");

    const enforced = await gatewayWith({ TRUSTED_DOCUMENTS: "enforce", GRAPHQL_INTROSPECTION: "false" });
    assertRefused(await post(enforced.url, consent, persisted(documentHash(INTROSPECTION))), "INTROSPECTION_DISABLED", "a registered introspection document");
    assertServed(await post(kamina.graphqlUrl, consent, persisted(documentHash(INTROSPECTION))), "where introspection is on");

    const typo = await post(strict.url, consent, { query: "{ me { wellnes { score } } }" });
    assertRefused(typo, "GRAPHQL_VALIDATION_FAILED", "a misspelt field");
    assert.doesNotMatch(typo.body.errors![0]!.message, /Did you mean/);
    const local = await gatewayWith({});
    const suggested = await post(local.url, consent, { query: "{ me { wellnes { score } } }" });
    assert.match(suggested.body.errors![0]!.message, /Did you mean "wellness"/, "locally the suggestion helps");
  });

  test("the subgraphs' _service and _entities are not reachable through the gateway", async () => {
    const open = await gatewayWith({});
    const attempts = [
      "{ _service { sdl } }",
      `{ _entities(representations: [{ __typename: "User", id: "${PERSON_A}" }]) { ... on User { id } } }`,
      `query($r: [_Any!]!) { _entities(representations: $r) { __typename } }`,
    ];
    for (const query of attempts) {
      const answer = await post(open.url, demoClient, { query, variables: { r: [{ __typename: "User", id: PERSON_A }] } });
      assert.equal(answer.status, 400, `${query}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.errors?.[0]?.extensions?.code, "GRAPHQL_VALIDATION_FAILED", query);
      assert.equal(answer.body.data, undefined);
    }
    // Registered or not, a document cannot reach them either: the API schema has no such fields.
    const serviceDocument = "query Service { _service { sdl } }";
    await new TrustedDocumentStore(prisma).register(DEMO_CLIENT, [serviceDocument]);
    const registered = await post(kamina.graphqlUrl, demoClient, persisted(documentHash(serviceDocument)));
    assertRefused(registered, "GRAPHQL_VALIDATION_FAILED", "a registered _service document");
    // Nor does introspection show them.
    const types = await post(open.url, demoClient, { query: "{ __schema { queryType { fields { name } } types { name } } }" });
    assertServed(types, "introspection where it is on");
    const names = [...types.body.data.__schema.queryType.fields.map((field: { name: string }) => field.name), ...types.body.data.__schema.types.map((type: { name: string }) => type.name)];
    for (const hidden of ["_service", "_entities", "_Service", "_Entity", "_Any"]) assert.ok(!names.includes(hidden), `${hidden} is not in the gateway's schema`);
  });
});
