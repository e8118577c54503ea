// Token forgery, refresh-token reuse, revocation at the gateway and at every subgraph port, and a
// forged token-check seal (the header the gateway sends its subgraphs).
import { createHmac, randomBytes } from "node:crypto";
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT, type JWTPayload } from "jose";
import { LOCAL_KEY_ENCRYPTION_KEY } from "../../../platform/config/secret-policy.ts";
import { TOKEN_CHECK_HEADER, TokenCheckSeal } from "../../../platform/auth/token-check-seal.ts";
import { bearer, CONSENT_TEXT_VERSION } from "../../../testkit/tokens.ts";
import { noData, refused, type Attack, type Outcome } from "../attack.ts";
import type { SecurityContext } from "../context.ts";
import { closeCode, once } from "../shared.ts";

const ME = "{ me { id debts { balance } } }";
const ENTITIES = `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { debts { id balance } } } }`;
const SUBGRAPHS = ["wellness", "debts", "expenses", "coach", "alerts"] as const;
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value), "utf8").toString("base64url");

const unauthenticated = { ...refused.unauthenticated, check: noData };

/** A token built by the attacker from person A's real one. */
type Forge = (ctx: SecurityContext, real: string) => Promise<string>;

async function signedWithOwnKey(payload: JWTPayload, header: Record<string, unknown>): Promise<string> {
  const { privateKey } = await generateKeyPair("EdDSA");
  return new SignJWT(payload).setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", ...header }).sign(privateKey);
}

/** Signed with the gateway's real key: tests what the verifier checks beyond the signature. */
async function signedWithRealKey(ctx: SecurityContext, payload: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  const signer = await ctx.kamina.gateway!.auth.keys.signer();
  return new SignJWT(payload).setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: "at+jwt", ...header }).sign(signer.key);
}

const now = () => Math.floor(Date.now() / 1000);

const FORGERIES: [name: string, description: string, forge: Forge][] = [
  ["alg-none", "alg none, no signature", async (_ctx, real) => `${b64url({ ...decodeProtectedHeader(real), alg: "none" })}.${real.split(".")[1]}.`],
  ["alg-none-upper", "alg NONE, no signature", async (_ctx, real) => `${b64url({ ...decodeProtectedHeader(real), alg: "NONE" })}.${real.split(".")[1]}.`],
  ["wrong-key-real-kid", "signed by the attacker's own Ed25519 key under the gateway's real kid", async (_ctx, real) => signedWithOwnKey(decodeJwt(real), { kid: decodeProtectedHeader(real).kid })],
  ["wrong-key-no-kid", "signed by the attacker's own key, no kid", async (_ctx, real) => signedWithOwnKey(decodeJwt(real), {})],
  ["unknown-kid", "an unknown kid", async (_ctx, real) => signedWithOwnKey(decodeJwt(real), { kid: "kid-that-does-not-exist" })],
  ["kid-path-traversal", "kid ../../../../dev/null", async (_ctx, real) => signedWithOwnKey(decodeJwt(real), { kid: "../../../../dev/null" })],
  ["kid-sql", "kid with SQL in it", async (_ctx, real) => signedWithOwnKey(decodeJwt(real), { kid: "' OR '1'='1" })],
  [
    "embedded-jwk",
    "the attacker's public key embedded in the header (jwk), signed by it",
    async (_ctx, real) => {
      const { privateKey, publicKey } = await generateKeyPair("EdDSA", { extractable: true });
      const { exportJWK } = await import("jose");
      return new SignJWT(decodeJwt(real)).setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid: decodeProtectedHeader(real).kid, jwk: await exportJWK(publicKey) }).sign(privateKey);
    },
  ],
  ["jku", "a jku header pointing at the attacker's key set", async (_ctx, real) => signedWithOwnKey(decodeJwt(real), { kid: decodeProtectedHeader(real).kid, jku: "http://127.0.0.1:9/jwks.json" })],
  [
    "hs256-public-key",
    "HS256 keyed with the gateway's published public key (algorithm confusion)",
    async (ctx, real) => {
      const jwks = (await (await fetch(`${ctx.origin}/.well-known/jwks.json`)).json()) as { keys: { kid: string; x: string }[] };
      const key = jwks.keys.find((candidate) => candidate.kid === decodeProtectedHeader(real).kid) ?? jwks.keys[0]!;
      const header = b64url({ alg: "HS256", typ: "at+jwt", kid: key.kid });
      const body = real.split(".")[1]!;
      return `${header}.${body}.${createHmac("sha256", Buffer.from(key.x, "base64url")).update(`${header}.${body}`).digest("base64url")}`;
    },
  ],
  ["scope-added", "a scope added to the payload by hand, signature kept", async (_ctx, real) => {
    const [header, , signature] = real.split(".");
    return `${header}.${b64url({ ...decodeJwt(real), scope: "debts.read coach.read coach.transcripts.read reports.read" })}.${signature}`;
  }],
  ["sub-swapped", "sub changed to person B, signature kept", async (ctx, real) => {
    const [header, , signature] = real.split(".");
    return `${header}.${b64url({ ...decodeJwt(real), sub: ctx.people.b })}.${signature}`;
  }],
  ["signature-stripped", "header and payload only", async (_ctx, real) => real.split(".").slice(0, 2).join(".") + "."],
  ["truncated", "the last character of the signature cut", async (_ctx, real) => real.slice(0, -1)],
  ["garbage", "not a JWT", async () => "not.a.jwt"],
  ["expired", "expired an hour ago (signed by the real key)", async (ctx, real) => signedWithRealKey(ctx, { ...decodeJwt(real), iat: now() - 7200, nbf: now() - 7200, exp: now() - 3600 })],
  ["not-yet-valid", "nbf an hour ahead (signed by the real key)", async (ctx, real) => signedWithRealKey(ctx, { ...decodeJwt(real), nbf: now() + 3600, exp: now() + 7200 })],
  ["wrong-audience", "aud of another API (signed by the real key)", async (ctx, real) => signedWithRealKey(ctx, { ...decodeJwt(real), aud: "another-api" })],
  ["wrong-issuer", "iss of another issuer (signed by the real key)", async (ctx, real) => signedWithRealKey(ctx, { ...decodeJwt(real), iss: "https://evil.example" })],
  ["wrong-typ", "typ JWT instead of at+jwt (an ID token's, signed by the real key)", async (ctx, real) => signedWithRealKey(ctx, decodeJwt(real), { typ: "JWT" })],
  ["unknown-consent", "a consent_id that does not exist (signed by the real key)", async (ctx, real) => signedWithRealKey(ctx, { ...decodeJwt(real), consent_id: "cns_does_not_exist" })],
  ["no-exp", "no exp claim (signed by the real key)", async (ctx, real) => {
    const { exp: _exp, ...rest } = decodeJwt(real);
    return signedWithRealKey(ctx, rest);
  }],
];

const targets: [name: string, call: (ctx: SecurityContext, token: string) => Promise<Outcome>][] = [
  ["gateway", (ctx, token) => ctx.gql(ctx.graphqlUrl, ME, undefined, bearer(token))],
  ["subgraph", (ctx, token) => ctx.gql(ctx.subgraphUrls.debts!, ENTITIES, { r: [{ __typename: "User", id: ctx.people.a }] }, bearer(token))],
  ["rest", (ctx, token) => ctx.rest("GET", "/v1/debts", { headers: bearer(token) })],
];

const forgeries: Attack[] = FORGERIES.flatMap(([name, description, forge]) =>
  targets.map(([target, call]) => ({
    id: `token-forgery/${name}@${target}`,
    class: "token-forgery",
    description: `${description}, at the ${target}`,
    run: async (ctx) => call(ctx, await forge(ctx, ctx.tokens.a)),
    expect: unauthenticated,
    subgraphPort: target === "subgraph",
  })),
);

/** A fresh grant of the demo client for person A: its access and refresh tokens. */
async function grant(ctx: SecurityContext, client = ctx.clients.demo): Promise<{ access: string; refresh: string; consentId: string }> {
  const answer = await ctx.rest("POST", "/v1/auth/consent", {
    headers: client.basic,
    json: { client_id: client.id, user_external_id: ctx.people.a, scopes: ["debts.read", "wellness.read"], country: "MX", consent_text_version: CONSENT_TEXT_VERSION },
  });
  const body = answer.body as { access_token: string; refresh_token: string; consent_id: string };
  if (answer.status !== 200) throw new Error(`grant: ${answer.status} ${JSON.stringify(answer.body)}`);
  return { access: body.access_token, refresh: body.refresh_token, consentId: body.consent_id };
}

const refreshWith = (ctx: SecurityContext, refreshToken: string, client = ctx.clients.demo) =>
  ctx.rest("POST", "/v1/auth/token", { headers: client.basic, form: { grant_type: "refresh_token", refresh_token: refreshToken } });

/** A family whose first refresh token was reused: what is left of it. */
const reusedFamily = once(async (ctx: SecurityContext) => {
  const granted = await grant(ctx);
  const first = (await refreshWith(ctx, granted.refresh)).body as { access_token: string; refresh_token: string };
  const reuse = await refreshWith(ctx, granted.refresh);
  return { granted, first, reuse };
});

const invalidGrant = { status: 400, code: "INVALID_GRANT" };

const refreshAttacks: Attack[] = [
  { id: "refresh-reuse/spent-token", class: "refresh-reuse", description: "a spent refresh token presented again", run: async (ctx) => (await reusedFamily(ctx)).reuse, expect: invalidGrant },
  { id: "refresh-reuse/newest-after-reuse", class: "refresh-reuse", description: "the family's newest refresh token, after a reuse", run: async (ctx) => refreshWith(ctx, (await reusedFamily(ctx)).first.refresh_token), expect: invalidGrant },
  { id: "refresh-reuse/family-access-gateway", class: "refresh-reuse", description: "an access token of the reused family, at the gateway", run: async (ctx) => ctx.gql(ctx.graphqlUrl, ME, undefined, bearer((await reusedFamily(ctx)).first.access_token)), expect: unauthenticated },
  { id: "refresh-reuse/first-access-gateway", class: "refresh-reuse", description: "the grant's first access token, after its family was revoked", run: async (ctx) => ctx.gql(ctx.graphqlUrl, ME, undefined, bearer((await reusedFamily(ctx)).granted.access)), expect: unauthenticated },
  { id: "refresh-reuse/family-access-subgraph", class: "refresh-reuse", description: "an access token of the reused family, at the debts subgraph port", run: async (ctx) => targets[1]![1](ctx, (await reusedFamily(ctx)).first.access_token), expect: unauthenticated, subgraphPort: true },
  {
    id: "refresh-reuse/race",
    class: "refresh-reuse",
    description: "two refreshes racing with one refresh token: the loser is a reuse",
    run: async (ctx) => {
      const granted = await grant(ctx);
      const answers = await Promise.all([refreshWith(ctx, granted.refresh), refreshWith(ctx, granted.refresh)]);
      const statuses = answers.map((answer) => answer.status).sort();
      const loser = answers.find((answer) => answer.status !== 200) ?? answers[1]!;
      return { ...loser, note: `statuses ${statuses.join(",")}` };
    },
    expect: { ...invalidGrant, check: (outcome) => (outcome.note === "statuses 200,400" ? undefined : `expected one 200 and one 400, got ${outcome.note}`) },
  },
  { id: "refresh-reuse/other-client", class: "refresh-reuse", description: "the demo client's refresh token presented by the second sandbox client", run: async (ctx) => refreshWith(ctx, (await grant(ctx)).refresh, ctx.clients.second), expect: invalidGrant },
  { id: "refresh-reuse/garbage", class: "refresh-reuse", description: "a made-up refresh token with SQL in it", run: async (ctx) => refreshWith(ctx, "rf_' OR '1'='1"), expect: invalidGrant },
  { id: "refresh-reuse/access-as-refresh", class: "refresh-reuse", description: "an access token presented as a refresh token (longer than any refresh token)", run: async (ctx) => refreshWith(ctx, ctx.tokens.a), expect: refused.badInput },
  {
    id: "refresh-reuse/revoked-consent",
    class: "refresh-reuse",
    description: "a refresh token of a consent the person revoked",
    run: async (ctx) => {
      const granted = await grant(ctx);
      await ctx.rest("DELETE", `/v1/consents/${granted.consentId}`, { headers: ctx.clients.demo.basic });
      return refreshWith(ctx, granted.refresh);
    },
    expect: invalidGrant,
  },
];

/** Person A's token whose consent was revoked, and one whose jti was revoked. */
const revoked = once(async (ctx: SecurityContext) => {
  const byConsent = await grant(ctx);
  const consentRevocation = await ctx.rest("DELETE", `/v1/consents/${byConsent.consentId}`, { headers: ctx.clients.demo.basic, json: { reason: "security suite" } });
  if (consentRevocation.status !== 200) throw new Error(`revoking: ${consentRevocation.status}`);
  const byJti = await grant(ctx);
  const tokenRevocation = await ctx.rest("POST", "/v1/auth/revoke", { headers: ctx.clients.demo.basic, json: { token: byJti.access } });
  if (tokenRevocation.status !== 200) throw new Error(`revoking: ${tokenRevocation.status}`);
  return { consent: byConsent.access, jti: byJti.access };
});

const jtiOf = (token: string) => String(decodeJwt(token).jti);

const SEALS: [name: string, description: string, seal: (token: string) => string][] = [
  ["public-default-key", "sealed with the public default KEY_ENCRYPTION_KEY", (token) => new TokenCheckSeal(LOCAL_KEY_ENCRYPTION_KEY).seal(jtiOf(token), { kind: "consent" })],
  ["random-key", "sealed with a key of the attacker's", (token) => new TokenCheckSeal(randomBytes(32)).seal(jtiOf(token), { kind: "consent" })],
];

/** A revoked consent's token is refused with its own code; a revoked jti with UNAUTHENTICATED. */
const revokedCode = { consent: "CONSENT_REVOKED", jti: "UNAUTHENTICATED" } as const;

const revocationAttacks: Attack[] = [
  ...(["consent", "jti"] as const).flatMap((kind): Attack[] => [
    {
      id: `revocation/${kind}@gateway`,
      class: "revocation",
      description: `a token whose ${kind === "consent" ? "consent was revoked" : "jti was revoked (RFC 7009)"}, at the gateway`,
      run: async (ctx) => ctx.gql(ctx.graphqlUrl, ME, undefined, bearer((await revoked(ctx))[kind])),
      expect: { status: 401, code: revokedCode[kind], check: noData },
    },
    {
      id: `revocation/${kind}@rest`,
      class: "revocation",
      description: `a token whose ${kind} was revoked, on GET /v1/debts`,
      run: async (ctx) => ctx.rest("GET", "/v1/debts", { headers: bearer((await revoked(ctx))[kind]) }),
      expect: { status: 401, code: revokedCode[kind] },
    },
    {
      id: `revocation/${kind}@subscription`,
      class: "revocation",
      description: `a token whose ${kind} was revoked, opening a subscription`,
      run: async (ctx) => closeCode(ctx, { authorization: `Bearer ${(await revoked(ctx))[kind]}` }, "subscription { alertCreated { id } }"),
      expect: { status: 4403, code: null, means: "socket closed 4403" },
    },
    ...SUBGRAPHS.map((subgraph): Attack => ({
      id: `revocation/${kind}@${subgraph}`,
      class: "revocation",
      description: `a token whose ${kind} was revoked, at the ${subgraph} subgraph port`,
      run: async (ctx) => ctx.gql(ctx.subgraphUrls[subgraph]!, "{ __typename }", undefined, bearer((await revoked(ctx))[kind])),
      expect: { status: 401, code: revokedCode[kind], check: noData },
      subgraphPort: true,
    })),
    ...SUBGRAPHS.flatMap((subgraph) =>
      SEALS.map(([name, description, seal]): Attack => ({
        id: `revocation/${kind}@${subgraph}+seal-${name}`,
        class: "revocation",
        description: `a token whose ${kind} was revoked, at the ${subgraph} subgraph port with a forged ${TOKEN_CHECK_HEADER} ${description}`,
        run: async (ctx) => {
          const token = (await revoked(ctx))[kind];
          return ctx.gql(ctx.subgraphUrls[subgraph]!, "{ __typename }", undefined, { ...bearer(token), [TOKEN_CHECK_HEADER]: seal(token) });
        },
        expect: { status: 401, code: revokedCode[kind], check: noData },
        subgraphPort: true,
      })),
    ),
  ]),
  {
    id: "revocation/client-seal-at-gateway",
    class: "revocation",
    description: `a revoked token at the gateway with a ${TOKEN_CHECK_HEADER} header of the client's (the gateway never accepts one)`,
    run: async (ctx) => {
      const token = (await revoked(ctx)).consent;
      return ctx.gql(ctx.graphqlUrl, ME, undefined, { ...bearer(token), [TOKEN_CHECK_HEADER]: SEALS[0]![2](token) });
    },
    expect: { status: 401, code: "CONSENT_REVOKED", check: noData },
  },
];

/** The header subgraphs read the gateway's signature from (issue 16, cause 5). */
const GATEWAY_SIGNATURE_HEADER = "x-kamina-gateway-signature";
const CAUSE_5 = "subgraphs that serve only the gateway: requests it signs with a per-deployment secret (issue 16, cause 5)";

const SIGNATURES: [name: string, value: string | undefined][] = [
  ["none", undefined],
  ["random", `v1,${randomBytes(32).toString("base64")}`],
  ["huge", "x".repeat(10_000)],
  ["sql", "' OR '1'='1"],
];

const gateAttacks: Attack[] = [
  ...SUBGRAPHS.map((subgraph): Attack => ({
    id: `subgraph-gate/valid-token@${subgraph}`,
    class: "subgraph-gate",
    description: `a valid partner token straight to the ${subgraph} subgraph port, without the gateway's signature`,
    run: (ctx) => ctx.gql(ctx.subgraphUrls[subgraph]!, "{ _service { sdl } }", undefined, bearer(ctx.tokens.demoClient)),
    expect: { status: 401, code: "GATEWAY_SIGNATURE_REQUIRED", check: noData },
    subgraphPort: true,
    pending: CAUSE_5,
  })),
  ...SIGNATURES.filter(([name]) => name !== "none").map(([name, value]): Attack => ({
    id: `subgraph-gate/forged-signature-${name}`,
    class: "subgraph-gate",
    description: `a valid consent token at the debts subgraph port with a forged ${GATEWAY_SIGNATURE_HEADER} (${name})`,
    run: (ctx) => ctx.gql(ctx.subgraphUrls.debts!, ENTITIES, { r: [{ __typename: "User", id: ctx.people.a }] }, { ...bearer(ctx.tokens.a), [GATEWAY_SIGNATURE_HEADER]: value! }),
    expect: { status: 401, code: "GATEWAY_SIGNATURE_REQUIRED", check: noData },
    subgraphPort: true,
    pending: CAUSE_5,
  })),
];

export const attacks: Attack[] = [...forgeries, ...refreshAttacks, ...revocationAttacks, ...gateAttacks];
