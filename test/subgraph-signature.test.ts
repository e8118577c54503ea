// Subgraph ports serve only the gateway (issue 16, cause 5): every request the gateway sends a
// subgraph is signed (time, method, path, body) with a key derived from KEY_ENCRYPTION_KEY, and a
// subgraph refuses anything else before parsing it or running a resolver. So a partner's token at
// a subgraph port meets neither the subgraph's leaner DPoP check nor its missing receipts: it
// meets a 401.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { startGateway, type RunningGateway } from "../gateway/server.ts";
import { GATEWAY_SIGNATURE_HEADER, GatewaySignature } from "../platform/auth/gateway-signature.ts";
import { RECEIPTS_EXTENSION } from "../platform/auth/field-access.ts";
import { ConfigError, loadConfig, SUBGRAPH_NAMES, type SubgraphName } from "../platform/config/config.ts";
import { LOCAL_KEY_ENCRYPTION_KEY } from "../platform/config/secret-policy.ts";
import { createLogger } from "../platform/logger.ts";
import { gatewaySignatureHeader, postAsGateway } from "../testkit/gateway-signature.ts";
import type { TestDatabase } from "../testkit/postgres.ts";
import { bearer, consentToken } from "../testkit/tokens.ts";
import { countStatements, postGraphQL, startTestKamina } from "./support/kamina.ts";
import { startSeededKamina, stopSeededKamina } from "./support/seeded-kamina.ts";

const ENTITIES = `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { debts { id } } } }`;
const PERSON = { r: [{ __typename: "User", id: "USR_42891" }] };

describe("a gateway signature, on its own", () => {
  const signatures = new GatewaySignature(randomBytes(32));
  const request = { method: "POST", target: "/graphql", body: '{"query":"{ __typename }"}' };

  test("verifies for the request it was made for, whether named by path or by URL", () => {
    assert.equal(signatures.verify(signatures.sign(request), request), undefined);
    assert.equal(signatures.verify(signatures.sign({ ...request, target: "http://127.0.0.1:4002/graphql" }), request), undefined);
    assert.equal(signatures.verify(signatures.sign(request), { ...request, body: Buffer.from(request.body) }), undefined, "a string and its bytes are the same body");
  });

  test("refuses none, garbage, another key's, a stale or future one, and one for another method, path, query string or body", () => {
    const signed = signatures.sign(request);
    assert.equal(signatures.verify(undefined, request), "missing");
    for (const garbage of ["", "v1", "v2,t=1,s=x", `${signed}x`, signed.replace("v1,", "v2,"), "x".repeat(5_000)]) {
      assert.ok(signatures.verify(garbage, request) !== undefined, garbage);
    }
    assert.equal(new GatewaySignature(randomBytes(32)).verify(signed, request), "mismatch", "another key-encryption key");
    assert.equal(signatures.verify(signatures.sign(request, Date.now() - 31_000), request), "stale");
    assert.equal(signatures.verify(signatures.sign(request, Date.now() + 31_000), request), "stale");
    assert.equal(signatures.verify(signed, { ...request, method: "GET" }), "mismatch");
    assert.equal(signatures.verify(signed, { ...request, target: "/other" }), "mismatch");
    assert.equal(signatures.verify(signed, { ...request, target: "/graphql?query=%7B__typename%7D" }), "mismatch");
    assert.equal(signatures.verify(signed, { ...request, body: '{"query":"{ _service { sdl } }"}' }), "mismatch");
    const [, time] = /t=(\d+)/.exec(signed)!;
    assert.equal(signatures.verify(signed.replace(`t=${time}`, `t=${Number(time) + 1}`), request), "mismatch", "the time is signed too");
  });

  test("during a KEK rotation: signed under the current key, verified under it and the previous ones, never the public local key", () => {
    const [old, next, other] = [randomBytes(32), randomBytes(32), randomBytes(32)];
    const rotated = new GatewaySignature(next, [old]);
    // Instances not restarted yet sign under the old key; those restarted, under the new one.
    assert.equal(rotated.verify(new GatewaySignature(old).sign(request), request), undefined, "the previous key's signature");
    assert.equal(rotated.verify(rotated.sign(request), request), undefined);
    assert.equal(new GatewaySignature(old, [next]).verify(rotated.sign(request), request), undefined, "the first step of a rotation: the new key accepted before any instance signs with it");
    assert.equal(new GatewaySignature(old).verify(rotated.sign(request), request), "mismatch", "signed under the current key, not the previous one");
    assert.equal(rotated.verify(new GatewaySignature(other).sign(request), request), "mismatch");
    // Moving off the public local key lists it as previous (to unwrap old data keys): what anyone can sign with it stays refused.
    const offPublic = new GatewaySignature(next, [LOCAL_KEY_ENCRYPTION_KEY]);
    assert.equal(offPublic.verify(new GatewaySignature(LOCAL_KEY_ENCRYPTION_KEY).sign(request), request), "mismatch");
    assert.equal(new GatewaySignature(LOCAL_KEY_ENCRYPTION_KEY).verify(new GatewaySignature(LOCAL_KEY_ENCRYPTION_KEY).sign(request), request), undefined, "local use, where it is the current key");
  });
});

describe("subgraph ports serve only the gateway", () => {
  let database: TestDatabase;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  let sql: pg.Client;
  let token: string;
  const gateways: RunningGateway[] = [];

  before(async () => {
    ({ database, kamina, sql } = await startSeededKamina({ users: 20, seed: 16, poolSize: 3 }));
    token = await consentToken(kamina, "USR_42891", ["debts.read", "wellness.read"]);
  });

  after(async () => {
    for (const gateway of gateways) await gateway.stop();
    await stopSeededKamina({ database, kamina, sql });
  });

  /** A raw POST to a subgraph port, with exactly the headers given. */
  async function post(url: string, body: string, headers: Record<string, string>) {
    const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...bearer(token), ...headers }, body });
    return { status: response.status, body: (await response.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[]; extensions?: unknown } };
  }

  function assertRefused(answer: Awaited<ReturnType<typeof post>>, what: string) {
    assert.equal(answer.status, 401, `${what}: ${JSON.stringify(answer.body)}`);
    assert.equal(answer.body.errors?.[0]?.extensions?.code, "GATEWAY_SIGNATURE_REQUIRED", what);
    assert.equal(answer.body.data, undefined, what);
    assert.equal(answer.body.extensions, undefined, `${what}: no ${RECEIPTS_EXTENSION}`);
  }

  test("an unsigned request is refused at every subgraph port before any resolver or token check runs", async () => {
    const body = JSON.stringify({ query: "{ __typename }" });
    const statements = await countStatements(kamina, async () => {
      for (const name of SUBGRAPH_NAMES) assertRefused(await post(kamina.subgraphs[name]!.url, body, {}), name);
    });
    assert.deepEqual(Object.values(statements), SUBGRAPH_NAMES.map(() => 0), "no SQL: refused before the token's database check");
  });

  test("a forged signature, a stale one, and one made for another body or path are refused", async () => {
    const url = kamina.subgraphs.debts!.url;
    const body = JSON.stringify({ query: ENTITIES, variables: PERSON });
    const forged = new GatewaySignature(randomBytes(32)).sign({ method: "POST", target: url, body });
    assertRefused(await post(url, body, { [GATEWAY_SIGNATURE_HEADER]: forged }), "forged (another key)");
    assertRefused(await post(url, body, gatewaySignatureHeader(kamina, { url, body }, Date.now() - 31_000)), "stale");
    const other = JSON.stringify({ query: "{ _service { sdl } }" });
    assertRefused(await post(url, other, gatewaySignatureHeader(kamina, { url, body })), "a captured signature on another body");
    assertRefused(await post(`${url}?x=1`, body, gatewaySignatureHeader(kamina, { url, body })), "another path");
    assertRefused(await post(url, body, gatewaySignatureHeader(kamina, { url, body, method: "GET" })), "another method");
    const get = await fetch(`${url}?query=${encodeURIComponent("{ __typename }")}`, { headers: { "apollo-require-preflight": "true" } });
    assert.equal(get.status, 401, "a GET with no signature");
  });

  test("a signed request is served, and /healthz stays open", async () => {
    const url = kamina.subgraphs.debts!.url;
    const answer = await postAsGateway(kamina, url, ENTITIES, PERSON, bearer(token));
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.ok(Array.isArray(answer.body.data?._entities?.[0]?.debts), JSON.stringify(answer.body));
    for (const name of SUBGRAPH_NAMES) assert.equal((await fetch(kamina.subgraphs[name]!.url.replace(/\/graphql$/, "/healthz"))).status, 200, name);
  });

  test("through the gateway nothing changes for a partner, and the internal receipts extension never reaches it", async () => {
    const answer = await postGraphQL(kamina.graphqlUrl, `{ me { id wellness { score } debts { id } } }`, {}, bearer(token));
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.errors, undefined, JSON.stringify(answer.body.errors));
    assert.ok(Array.isArray(answer.body.data?.me?.debts));
    assert.equal((answer.body as { extensions?: Record<string, unknown> }).extensions?.[RECEIPTS_EXTENSION], undefined);
  });

  /** The same subgraphs behind another gateway that reaches them over HTTP (`localhost` is another origin than the in-process one). */
  async function gatewayOverHttp(env: Record<string, string> = {}): Promise<RunningGateway> {
    const config = loadConfig({ HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "silent", ...env });
    const subgraphUrls = Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, kamina.subgraphs[name]!.url.replace("127.0.0.1", "localhost")])) as Record<SubgraphName, string>;
    const gateway = await startGateway({ config, database: kamina.database, host: "127.0.0.1", port: 0, subgraphUrls, logger: createLogger("silent") });
    gateways.push(gateway);
    return gateway;
  }

  test("a gateway reaching the subgraphs over HTTP signs its fetches; one with another key-encryption key gets SUBGRAPH_UNAVAILABLE, not a token error", async () => {
    const query = `{ me { id debts { id } } }`;
    const same = await gatewayOverHttp();
    const served = await postGraphQL(same.url, query, {}, bearer(token));
    assert.equal(served.body.errors, undefined, JSON.stringify(served.body));
    assert.ok(Array.isArray(served.body.data?.me?.debts));
    assert.equal((served.body as { extensions?: Record<string, unknown> }).extensions?.[RECEIPTS_EXTENSION], undefined);

    const other = await gatewayOverHttp({ KEY_ENCRYPTION_KEY: randomBytes(32).toString("base64url") });
    const refused = await postGraphQL(other.url, query, {}, bearer(token));
    assert.equal(refused.body.data?.me ?? null, null, JSON.stringify(refused.body));
    assert.equal(refused.body.errors?.[0]?.extensions?.code, "SUBGRAPH_UNAVAILABLE", JSON.stringify(refused.body));
  });
});

describe("UNSAFE_UNSIGNED_SUBGRAPH_REQUESTS, for benchmarking other routers over these subgraphs", () => {
  const strong = () => randomBytes(32).toString("base64url");
  const deployment = { HOST: "127.0.0.1", NODE_ENV: "production", KEY_ENCRYPTION_KEY: strong(), APP_API_KEY: strong(), SANDBOX_CLIENT_SECRET: strong(), LIVE_CLIENT_SECRET: strong() };

  test("is refused outside local use, where subgraphs serve only the gateway", () => {
    assert.doesNotThrow(() => loadConfig(deployment));
    assert.throws(() => loadConfig({ ...deployment, UNSAFE_UNSIGNED_SUBGRAPH_REQUESTS: "true" }), (error: unknown) => error instanceof ConfigError && /local benchmarks only/.test(error.message));
    assert.throws(() => loadConfig({ ...deployment, NODE_ENV: "development", HOST: "0.0.0.0", UNSAFE_UNSIGNED_SUBGRAPH_REQUESTS: "true" }), ConfigError);
    assert.equal(loadConfig({ HOST: "127.0.0.1", UNSAFE_UNSIGNED_SUBGRAPH_REQUESTS: "true" }).unsafeUnsignedSubgraphRequests, true);
  });

  test("in local use lets a subgraph serve an unsigned request (the token is still verified)", async () => {
    const { database, kamina, sql } = await startSeededKamina({ users: 20, seed: 16, poolSize: 2 });
    const unsigned = await startTestKamina(kamina.database, { UNSAFE_UNSIGNED_SUBGRAPH_REQUESTS: "true" });
    try {
      const token = await consentToken(kamina, "USR_42891", ["debts.read"]);
      const served = await postGraphQL(unsigned.subgraphs.debts!.url, ENTITIES, PERSON, bearer(token));
      assert.equal(served.status, 200, JSON.stringify(served.body));
      assert.equal((await postGraphQL(unsigned.subgraphs.debts!.url, ENTITIES, PERSON)).status, 401, "no token, no answer");
      assert.equal((await postGraphQL(kamina.subgraphs.debts!.url, ENTITIES, PERSON, bearer(token))).status, 401, "the other stack still refuses");
    } finally {
      await unsigned.stop();
      await stopSeededKamina({ database, kamina, sql });
    }
  });
});
