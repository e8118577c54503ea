// Device binding with DPoP (RFC 9449) over real HTTP, WebSocket and PostgreSQL: tokens bound
// to a client's key at the token endpoints, then accepted only with a fresh proof by that key
// for that request (method, URL, access token), once (DPoP replay), at the gateway, on the
// REST routes, at a subgraph reached directly, on refresh and on graphql-ws.
import assert from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { after, before, describe, test } from "node:test";
import { createClient, type Client } from "graphql-ws";
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from "jose";
import WebSocket from "ws";
import { PostgresProofReplayStore } from "../platform/auth/dpop-replay-store.ts";
import { refreshTokenHash } from "../gateway/auth/refresh-tokens.ts";
import { requestUrl } from "../gateway/auth/request-url.ts";
import { createLogger } from "../platform/logger.ts";
import { DpopError, verifyDpopProof, type ProofReplayStore } from "../platform/auth/dpop.ts";
import type { PrismaClient } from "../platform/database/database.ts";
import { postGraphQL, startTestKamina, type GraphQLResponse } from "./support/kamina.ts";
import { postAsGateway } from "../testkit/gateway-signature.ts";
import type { TestDatabase } from "../testkit/postgres.ts";
import { PERSON_A, raiseAlert, createRealtimeDatabase } from "./support/realtime.ts";
import { assertEnvelope, rest, type RestResponse } from "./support/rest.ts";
import { CONSENT_TEXT_VERSION, DEMO_CLIENT, sandboxCredentials } from "../testkit/tokens.ts";

type Kamina = Awaited<ReturnType<typeof startTestKamina>>;

const ME = "{ me { id } }";
const FEDERATED = "{ me { id wellness { score band } debts { issuer balance } } }";
const ENTITIES = `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { debts { id } } } }`;
const ALERTS = "subscription { alertCreated { id severity user { id wellness { score } } } }";
const ath = (token: string) => createHash("sha256").update(token).digest("base64url");
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
const now = () => Math.floor(Date.now() / 1000);

interface ProofOptions {
  accessToken?: string;
  jti?: string;
  iat?: number;
  /** Claims to set or (with undefined) leave out. */
  claims?: JWTPayload;
  header?: Record<string, unknown>;
}

/** A client's DPoP key pair, as a partner's mobile app or server would hold it. */
class ClientKey {
  private constructor(
    private readonly privateKey: CryptoKey,
    readonly publicJwk: JWK,
    readonly jkt: string,
    private readonly alg: string,
  ) {}

  static async create(alg: "ES256" | "EdDSA" = "ES256"): Promise<ClientKey> {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    return new ClientKey(privateKey, publicJwk, await calculateJwkThumbprint(publicJwk), alg);
  }

  /** A proof for one request: `htm`, `htu`, a fresh `jti` and `iat`, and `ath` with an access token. */
  proof(method: string, url: string, options: ProofOptions = {}): Promise<string> {
    const claims: JWTPayload = {
      htm: method,
      htu: url,
      jti: options.jti ?? randomUUID(),
      iat: options.iat ?? now(),
      ...(options.accessToken ? { ath: ath(options.accessToken) } : {}),
      ...options.claims,
    };
    for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
    return new SignJWT(claims).setProtectedHeader({ alg: this.alg, typ: "dpop+jwt", jwk: this.publicJwk, ...options.header }).sign(this.privateKey);
  }
}

describe("DPoP device binding (RFC 9449)", () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let kamina: Kamina;
  let origin: string;
  let graphqlUrl: string;
  let key: ClientKey;
  let otherKey: ClientKey;
  const sockets: Client[] = [];

  const dpopHeaders = (token: string, proof?: string): Record<string, string> => ({ authorization: `DPoP ${token}`, ...(proof ? { dpop: proof } : {}) });

  /** POST /v1/auth/consent for PERSON_A, with a proof when `proofKey` is given. */
  async function askConsent(proofKey?: ClientKey): Promise<RestResponse> {
    const headers: Record<string, string> = { ...sandboxCredentials(kamina) };
    if (proofKey) headers.dpop = await proofKey.proof("POST", `${origin}/v1/auth/consent`);
    return rest(origin, "POST", "/v1/auth/consent", {
      headers,
      json: { client_id: DEMO_CLIENT, user_external_id: PERSON_A, scopes: ["wellness.read", "debts.read", "alerts.read"], country: "MX", consent_text_version: CONSENT_TEXT_VERSION },
    });
  }

  async function boundTokens(): Promise<{ accessToken: string; refreshToken: string }> {
    const granted = await askConsent(key);
    assert.equal(granted.status, 200, JSON.stringify(granted.body));
    return { accessToken: granted.body.access_token, refreshToken: granted.body.refresh_token };
  }

  async function refresh(refreshToken: string, proof?: string): Promise<RestResponse> {
    return rest(origin, "POST", "/v1/auth/token", {
      headers: { ...sandboxCredentials(kamina), ...(proof ? { dpop: proof } : {}) },
      form: { grant_type: "refresh_token", refresh_token: refreshToken },
    });
  }

  /** `{ me { id } }` at the gateway with a bound token and a proof made with `options` (defaults: right key, method and URL). */
  async function meWithProof(token: string, options: ProofOptions & { key?: ClientKey; method?: string; url?: string } = {}): Promise<GraphQLResponse> {
    const proof = await (options.key ?? key).proof(options.method ?? "POST", options.url ?? graphqlUrl, { accessToken: token, ...options });
    return postGraphQL(graphqlUrl, ME, undefined, dpopHeaders(token, proof));
  }

  function assertRefused(answer: GraphQLResponse, reason: RegExp, what = String(reason)): void {
    assert.equal(answer.status, 401, `${what}: ${JSON.stringify(answer.body)}`);
    assert.equal(answer.body.errors?.[0]?.extensions?.code, "INVALID_DPOP_PROOF", what);
    assert.match(answer.body.errors![0]!.message, reason, what);
    assert.equal(answer.body.data, undefined, `${what}: no data beside the error`);
  }

  /** graphql-ws with the given connection_init payload: the first result, or how the socket closed. */
  function subscribe(payload: Record<string, unknown>): { first: Promise<unknown>; closed: Promise<{ code: number; reason: string }>; connected: Promise<void> } {
    let onClosed!: (closed: { code: number; reason: string }) => void;
    let onConnected!: () => void;
    const closed = new Promise<{ code: number; reason: string }>((resolve) => (onClosed = resolve));
    const connected = new Promise<void>((resolve) => (onConnected = resolve));
    const client = createClient({
      url: graphqlUrl.replace(/^http/, "ws"),
      webSocketImpl: WebSocket,
      connectionParams: payload,
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => undefined,
      on: {
        connected: () => onConnected(),
        closed: (event) => {
          const { code, reason } = event as { code: number; reason: string };
          onClosed({ code, reason: String(reason) });
        },
      },
    });
    sockets.push(client);
    const first = new Promise<unknown>((resolve, reject) => {
      client.subscribe({ query: ALERTS }, { next: resolve, error: reject, complete: () => undefined });
    });
    first.catch(() => undefined);
    return { first, closed, connected };
  }

  before(async () => {
    ({ database, prisma } = await createRealtimeDatabase());
    kamina = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 4 }, { RELAY_POLL_MS: "100", WEBHOOK_POLL_MS: "100" });
    origin = kamina.gateway!.origin;
    graphqlUrl = kamina.graphqlUrl;
    key = await ClientKey.create("ES256");
    otherKey = await ClientKey.create("ES256");
  });

  after(async () => {
    await Promise.all(sockets.map((client) => client.dispose()));
    await kamina?.stop();
    await prisma?.$disconnect();
    await database?.drop();
  });

  test("a consent asked with a DPoP proof brings tokens bound to the key: cnf.jkt, token_type DPoP, and the refresh token keeps the key", async () => {
    const granted = await askConsent(key);
    assert.equal(granted.status, 200, JSON.stringify(granted.body));
    assert.deepEqual(Object.keys(granted.body).sort(), ["access_token", "consent_id", "expires_in", "refresh_token", "token_type"]);
    assert.equal(granted.body.token_type, "DPoP");
    assert.deepEqual(decodeJwt(granted.body.access_token).cnf, { jkt: key.jkt });
    const row = await prisma.refreshToken.findUniqueOrThrow({ where: { tokenHash: refreshTokenHash(granted.body.refresh_token) } });
    assert.equal(row.dpopJkt, key.jkt);

    const unbound = await askConsent();
    assert.deepEqual(Object.keys(unbound.body).sort(), ["access_token", "consent_id", "expires_in", "refresh_token"], "without a proof: the brief's keys exactly");
    assert.equal(decodeJwt(unbound.body.access_token).cnf, undefined);
  });

  test("a bound token reads the graph with a fresh proof per request: /graphql across subgraphs, GET /v1/diagnosis/latest, POST /v1/diagnosis/run", async () => {
    const { accessToken } = await boundTokens();
    const federated = await postGraphQL(graphqlUrl, FEDERATED, undefined, dpopHeaders(accessToken, await key.proof("POST", graphqlUrl, { accessToken })));
    assert.equal(federated.status, 200, JSON.stringify(federated.body));
    assert.equal(federated.body.errors, undefined, JSON.stringify(federated.body.errors));
    assert.deepEqual(federated.body.data, { me: { id: PERSON_A, wellness: { score: 64, band: "AMBER" }, debts: [{ issuer: "Banco Pichincha", balance: "1240.55" }] } });

    // htu never carries the query (RFC 9449 §4.2).
    const latest = await rest(origin, "GET", "/v1/diagnosis/latest?view=full", {
      headers: dpopHeaders(accessToken, await key.proof("GET", `${origin}/v1/diagnosis/latest`, { accessToken })),
    });
    assert.equal(latest.status, 200, JSON.stringify(latest.body));
    assert.equal(latest.body.user_id, PERSON_A);
    assert.equal(latest.body.score, 64);

    // One HTTP request, two stored operations: the proof is checked, and spent, once.
    const run = await rest(origin, "POST", "/v1/diagnosis/run", { headers: dpopHeaders(accessToken, await key.proof("POST", `${origin}/v1/diagnosis/run`, { accessToken })) });
    assert.equal(run.status, 200, JSON.stringify(run.body));
    assert.equal(run.body.user_id, PERSON_A);
  });

  test("a bound token without a proof, or sent with the Bearer scheme, is 401 INVALID_DPOP_PROOF with a DPoP challenge, on GraphQL and REST alike", async () => {
    const { accessToken } = await boundTokens();
    const without = await postGraphQL(graphqlUrl, ME, undefined, dpopHeaders(accessToken));
    assertRefused(without, /send a DPoP proof/, "no proof");
    const challenge = await fetch(graphqlUrl, { method: "POST", headers: { "content-type": "application/json", ...dpopHeaders(accessToken) }, body: JSON.stringify({ query: ME }) });
    assert.match(challenge.headers.get("www-authenticate") ?? "", /^DPoP algs="ES256 EdDSA", error="invalid_dpop_proof", error_description="/);

    const asBearer = await postGraphQL(graphqlUrl, ME, undefined, { authorization: `Bearer ${accessToken}`, dpop: await key.proof("POST", graphqlUrl, { accessToken }) });
    assertRefused(asBearer, /bound to a key: send it with `Authorization: DPoP/, "Bearer scheme, even with a valid proof");

    const restWithout = await rest(origin, "GET", "/v1/diagnosis/latest", { headers: dpopHeaders(accessToken) });
    assertEnvelope(restWithout, 401, "INVALID_DPOP_PROOF", /send a DPoP proof/);
    assert.match(restWithout.headers.get("www-authenticate") ?? "", /^DPoP .*error="invalid_dpop_proof"/);
    const restBearer = await rest(origin, "GET", "/v1/diagnosis/latest", { headers: { authorization: `Bearer ${accessToken}` } });
    assertEnvelope(restBearer, 401, "INVALID_DPOP_PROOF", /bound to a key/);
  });

  test("DPoP replay: a proof is accepted once, on any route; a second use, or two racing uses, get one answer 200", async () => {
    const { accessToken } = await boundTokens();
    const proof = await key.proof("POST", graphqlUrl, { accessToken });
    assert.equal((await postGraphQL(graphqlUrl, ME, undefined, dpopHeaders(accessToken, proof))).status, 200);
    assertRefused(await postGraphQL(graphqlUrl, ME, undefined, dpopHeaders(accessToken, proof)), /used before/, "the same proof again");
    const rows = await prisma.dpopProof.count();
    assert.ok(rows >= 1, "accepted proofs are remembered in dpop_proof");

    const racing = await key.proof("POST", graphqlUrl, { accessToken });
    const answers = await Promise.all([1, 2, 3].map(() => postGraphQL(graphqlUrl, ME, undefined, dpopHeaders(accessToken, racing))));
    assert.deepEqual(answers.map((answer) => answer.status).sort(), [200, 401, 401], JSON.stringify(answers.map((answer) => answer.body)));

    // The same jti in a new proof (new iat, same key) is a replay too.
    const jti = randomUUID();
    assert.equal((await meWithProof(accessToken, { jti })).status, 200);
    assertRefused(await meWithProof(accessToken, { jti, iat: now() - 1 }), /used before/, "a reused jti");
    // Another key's proof with that jti is its own proof (ids are unique per key) but still not for this token.
    assertRefused(await meWithProof(accessToken, { jti: randomUUID(), key: otherKey }), /another key/, "another key");
  });

  test("a proof by another key, for another method or URL, too old or from the future, or for another access token is refused", async () => {
    const { accessToken } = await boundTokens();
    const other = await boundTokens();
    const cases: [string, ProofOptions & { key?: ClientKey; method?: string; url?: string }, RegExp][] = [
      ["another key", { key: otherKey }, /signed by another key/],
      ["wrong htm", { method: "GET" }, /`htm`/],
      ["wrong htu path", { url: `${origin}/v1/diagnosis/latest` }, /`htu`/],
      ["wrong htu host", { url: "http://api.attacker.example/graphql" }, /`htu`/],
      ["wrong htu scheme", { url: graphqlUrl.replace(/^http:/, "https:") }, /`htu`/],
      ["stale iat", { iat: now() - 120 }, /too old/],
      ["iat from the future", { iat: now() + 120 }, /from the future/],
      ["ath of another access token", { accessToken: other.accessToken }, /`ath`/],
      ["no ath", { claims: { ath: undefined } }, /`ath`/],
      ["no jti", { claims: { jti: undefined } }, /`jti`/],
    ];
    for (const [what, options, reason] of cases) {
      const proof = await (options.key ?? key).proof(options.method ?? "POST", options.url ?? graphqlUrl, { accessToken, ...options });
      assertRefused(await postGraphQL(graphqlUrl, ME, undefined, dpopHeaders(accessToken, proof)), reason, what);
    }
    // Two DPoP headers are refused (RFC 9449 §4.3 check 1): Node joins them with a comma.
    const twice = `${await key.proof("POST", graphqlUrl, { accessToken })}, ${await key.proof("POST", graphqlUrl, { accessToken })}`;
    assertRefused(await postGraphQL(graphqlUrl, ME, undefined, dpopHeaders(accessToken, twice)), /exactly one/, "two proofs");
    assert.equal((await meWithProof(accessToken)).status, 200, "and the right proof still works");
  });

  test("an unbound token with the DPoP scheme is refused; with Bearer, a DPoP header beside it is ignored", async () => {
    const unbound = (await askConsent()).body.access_token as string;
    const proof = await key.proof("POST", graphqlUrl, { accessToken: unbound });
    assertRefused(await postGraphQL(graphqlUrl, ME, undefined, dpopHeaders(unbound, proof)), /not bound to a key/, "unbound token, DPoP scheme");
    const bearer = await postGraphQL(graphqlUrl, ME, undefined, { authorization: `Bearer ${unbound}`, dpop: proof });
    assert.equal(bearer.status, 200, JSON.stringify(bearer.body));
  });

  test("refreshing a bound refresh token needs a proof by its key: none or another key is refused and spends nothing; the right key brings new bound tokens", async () => {
    const { refreshToken } = await boundTokens();
    const tokenUrl = `${origin}/v1/auth/token`;
    assertEnvelope(await refresh(refreshToken), 401, "INVALID_DPOP_PROOF", /bound to a key: send a DPoP proof/);
    assertEnvelope(await refresh(refreshToken, await otherKey.proof("POST", tokenUrl)), 401, "INVALID_DPOP_PROOF", /another key/);
    assertEnvelope(await refresh(refreshToken, await key.proof("POST", `${origin}/v1/auth/consent`)), 401, "INVALID_DPOP_PROOF", /`htu`/);
    const row = await prisma.refreshToken.findUniqueOrThrow({ where: { tokenHash: refreshTokenHash(refreshToken) } });
    assert.equal(row.usedAt, null, "the refused attempts did not spend it");
    assert.equal(row.revokedAt, null, "nor revoke its family");

    const next = await refresh(refreshToken, await key.proof("POST", tokenUrl));
    assert.equal(next.status, 200, JSON.stringify(next.body));
    assert.equal(next.body.token_type, "DPoP");
    assert.deepEqual(decodeJwt(next.body.access_token).cnf, { jkt: key.jkt });
    const nextRow = await prisma.refreshToken.findUniqueOrThrow({ where: { tokenHash: refreshTokenHash(next.body.refresh_token) } });
    assert.equal(nextRow.dpopJkt, key.jkt, "the family stays bound");
    assert.equal((await meWithProof(next.body.access_token)).status, 200);
    assertEnvelope(await refresh(next.body.refresh_token), 401, "INVALID_DPOP_PROOF", /bound to a key/);
  });

  test("an unbound refresh token refreshed with a proof brings a bound access token; its family stays unbound", async () => {
    const granted = await askConsent();
    const next = await refresh(granted.body.refresh_token, await key.proof("POST", `${origin}/v1/auth/token`));
    assert.equal(next.status, 200, JSON.stringify(next.body));
    assert.equal(next.body.token_type, "DPoP");
    assert.deepEqual(decodeJwt(next.body.access_token).cnf, { jkt: key.jkt });
    const row = await prisma.refreshToken.findUniqueOrThrow({ where: { tokenHash: refreshTokenHash(next.body.refresh_token) } });
    assert.equal(row.dpopJkt, null);
    const plain = await refresh(next.body.refresh_token);
    assert.equal(plain.body.token_type, "Bearer");
  });

  test("client credentials can be bound too, and a token request whose proof does not verify is refused, not served unbound", async () => {
    const tokenUrl = `${origin}/v1/auth/token`;
    const bound = await rest(origin, "POST", "/v1/auth/token", {
      headers: { ...sandboxCredentials(kamina), dpop: await key.proof("POST", tokenUrl) },
      form: { grant_type: "client_credentials", scope: "wellness.read" },
    });
    assert.equal(bound.status, 200, JSON.stringify(bound.body));
    assert.equal(bound.body.token_type, "DPoP");
    assert.deepEqual(decodeJwt(bound.body.access_token).cnf, { jkt: key.jkt });
    const token = bound.body.access_token as string;
    const page = await postGraphQL(graphqlUrl, "{ users(first: 5) { totalCount } }", undefined, dpopHeaders(token, await key.proof("POST", graphqlUrl, { accessToken: token })));
    assert.equal(page.status, 200, JSON.stringify(page.body));
    assertRefused(await postGraphQL(graphqlUrl, "{ users(first: 5) { totalCount } }", undefined, { authorization: `Bearer ${token}` }), /bound to a key/);

    for (const [what, proof] of [
      ["wrong htu", await key.proof("POST", graphqlUrl)],
      ["wrong htm", await key.proof("GET", tokenUrl)],
      ["not a JWT", "not-a-proof"],
      ["empty", ""],
    ] as const) {
      const answer = await rest(origin, "POST", "/v1/auth/token", { headers: { ...sandboxCredentials(kamina), dpop: proof }, form: { grant_type: "client_credentials" } });
      assertEnvelope(answer, 401, "INVALID_DPOP_PROOF");
      assert.match(answer.headers.get("www-authenticate") ?? "", /^DPoP /, what);
    }
    const replayed = await key.proof("POST", tokenUrl);
    const once = { headers: { ...sandboxCredentials(kamina), dpop: replayed }, form: { grant_type: "client_credentials" } };
    assert.equal((await rest(origin, "POST", "/v1/auth/token", once)).status, 200);
    assertEnvelope(await rest(origin, "POST", "/v1/auth/token", once), 401, "INVALID_DPOP_PROOF", /used before/);
  });

  test("a subgraph behind the gateway refuses a bound token without a valid proof by its key; reached directly it refuses even a valid one", async () => {
    const { accessToken } = await boundTokens();
    const debts = kamina.subgraphs.debts!.url;
    const variables = { r: [{ __typename: "User", id: PERSON_A }] };
    for (const [what, headers, reason] of [
      ["no proof", dpopHeaders(accessToken), /send a DPoP proof/],
      ["Bearer scheme", { authorization: `Bearer ${accessToken}` }, /bound to a key/],
      ["another key", dpopHeaders(accessToken, await otherKey.proof("POST", graphqlUrl, { accessToken })), /another key/],
      ["for another token", dpopHeaders(accessToken, await key.proof("POST", graphqlUrl, { accessToken: "x.y.z" })), /`ath`/],
    ] as const) {
      assertRefused(await postAsGateway(kamina, debts, ENTITIES, variables, headers), reason, `at the subgraph: ${what}`);
    }
    // What the gateway forwards: the client's proof, made for the gateway's URL.
    const proof = await key.proof("POST", graphqlUrl, { accessToken });
    const forwarded = await postAsGateway(kamina, debts, ENTITIES, variables, dpopHeaders(accessToken, proof));
    assert.equal(forwarded.status, 200, JSON.stringify(forwarded.body));
    // Without the gateway's signature a spent proof (method, URL and replay are the gateway's checks) gets nowhere.
    const replayed = await postGraphQL(debts, ENTITIES, variables, dpopHeaders(accessToken, proof));
    assert.equal(replayed.status, 401);
    assert.equal(replayed.body.errors?.[0]?.extensions?.code, "GATEWAY_SIGNATURE_REQUIRED");
  });

  test("subscriptions: a bound token without a proof in connection_init closes with 4401; with one it receives alerts, and its proof works once", async () => {
    const { accessToken } = await boundTokens();
    const authorization = `DPoP ${accessToken}`;
    const without = subscribe({ authorization });
    const closed = await without.closed;
    assert.equal(closed.code, 4401);
    assert.match(closed.reason, /send a DPoP proof/);
    const asBearer = subscribe({ authorization: `Bearer ${accessToken}`, dpop: await key.proof("GET", graphqlUrl, { accessToken }) });
    assert.equal((await asBearer.closed).code, 4401);
    const wrongMethod = subscribe({ authorization, dpop: await key.proof("POST", graphqlUrl, { accessToken }) });
    assert.equal((await wrongMethod.closed).code, 4401);

    const proof = await key.proof("GET", graphqlUrl, { accessToken });
    const base = kamina.gateway!.subscriptions.hub.size.subscribers;
    const subscription = subscribe({ authorization, dpop: proof });
    await subscription.connected;
    const deadline = Date.now() + 10_000;
    while (kamina.gateway!.subscriptions.hub.size.subscribers < base + 1) {
      if (Date.now() > deadline) throw new Error("the subscription did not reach the gateway");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const alertId = await raiseAlert(prisma, PERSON_A);
    const result = (await subscription.first) as { data: { alertCreated: { id: string; user: { id: string; wellness: { score: number } } } }; errors?: unknown };
    assert.equal(result.errors, undefined, JSON.stringify(result.errors));
    assert.equal(result.data.alertCreated.id, alertId);
    // Fields from the wellness subgraph: the proof is forwarded with the event's fetches to the subgraphs.
    assert.equal(result.data.alertCreated.user.id, PERSON_A);
    assert.equal(typeof result.data.alertCreated.user.wellness.score, "number");

    const replayed = subscribe({ authorization, dpop: proof });
    const replayClosed = await replayed.closed;
    assert.equal(replayClosed.code, 4401);
    assert.match(replayClosed.reason, /used before/);
  });

  test("expired proofs are purged from dpop_proof", async () => {
    const store = new PostgresProofReplayStore(prisma, createLogger("silent"));
    const old = `old-${randomUUID()}`;
    const live = `live-${randomUUID()}`;
    await prisma.dpopProof.createMany({
      data: [
        { jti: old, expiresAt: new Date(Date.now() - 60_000) },
        { jti: live, expiresAt: new Date(Date.now() + 60_000) },
      ],
    });
    assert.ok((await store.purge()) >= 1);
    assert.equal(await prisma.dpopProof.findUnique({ where: { jti: old } }), null);
    assert.notEqual(await prisma.dpopProof.findUnique({ where: { jti: live } }), null);
    assert.equal(await store.remember(live, new Date(Date.now() + 60_000)), false, "a remembered key is refused");
    assert.equal(await store.remember(`new-${randomUUID()}`, new Date(Date.now() + 60_000)), true);
  });
});

describe("verifyDpopProof refuses malformed proofs", () => {
  const url = "https://api.bank.example/graphql";
  const request = { method: "POST", url };

  class MemoryStore implements ProofReplayStore {
    readonly seen = new Set<string>();
    async remember(key: string): Promise<boolean> {
      if (this.seen.has(key)) return false;
      this.seen.add(key);
      return true;
    }
  }

  async function refused(proof: string | undefined, reason: RegExp, extra: { accessToken?: string; expectedJkt?: string } = {}): Promise<void> {
    await assert.rejects(verifyDpopProof({ proof, request, ...extra }), (error: unknown) => error instanceof DpopError && reason.test(error.message));
  }

  test("a well-formed proof verifies and names its key; replayed, it is refused", async () => {
    const key = await ClientKey.create("EdDSA");
    const store = new MemoryStore();
    const proof = await key.proof("POST", url, { accessToken: "a.b.c" });
    assert.equal(await verifyDpopProof({ proof, request, accessToken: "a.b.c", expectedJkt: key.jkt, replay: store }), key.jkt);
    await assert.rejects(verifyDpopProof({ proof, request, replay: store }), /used before/);
    // Host and scheme compare case-insensitively, a default port is the same URL (RFC 3986 §6.2).
    assert.equal(await verifyDpopProof({ proof: await key.proof("POST", "HTTPS://API.Bank.Example:443/graphql"), request }), key.jkt);
  });

  test("a private key in `jwk`", async () => {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const privateJwk = await exportJWK(privateKey);
    const proof = await new SignJWT({ htm: "POST", htu: url, jti: randomUUID(), iat: now() })
      .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk: privateJwk })
      .sign(privateKey);
    await refused(proof, /private key/);
  });

  test("alg none, HS256, a wrong typ, no embedded key, a broken signature", async () => {
    const key = await ClientKey.create();
    const claims = { htm: "POST", htu: url, jti: randomUUID(), iat: now() };
    await refused(`${b64url({ alg: "none", typ: "dpop+jwt", jwk: key.publicJwk })}.${b64url(claims)}.`, /not valid/);
    const hs = await new SignJWT(claims).setProtectedHeader({ alg: "HS256", typ: "dpop+jwt" }).sign(new TextEncoder().encode("a shared secret of 32 bytes......"));
    await refused(hs, /not valid/);
    await refused(await key.proof("POST", url, { header: { typ: "JWT" } }), /not valid/);
    await refused(await key.proof("POST", url, { header: { jwk: undefined } }), /not valid/);
    const [header, payload, signature] = (await key.proof("POST", url)).split(".");
    await refused(`${header}.${b64url({ ...decodeJwt(`${header}.${payload}.${signature}`), htm: "GET" })}.${signature}`, /not valid/);
  });

  test("no proof, no or a short `jti`, no `htm`/`htu`/`iat`, another key than expected", async () => {
    const key = await ClientKey.create();
    await refused(undefined, /send a DPoP proof/);
    await refused(await key.proof("POST", url, { claims: { jti: undefined } }), /`jti`/);
    await refused(await key.proof("POST", url, { claims: { jti: "short" } }), /`jti`/);
    await refused(await key.proof("POST", url, { claims: { htm: undefined } }), /`htm`/);
    await refused(await key.proof("POST", url, { claims: { htu: undefined } }), /`htu`/);
    await refused(await key.proof("POST", url, { claims: { iat: undefined } }), /`iat`/);
    await refused(await key.proof("POST", "not a url"), /`htu`/);
    await refused(await key.proof("POST", url), /another key/, { expectedJkt: (await ClientKey.create()).jkt });
  });

  test("the htu a gateway expects: PUBLIC_URL plus the path when configured, else its own scheme and Host; never X-Forwarded-*", () => {
    const incoming = (url: string, headers: Record<string, string>) => ({ url, headers, socket: {} }) as unknown as IncomingMessage;
    const proxied = incoming("/v1/diagnosis/latest?user_id=1", { host: "10.0.0.7:4000", "x-forwarded-host": "api.attacker.example", "x-forwarded-proto": "https" });
    assert.equal(requestUrl("https://api.bank.example/kamina", proxied), "https://api.bank.example/kamina/v1/diagnosis/latest");
    assert.equal(requestUrl(undefined, proxied), "http://10.0.0.7:4000/v1/diagnosis/latest");
  });
});
