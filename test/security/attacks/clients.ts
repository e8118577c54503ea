// What one client may do and cost: a client suspended mid-run keeps nothing (issue 16, cause 3),
// a server refuses to start on public default secrets (cause 2), per-client rate limits and
// consent prompts (item 3), and trusted documents in enforce mode (item 4).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { request } from "node:http";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { TrustedDocumentStore, documentHash } from "../../../gateway/trusted-documents/trusted-document-store.ts";
import { basic, bearer, CONSENT_TEXT_VERSION } from "../../../testkit/tokens.ts";
import { startTestKamina } from "../../support/kamina.ts";
import { noData, type Attack, type Expectation, type Outcome } from "../attack.ts";
import type { SecurityContext } from "../context.ts";
import { noSubscriptionData, once, socketOutcome, socketRun } from "../shared.ts";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const SUBGRAPHS = ["wellness", "debts", "expenses", "coach", "alerts"] as const;
const ENTITIES = `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { debts { balance } } } }`;

const suspendedRead: Expectation = { status: 401, code: "UNAUTHENTICATED", means: "401: the token was revoked with its client", check: noData };
const suspendedClient: Expectation = { status: 403, code: "FORBIDDEN", means: "403: the client is suspended" };

const suspension: Attack[] = [
  { id: "suspended/consent-token@gateway", class: "suspended-client", phase: "suspended", description: "the suspended client's consent token at the gateway", run: (ctx) => ctx.gql(ctx.graphqlUrl, "{ me { id debts { balance } } }", undefined, bearer(ctx.tokens.doomedConsent)), expect: suspendedRead },
  { id: "suspended/client-token@gateway", class: "suspended-client", phase: "suspended", description: "the suspended client's client-credentials token lists users", run: (ctx) => ctx.gql(ctx.graphqlUrl, "{ users(first: 5) { totalCount } }", undefined, bearer(ctx.tokens.doomedClient)), expect: suspendedRead },
  { id: "suspended/consent-token@rest", class: "suspended-client", phase: "suspended", description: "the suspended client's consent token on GET /v1/debts", run: (ctx) => ctx.rest("GET", "/v1/debts", { headers: bearer(ctx.tokens.doomedConsent) }), expect: { status: 401, code: "UNAUTHENTICATED" } },
  ...SUBGRAPHS.map((subgraph): Attack => ({
    id: `suspended/consent-token@${subgraph}`,
    class: "suspended-client",
    phase: "suspended",
    description: `the suspended client's consent token at the ${subgraph} subgraph port`,
    run: (ctx) => ctx.gql(ctx.subgraphUrls[subgraph]!, subgraph === "debts" ? ENTITIES : "{ __typename }", subgraph === "debts" ? { r: [{ __typename: "User", id: ctx.people.a }] } : undefined, bearer(ctx.tokens.doomedConsent)),
    expect: suspendedRead,
    subgraphPort: true,
  })),
  {
    id: "suspended/new-subscription",
    class: "suspended-client",
    phase: "suspended",
    description: "the suspended client's consent token opens a subscription",
    run: async (ctx) => socketOutcome(await socketRun(ctx.graphqlUrl, [JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${ctx.tokens.doomedConsent}` } }), JSON.stringify({ id: "1", type: "subscribe", payload: { query: "subscription { alertCreated { id } }" } })], 2_500)),
    expect: { status: 4403, means: "closed 4403 (revoked)", check: noSubscriptionData },
  },
  { id: "suspended/refresh", class: "suspended-client", phase: "suspended", description: "the suspended client refreshes", run: (ctx) => ctx.rest("POST", "/v1/auth/token", { headers: ctx.clients.doomed.basic, form: { grant_type: "refresh_token", refresh_token: ctx.tokens.doomedRefresh } }), expect: suspendedClient },
  { id: "suspended/client-credentials", class: "suspended-client", phase: "suspended", description: "the suspended client asks a client-credentials token", run: (ctx) => ctx.rest("POST", "/v1/auth/token", { headers: ctx.clients.doomed.basic, form: { grant_type: "client_credentials" } }), expect: suspendedClient },
  {
    id: "suspended/consent-request",
    class: "suspended-client",
    phase: "suspended",
    description: "the suspended client asks a new consent",
    run: (ctx) => ctx.rest("POST", "/v1/auth/consent", { headers: ctx.clients.doomed.basic, json: { client_id: ctx.clients.doomed.id, user_external_id: ctx.people.a, scopes: ["debts.read"], country: "MX", consent_text_version: CONSENT_TEXT_VERSION } }),
    expect: suspendedClient,
  },
  { id: "suspended/webhooks", class: "suspended-client", phase: "suspended", description: "the suspended client registers a webhook", run: (ctx) => ctx.rest("POST", "/v1/webhooks", { headers: ctx.clients.doomed.basic, json: { url: "http://127.0.0.1:9/hooks", events: ["alert.created"] } }), expect: suspendedClient },
  { id: "suspended/revoke", class: "suspended-client", phase: "suspended", description: "the suspended client calls the revocation endpoint", run: (ctx) => ctx.rest("POST", "/v1/auth/revoke", { headers: ctx.clients.doomed.basic, json: { token: ctx.tokens.doomedRefresh } }), expect: suspendedClient },
  { id: "suspended/read-consent", class: "suspended-client", phase: "suspended", description: "the suspended client reads its consent", run: (ctx) => ctx.rest("GET", `/v1/consents/${ctx.tokens.aConsentId}`, { headers: ctx.clients.doomed.basic }), expect: suspendedClient },
];

/** `npm start`'s entry point with `env` over a clean environment: what it said and how it ended. */
async function startWith(env: Record<string, string>): Promise<Outcome> {
  const clean: NodeJS.ProcessEnv = {};
  for (const key of ["PATH", "HOME", "TMPDIR", "LANG"]) if (process.env[key] !== undefined) clean[key] = process.env[key];
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", "runtime/start.ts"], {
      cwd: REPO_ROOT,
      env: { ...clean, PORT: "0", DATA_DIR: `/tmp/kamina-sec-${randomBytes(4).toString("hex")}`, SEED_USERS: "0", LOG_LEVEL: "warn", ...env },
      timeout: 55_000,
    });
    return { status: 0, code: null, body: `${stdout}${stderr}`.slice(0, 4000), note: "started" };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string; killed?: boolean };
    return { status: typeof failed.code === "number" ? failed.code : -1, code: failed.killed ? "KILLED" : null, body: `${failed.stdout ?? ""}${failed.stderr ?? ""}`.slice(0, 4000) };
  }
}

const refusesToStart = (...names: string[]): Expectation => ({
  status: 1,
  means: `exit 1 naming ${names.join(", ")}`,
  check: (o) => {
    const said = String(o.body);
    if (!/refuses to start/.test(said)) return "no refusal message";
    const missing = names.filter((name) => !new RegExp(`${name} is left at its public default|${name}`).test(said));
    return missing.length ? `does not name ${missing.join(", ")}` : undefined;
  },
});

const defaults: Attack[] = [
  { id: "default-secrets/host-0.0.0.0", class: "default-secrets", description: "npm start with HOST=0.0.0.0 and every secret at its public default", run: () => startWith({ HOST: "0.0.0.0" }), expect: refusesToStart("KEY_ENCRYPTION_KEY", "APP_API_KEY", "SANDBOX_CLIENT_SECRET") },
  { id: "default-secrets/node-env-production", class: "default-secrets", description: "npm start with NODE_ENV=production on loopback and the public defaults", run: () => startWith({ NODE_ENV: "production" }), expect: refusesToStart("KEY_ENCRYPTION_KEY", "APP_API_KEY", "SANDBOX_CLIENT_SECRET") },
  {
    id: "default-secrets/one-left",
    class: "default-secrets",
    description: "HOST=:: with two secrets set and APP_API_KEY left at its default",
    run: () => startWith({ HOST: "::", KEY_ENCRYPTION_KEY: randomBytes(32).toString("base64url"), SANDBOX_CLIENT_SECRET: randomBytes(24).toString("hex") }),
    expect: refusesToStart("APP_API_KEY"),
  },
  {
    id: "default-secrets/weak-key",
    class: "default-secrets",
    description: "PUBLIC_URL https with a KEY_ENCRYPTION_KEY of one repeated byte",
    run: () => startWith({ PUBLIC_URL: "https://api.bank.example", KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64url"), APP_API_KEY: randomBytes(32).toString("base64url"), SANDBOX_CLIENT_SECRET: randomBytes(24).toString("hex") }),
    expect: refusesToStart("KEY_ENCRYPTION_KEY"),
  },
];

/** Sends `count` requests with at most `concurrency` in flight; the first 429 seen, or the last answer. */
async function untilLimited(count: number, concurrency: number, send: () => Promise<Outcome>): Promise<Outcome> {
  let sent = 0;
  let limited: Outcome | undefined;
  let last: Outcome | undefined;
  const worker = async () => {
    while (sent < count && !limited) {
      sent++;
      const outcome = await send();
      last = outcome;
      if (outcome.status === 429) limited ??= { ...outcome, note: `after ${sent} requests` };
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return limited ?? { ...last!, note: `no 429 in ${count} requests` };
}

const rateLimited = (what: string): Expectation => ({
  status: 429,
  code: "RATE_LIMITED",
  means: `429 RATE_LIMITED with Retry-After and RateLimit headers (${what})`,
  check: (o) => {
    if (!/^\d+$/.test(o.headers?.get("retry-after") ?? "")) return "no Retry-After";
    if (!o.headers?.get("ratelimit") && !o.headers?.get("ratelimit-policy") && !o.headers?.get("ratelimit-limit")) return "no RateLimit headers";
    return undefined;
  },
});

/** A POST from a given loopback source address (Linux routes all of 127/8 to lo). */
function postFrom(ctx: SecurityContext, localAddress: string, path: string, headers: Record<string, string>, body: string): Promise<Outcome> {
  const { port } = new URL(ctx.origin);
  return new Promise((resolve, reject) => {
    const sent = request({ host: "127.0.0.1", port: Number(port), path, method: "POST", localAddress, headers: { ...headers, "content-length": Buffer.byteLength(body) } }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (text += chunk));
      response.on("end", () => {
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // keep the text
        }
        const headersOut = new Headers();
        for (const [name, value] of Object.entries(response.headers)) if (typeof value === "string") headersOut.set(name, value);
        resolve({ status: response.statusCode ?? 0, code: (parsed as { code?: string }).code ?? null, body: parsed, headers: headersOut });
      });
    });
    sent.on("error", reject);
    sent.end(body);
  });
}

const rateLimits: Attack[] = [
  {
    id: "rate-limit/requests",
    class: "rate-limit",
    phase: "serial",
    description: "a live client sends more requests than its quota (RATE_LIMIT_REQUESTS_LIVE=150 here)",
    run: (ctx) => untilLimited(200, 8, () => ctx.gql(ctx.graphqlUrl, "{ __typename }", undefined, bearer(ctx.tokens.rlRequests))),
    expect: rateLimited("requests per window"),
  },
  {
    id: "rate-limit/cost",
    class: "rate-limit",
    phase: "serial",
    description: "a live client runs operations whose estimated cost adds up past its quota (RATE_LIMIT_COST_LIVE=200000 here)",
    run: (ctx) => untilLimited(60, 4, () => ctx.gql(ctx.graphqlUrl, "{ users(first: 100) { edges { node { alerts(first: 90) { id type severity } } } } }", undefined, bearer(ctx.tokens.rlCost))),
    expect: rateLimited("operation cost per window"),
  },
  {
    id: "rate-limit/auth-failures-client",
    class: "rate-limit",
    phase: "serial",
    description: "eleven wrong secrets for one client id, then the right one: refused until the window passes",
    run: async (ctx) => {
      for (let attempt = 0; attempt < 11; attempt++) {
        await ctx.rest("POST", "/v1/auth/token", { headers: basic(ctx.clients.rlAuth.id, `wrong-${attempt}`), form: { grant_type: "client_credentials" } });
      }
      return ctx.rest("POST", "/v1/auth/token", { headers: ctx.clients.rlAuth.basic, form: { grant_type: "client_credentials" } });
    },
    expect: rateLimited("failed authentications per client id"),
  },
  {
    id: "rate-limit/auth-failures-address",
    class: "rate-limit",
    phase: "serial",
    description: "one source address (127.0.0.77) tries 101 unknown client ids",
    run: async (ctx) =>
      untilLimited(110, 6, () => postFrom(ctx, "127.0.0.77", "/v1/auth/token", { ...basic(`nobody_${randomBytes(4).toString("hex")}`, "guess"), "content-type": "application/x-www-form-urlencoded" }, "grant_type=client_credentials")),
    expect: rateLimited("failed authentications per address"),
  },
  {
    id: "rate-limit/consent-spam",
    class: "rate-limit",
    phase: "serial",
    description: "a live client asks one person for consent again and again (each is a prompt in the person's app)",
    run: (ctx) =>
      untilLimited(15, 1, () =>
        ctx.rest("POST", "/v1/auth/consent", { headers: ctx.clients.rlConsent.basic, json: { client_id: ctx.clients.rlConsent.id, user_external_id: ctx.people.b, scopes: ["debts.read"], country: "MX", consent_text_version: CONSENT_TEXT_VERSION } }),
      ),
    expect: rateLimited("consent prompts per person"),
  },
];

/** A second gateway on the same database, enforcing trusted documents (the production default). */
const strict = once(async (ctx: SecurityContext) => {
  const kamina = await startTestKamina(ctx.kamina.database, { ...ctx.env, TRUSTED_DOCUMENTS: "enforce" });
  ctx.onStop(() => kamina.stop());
  const document = "query Mine { me { id } }";
  await new TrustedDocumentStore(ctx.prisma).register(ctx.clients.demo.id, [document]);
  const others = "query Theirs { me { id debts { balance } } }";
  await new TrustedDocumentStore(ctx.prisma).register(ctx.clients.second.id, [others]);
  return { url: kamina.graphqlUrl, mine: documentHash(document), theirs: documentHash(others) };
});

const trusted = (payload: (ids: { mine: string; theirs: string }) => Record<string, unknown>, token = (ctx: SecurityContext) => ctx.tokens.a) => async (ctx: SecurityContext) => {
  const gateway = await strict(ctx);
  return ctx.rest("POST", "", { url: gateway.url, headers: bearer(token(ctx)), json: payload(gateway) });
};

const trustedDocuments: Attack[] = [
  { id: "trusted-documents/query-text", class: "trusted-documents", description: "query text instead of a registered document's hash", run: trusted(() => ({ query: "{ me { id debts { balance } } }" })), expect: { status: 400, code: "PERSISTED_QUERY_REQUIRED", check: noData } },
  { id: "trusted-documents/unknown-hash", class: "trusted-documents", description: "a hash nobody registered", run: trusted(() => ({ extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } } })), expect: { status: 400, code: "PERSISTED_QUERY_NOT_FOUND", check: noData } },
  { id: "trusted-documents/other-clients-hash", class: "trusted-documents", description: "another client's registered document", run: trusted((ids) => ({ documentId: ids.theirs })), expect: { status: 400, code: "PERSISTED_QUERY_NOT_FOUND", check: noData } },
  { id: "trusted-documents/apq-registration", class: "trusted-documents", description: "automatic persisted query registration: text with its own hash", run: trusted(() => ({ query: "{ me { id debts { balance } } }", extensions: { persistedQuery: { version: 1, sha256Hash: documentHash("{ me { id debts { balance } } }") } } })), expect: { status: 400, code: "PERSISTED_QUERY_NOT_FOUND", check: noData } },
  { id: "trusted-documents/hash-with-other-text", class: "trusted-documents", description: "a registered hash sent with other query text", run: trusted((ids) => ({ query: "{ me { id debts { balance } } }", extensions: { persistedQuery: { version: 1, sha256Hash: ids.mine } } })), expect: { status: 400, code: "BAD_REQUEST", check: noData } },
  { id: "trusted-documents/batch", class: "trusted-documents", description: "a batch of registered documents", run: async (ctx) => ctx.rest("POST", "", { url: (await strict(ctx)).url, headers: bearer(ctx.tokens.a), json: [{ documentId: (await strict(ctx)).mine }, { documentId: (await strict(ctx)).mine }] }), expect: { status: 400, code: "BAD_REQUEST", check: noData } },
  {
    id: "trusted-documents/subscription-text",
    class: "trusted-documents",
    description: "a subscription's query text over graphql-ws to the enforcing gateway",
    run: async (ctx) =>
      socketOutcome(
        await socketRun((await strict(ctx)).url, [JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${ctx.tokens.a}` } }), JSON.stringify({ id: "1", type: "subscribe", payload: { query: "subscription { alertCreated { id user { debts { balance } } } }" } })], 2_500),
      ),
    expect: { status: 0, code: "PERSISTED_QUERY_REQUIRED", means: "the subscription refused, no result", check: noSubscriptionData },
  },
  {
    id: "trusted-documents/subscription-unknown-hash",
    class: "trusted-documents",
    description: "a subscription naming a hash nobody registered, over graphql-ws",
    run: async (ctx) =>
      socketOutcome(
        await socketRun((await strict(ctx)).url, [JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${ctx.tokens.a}` } }), JSON.stringify({ id: "1", type: "subscribe", payload: { query: "", extensions: { persistedQuery: { version: 1, sha256Hash: "f".repeat(64) } } } })], 2_500),
      ),
    expect: { status: 0, code: "PERSISTED_QUERY_NOT_FOUND", means: "the subscription refused, no result", check: noSubscriptionData },
  },
  { id: "trusted-documents/malformed-hash", class: "trusted-documents", description: "a documentId that is SQL", run: trusted(() => ({ documentId: "' OR '1'='1" })), expect: { status: 400, code: "PERSISTED_QUERY_NOT_FOUND", check: noData } },
];

export const attacks: Attack[] = [...suspension, ...defaults.map((attack) => ({ ...attack, timeoutMs: 60_000 })), ...rateLimits, ...trustedDocuments];
