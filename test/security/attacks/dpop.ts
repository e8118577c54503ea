// DPoP (RFC 9449): a bound token is worthless without its key and a fresh proof for this very
// request; proofs replayed, made for another method or URL, stale, by another key or malformed
// are refused, at the gateway, on REST, on refresh and on graphql-ws.
import { createHash, randomUUID } from "node:crypto";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from "jose";
import { CONSENT_TEXT_VERSION } from "../../../testkit/tokens.ts";
import { noData, type Attack, type Expectation } from "../attack.ts";
import type { SecurityContext } from "../context.ts";
import { noSubscriptionData, once, socketOutcome, socketRun } from "../shared.ts";

const ath = (token: string) => createHash("sha256").update(token).digest("base64url");
const now = () => Math.floor(Date.now() / 1000);

class ClientKey {
  private constructor(
    readonly privateKey: CryptoKey,
    readonly publicJwk: JWK,
    readonly privateJwk: JWK,
  ) {}

  static async create(): Promise<ClientKey> {
    const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
    return new ClientKey(privateKey, await exportJWK(publicKey), await exportJWK(privateKey));
  }

  thumbprint(): Promise<string> {
    return calculateJwkThumbprint(this.publicJwk);
  }

  proof(method: string, url: string, options: { accessToken?: string; claims?: JWTPayload; header?: Record<string, unknown> } = {}): Promise<string> {
    const claims: JWTPayload = { htm: method, htu: url, jti: randomUUID(), iat: now(), ...(options.accessToken ? { ath: ath(options.accessToken) } : {}), ...options.claims };
    for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
    return new SignJWT(claims).setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk: this.publicJwk, ...options.header }).sign(this.privateKey);
  }
}

/** Person A's tokens bound to a key of the attacker's victim; the attacker holds the token, not always the key. */
const bound = once(async (ctx: SecurityContext) => {
  const key = await ClientKey.create();
  const url = `${ctx.origin}/v1/auth/consent`;
  const answer = await ctx.rest("POST", "/v1/auth/consent", {
    headers: { ...ctx.clients.demo.basic, dpop: await key.proof("POST", url) },
    json: { client_id: ctx.clients.demo.id, user_external_id: ctx.people.a, scopes: ["debts.read", "alerts.read"], country: "MX", consent_text_version: CONSENT_TEXT_VERSION },
  });
  const body = answer.body as { access_token: string; refresh_token: string; token_type?: string };
  if (answer.status !== 200 || body.token_type !== "DPoP") throw new Error(`bound consent: ${answer.status} ${JSON.stringify(answer.body)}`);
  return { key, access: body.access_token, refresh: body.refresh_token };
});

const invalidProof: Expectation = { status: 401, code: "INVALID_DPOP_PROOF", means: "401 INVALID_DPOP_PROOF, no data", check: noData };
const ME = "{ me { id debts { balance } } }";

/** Person A's bound token sent to /graphql with `proof` (made by `make`), as `scheme`. */
function graphqlWith(make: (ctx: SecurityContext, token: string, key: ClientKey) => Promise<string | undefined>, scheme = "DPoP") {
  return async (ctx: SecurityContext) => {
    const { key, access } = await bound(ctx);
    const proof = await make(ctx, access, key);
    return ctx.gql(ctx.graphqlUrl, ME, undefined, { authorization: `${scheme} ${access}`, ...(proof ? { dpop: proof } : {}) });
  };
}

const PROOF_TRICKS: [name: string, description: string, make: (ctx: SecurityContext, token: string, key: ClientKey) => Promise<string | undefined>][] = [
  ["no-proof", "a bound token with the DPoP scheme and no proof", async () => undefined],
  ["wrong-htm", "a proof made for GET on a POST", (ctx, token, key) => key.proof("GET", ctx.graphqlUrl, { accessToken: token })],
  ["wrong-htu", "a proof made for another URL", (ctx, token, key) => key.proof("POST", `${ctx.origin}/v1/debts`, { accessToken: token })],
  ["htu-other-host", "a proof made for another server", (_ctx, token, key) => key.proof("POST", "https://api.bank.example/graphql", { accessToken: token })],
  ["htu-other-scheme", "htu with https for this http server", (ctx, token, key) => key.proof("POST", ctx.graphqlUrl.replace(/^http:/, "https:"), { accessToken: token })],
  ["htu-other-port", "htu naming another port of this host", (ctx, token, key) => key.proof("POST", ctx.subgraphUrls.debts!, { accessToken: token })],
  ["stale-iat", "iat ten minutes ago", (ctx, token, key) => key.proof("POST", ctx.graphqlUrl, { accessToken: token, claims: { iat: now() - 600 } })],
  ["future-iat", "iat ten minutes ahead", (ctx, token, key) => key.proof("POST", ctx.graphqlUrl, { accessToken: token, claims: { iat: now() + 600 } })],
  ["no-ath", "no ath", (ctx, _token, key) => key.proof("POST", ctx.graphqlUrl)],
  ["wrong-ath", "ath of another token", (ctx, _token, key) => key.proof("POST", ctx.graphqlUrl, { accessToken: ctx.tokens.b })],
  ["no-jti", "no jti", (ctx, token, key) => key.proof("POST", ctx.graphqlUrl, { accessToken: token, claims: { jti: undefined } })],
  ["short-jti", "a 1-character jti", (ctx, token, key) => key.proof("POST", ctx.graphqlUrl, { accessToken: token, claims: { jti: "x" } })],
  ["other-key", "a valid proof by another key", async (ctx, token) => (await ClientKey.create()).proof("POST", ctx.graphqlUrl, { accessToken: token })],
  ["typ-jwt", "typ JWT instead of dpop+jwt", (ctx, token, key) => key.proof("POST", ctx.graphqlUrl, { accessToken: token, header: { typ: "JWT" } })],
  ["private-jwk", "the header's jwk carries the private key", (ctx, token, key) => key.proof("POST", ctx.graphqlUrl, { accessToken: token, header: { jwk: key.privateJwk } })],
  [
    "alg-none",
    "alg none",
    async (ctx, token, key) => {
      const header = Buffer.from(JSON.stringify({ alg: "none", typ: "dpop+jwt", jwk: key.publicJwk })).toString("base64url");
      const payload = Buffer.from(JSON.stringify({ htm: "POST", htu: ctx.graphqlUrl, jti: randomUUID(), iat: now(), ath: ath(token) })).toString("base64url");
      return `${header}.${payload}.`;
    },
  ],
  ["garbage", "a proof that is not a JWT", async () => "not-a-proof"],
  ["two-proofs", "two proofs in one header", async (ctx, token, key) => `${await key.proof("POST", ctx.graphqlUrl, { accessToken: token })}, ${await key.proof("POST", ctx.graphqlUrl, { accessToken: token })}`],
];

const proofAttacks: Attack[] = PROOF_TRICKS.map(([name, description, make]) => ({
  id: `dpop/${name}`,
  class: "dpop",
  description: `${description} (POST /graphql)`,
  run: graphqlWith(make),
  expect: invalidProof,
}));

const more: Attack[] = [
  { id: "dpop/bearer-scheme", class: "dpop", description: "a bound token sent as Bearer", run: graphqlWith(async (ctx, token, key) => key.proof("POST", ctx.graphqlUrl, { accessToken: token }), "Bearer"), expect: invalidProof },
  {
    id: "dpop/replay",
    class: "dpop",
    description: "a proof that was accepted once, sent again",
    run: async (ctx) => {
      const { key, access } = await bound(ctx);
      const proof = await key.proof("POST", ctx.graphqlUrl, { accessToken: access });
      const first = await ctx.gql(ctx.graphqlUrl, ME, undefined, { authorization: `DPoP ${access}`, dpop: proof });
      if (first.status !== 200) throw new Error(`the first use was refused: ${first.status} ${JSON.stringify(first.body)}`);
      return ctx.gql(ctx.graphqlUrl, ME, undefined, { authorization: `DPoP ${access}`, dpop: proof });
    },
    expect: invalidProof,
  },
  {
    id: "dpop/replay-race",
    class: "dpop",
    description: "one proof sent on five requests at once: one 200",
    run: async (ctx) => {
      const { key, access } = await bound(ctx);
      const proof = await key.proof("POST", ctx.graphqlUrl, { accessToken: access });
      const answers = await Promise.all(Array.from({ length: 5 }, () => ctx.gql(ctx.graphqlUrl, ME, undefined, { authorization: `DPoP ${access}`, dpop: proof })));
      const ok = answers.filter((answer) => answer.status === 200).length;
      const refusal = answers.find((answer) => answer.status !== 200)!;
      return { ...refusal, note: `${ok} answered 200` };
    },
    expect: { ...invalidProof, check: (o) => (o.note === "1 answered 200" ? undefined : o.note) },
  },
  {
    id: "dpop/replay-rest",
    class: "dpop",
    description: "a proof replayed on GET /v1/debts",
    run: async (ctx) => {
      const { key, access } = await bound(ctx);
      const proof = await key.proof("GET", `${ctx.origin}/v1/debts`, { accessToken: access });
      await ctx.rest("GET", "/v1/debts", { headers: { authorization: `DPoP ${access}`, dpop: proof } });
      return ctx.rest("GET", "/v1/debts", { headers: { authorization: `DPoP ${access}`, dpop: proof } });
    },
    expect: { status: 401, code: "INVALID_DPOP_PROOF" },
  },
  {
    id: "dpop/rest-wrong-path",
    class: "dpop",
    description: "a proof for /v1/debts used on /v1/expenses",
    run: async (ctx) => {
      const { key, access } = await bound(ctx);
      return ctx.rest("GET", "/v1/expenses", { headers: { authorization: `DPoP ${access}`, dpop: await key.proof("GET", `${ctx.origin}/v1/debts`, { accessToken: access }) } });
    },
    expect: { status: 401, code: "INVALID_DPOP_PROOF" },
  },
  {
    id: "dpop/forwarded-host",
    class: "dpop",
    description: "a proof for another host with X-Forwarded-Host naming it",
    run: async (ctx) => {
      const { key, access } = await bound(ctx);
      return ctx.gql(ctx.graphqlUrl, ME, undefined, { authorization: `DPoP ${access}`, dpop: await key.proof("POST", "https://evil.example/graphql", { accessToken: access }), "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" });
    },
    expect: invalidProof,
  },
  { id: "dpop/unbound-with-dpop-scheme", class: "dpop", description: "an unbound token with the DPoP scheme", run: async (ctx) => ctx.gql(ctx.graphqlUrl, ME, undefined, { authorization: `DPoP ${ctx.tokens.a}`, dpop: await (await ClientKey.create()).proof("POST", ctx.graphqlUrl, { accessToken: ctx.tokens.a }) }), expect: invalidProof },
  {
    id: "dpop/refresh-without-proof",
    class: "dpop",
    description: "a bound refresh token without a proof",
    run: async (ctx) => ctx.rest("POST", "/v1/auth/token", { headers: ctx.clients.demo.basic, form: { grant_type: "refresh_token", refresh_token: (await bound(ctx)).refresh } }),
    expect: { status: 401, code: "INVALID_DPOP_PROOF" },
  },
  {
    id: "dpop/refresh-other-key",
    class: "dpop",
    description: "a bound refresh token with another key's proof",
    run: async (ctx) =>
      ctx.rest("POST", "/v1/auth/token", {
        headers: { ...ctx.clients.demo.basic, dpop: await (await ClientKey.create()).proof("POST", `${ctx.origin}/v1/auth/token`) },
        form: { grant_type: "refresh_token", refresh_token: (await bound(ctx)).refresh },
      }),
    expect: { status: 401, code: "INVALID_DPOP_PROOF" },
  },
  {
    id: "dpop/token-endpoint-bad-proof",
    class: "dpop",
    description: "a client-credentials request with a proof for another URL (refused, not ignored)",
    run: async (ctx) => ctx.rest("POST", "/v1/auth/token", { headers: { ...ctx.clients.demo.basic, dpop: await (await ClientKey.create()).proof("POST", `${ctx.origin}/v1/auth/consent`) }, form: { grant_type: "client_credentials" } }),
    expect: { status: 401, code: "INVALID_DPOP_PROOF" },
  },
  {
    id: "dpop/subgraph-bearer",
    class: "dpop",
    description: "a bound token as Bearer at the debts subgraph port",
    run: async (ctx) => ctx.gql(ctx.subgraphUrls.debts!, `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { debts { balance } } } }`, { r: [{ __typename: "User", id: ctx.people.a }] }, { authorization: `Bearer ${(await bound(ctx)).access}` }),
    expect: invalidProof,
    subgraphPort: true,
  },
  {
    id: "dpop/subgraph-replay-wrong-htm",
    class: "dpop",
    description: "at a subgraph port, a spent proof made for GET on another URL is replayed (issue 16, cause 5)",
    run: async (ctx) => {
      const { key, access } = await bound(ctx);
      const proof = await key.proof("GET", `${ctx.origin}/v1/debts`, { accessToken: access });
      await ctx.rest("GET", "/v1/debts", { headers: { authorization: `DPoP ${access}`, dpop: proof } });
      return ctx.gql(ctx.subgraphUrls.debts!, `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { debts { balance } } } }`, { r: [{ __typename: "User", id: ctx.people.a }] }, { authorization: `DPoP ${access}`, dpop: proof });
    },
    expect: invalidProof,
    pending: "subgraphs that serve only the gateway or check htm/htu/replay themselves (issue 16, cause 5); docs/auth.md says subgraph ports do not",
    subgraphPort: true,
  },
  {
    id: "dpop/ws-no-proof",
    class: "dpop",
    description: "a bound token in connection_init without a proof",
    run: async (ctx) => socketOutcome(await socketRun(ctx.graphqlUrl, [JSON.stringify({ type: "connection_init", payload: { authorization: `DPoP ${(await bound(ctx)).access}` } }), JSON.stringify({ id: "1", type: "subscribe", payload: { query: "subscription { alertCreated { id } }" } })], 2_500)),
    expect: { status: 4401, means: "closed 4401", check: noSubscriptionData },
  },
  {
    id: "dpop/ws-wrong-htm",
    class: "dpop",
    description: "connection_init with a proof made for POST",
    run: async (ctx) => {
      const { key, access } = await bound(ctx);
      const proof = await key.proof("POST", ctx.graphqlUrl, { accessToken: access });
      return socketOutcome(await socketRun(ctx.graphqlUrl, [JSON.stringify({ type: "connection_init", payload: { authorization: `DPoP ${access}`, dpop: proof } })], 2_500));
    },
    expect: { status: 4401, means: "closed 4401", check: noSubscriptionData },
  },
  {
    id: "dpop/ws-replay",
    class: "dpop",
    description: "connection_init with a proof already used on another socket",
    run: async (ctx) => {
      const { key, access } = await bound(ctx);
      const proof = await key.proof("GET", ctx.graphqlUrl, { accessToken: access });
      const frames = [JSON.stringify({ type: "connection_init", payload: { authorization: `DPoP ${access}`, dpop: proof } })];
      const first = await socketRun(ctx.graphqlUrl, frames, 2_000);
      if (!first.acknowledged) throw new Error(`the first socket was refused: ${first.code} ${first.reason}`);
      return socketOutcome(await socketRun(ctx.graphqlUrl, frames, 2_500));
    },
    expect: { status: 4401, means: "closed 4401", check: noSubscriptionData },
  },
];

export const attacks: Attack[] = [...proofAttacks, ...more];
