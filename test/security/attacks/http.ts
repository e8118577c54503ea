// HTTP-level abuse: CSRF (form posts, text/plain, no preflight bypass), batching, operationName
// tricks, a subscription over POST, huge cursors, oversized and slow bodies, and the security
// headers and CORS answers every browser relies on.
import { connect } from "node:net";
import { bearer } from "../../../testkit/tokens.ts";
import { allErrors, at, both, dataOf, noData, refused, type Attack, type Expectation, type Outcome } from "../attack.ts";
import type { SecurityContext } from "../context.ts";

const asA = (ctx: SecurityContext) => bearer(ctx.tokens.a);
const ALLOWED_ORIGIN = "https://app.bank.example";

/** Sends `text` on a raw socket and reads until the server closes it (or 5 s pass): what a slow client sees. */
function rawExchange(origin: string, text: string, waitMs = 5_000): Promise<Outcome> {
  const { hostname, port } = new URL(origin);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(text));
    let answer = "";
    socket.setEncoding("utf8");
    let answeredAt: number | undefined;
    socket.on("data", (chunk: string) => {
      answeredAt ??= performance.now();
      answer += chunk;
      // The whole answer is in (a JSON body ends with "}"): stop waiting for the server to close.
      if (/\r\n\r\n[\s\S]*\}\s*$/.test(answer) || /^HTTP\/1\.1 408/.test(answer)) setTimeout(() => socket.destroy(), 20);
    });
    socket.on("error", reject);
    socket.on("close", () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
      const code = /"code":"([A-Z_]+)"/.exec(answer)?.[1] ?? null;
      resolve({ status, code, body: answer.slice(0, 300), note: `${((answeredAt ?? performance.now()) - started).toFixed(0)} ms` });
    });
    setTimeout(() => socket.destroy(), waitMs).unref();
  });
}

const within = (ms: number) => (outcome: Outcome) => (Number.parseFloat(outcome.note ?? "0") < ms ? undefined : `held ${outcome.note}`);

const post = (ctx: SecurityContext, contentType: string, body: string, headers: Record<string, string> = {}) =>
  ctx.rest("POST", "", { url: ctx.graphqlUrl, headers: { ...headers }, raw: { contentType, body } });

const csrf: Attack[] = [
  { id: "csrf/form-post-graphql", class: "csrf", description: "an HTML form's POST to /graphql (application/x-www-form-urlencoded)", run: (ctx) => post(ctx, "application/x-www-form-urlencoded", "query=mutation%7BrunDiagnosis%7Bscore%7D%7D", asA(ctx)), expect: { status: 415, code: "UNSUPPORTED_MEDIA_TYPE" } },
  { id: "csrf/text-plain-graphql", class: "csrf", description: "text/plain JSON to /graphql (a simple request, no preflight)", run: (ctx) => post(ctx, "text/plain", JSON.stringify({ query: "mutation { runDiagnosis { score } }" }), asA(ctx)), expect: { status: 415, code: "UNSUPPORTED_MEDIA_TYPE" } },
  { id: "csrf/multipart-graphql", class: "csrf", description: "multipart/form-data to /graphql", run: (ctx) => post(ctx, "multipart/form-data; boundary=x", '--x\r\nContent-Disposition: form-data; name="query"\r\n\r\n{ me { id } }\r\n--x--', asA(ctx)), expect: { status: 415, code: "UNSUPPORTED_MEDIA_TYPE" } },
  { id: "csrf/no-content-type-graphql", class: "csrf", description: "a POST to /graphql without a content type", run: (ctx) => ctx.rest("POST", "", { url: ctx.graphqlUrl, headers: asA(ctx), raw: { body: '{"query":"{ me { id } }"}' } }), expect: { status: 415, code: "UNSUPPORTED_MEDIA_TYPE" } },
  {
    id: "csrf/get-mutation",
    class: "csrf",
    description: "a mutation in a GET query string (a link or an <img>)",
    run: (ctx) => ctx.rest("GET", "", { url: `${ctx.graphqlUrl}?query=${encodeURIComponent("mutation { runDiagnosis { score } }")}`, headers: asA(ctx) }),
    expect: { status: 400, code: "BAD_REQUEST", means: "400: blocked as a potential CSRF (no content type, no preflight header)" },
  },
  { id: "csrf/form-post-consent", class: "csrf", description: "an HTML form's POST to /v1/auth/consent", run: (ctx) => ctx.rest("POST", "/v1/auth/consent", { headers: ctx.clients.demo.basic, form: { client_id: "of_lab_demo", user_external_id: "USR_42891", scopes: "debts.read", country: "MX", consent_text_version: "2026-05-01" } }), expect: { status: 415, code: "UNSUPPORTED_MEDIA_TYPE" } },
  { id: "csrf/text-plain-consent", class: "csrf", description: "text/plain JSON to /v1/auth/consent", run: (ctx) => ctx.rest("POST", "/v1/auth/consent", { headers: ctx.clients.demo.basic, raw: { contentType: "text/plain", body: "{}" } }), expect: { status: 415, code: "UNSUPPORTED_MEDIA_TYPE" } },
  { id: "csrf/text-plain-webhooks", class: "csrf", description: "text/plain JSON to /v1/webhooks", run: (ctx) => ctx.rest("POST", "/v1/webhooks", { headers: ctx.clients.demo.basic, raw: { contentType: "text/plain", body: JSON.stringify({ url: "http://127.0.0.1:9/x", events: ["alert.created"] }) } }), expect: { status: 415, code: "UNSUPPORTED_MEDIA_TYPE" } },
  { id: "csrf/form-post-revoke-consent", class: "csrf", description: "a form POST to /v1/consents/{id}/authorise without the app key (a browser cannot add it)", run: (ctx) => ctx.rest("POST", `/v1/consents/${ctx.tokens.liveConsentId}/authorise`, { form: { approve: "yes" } }), expect: refused.unauthenticated },
  {
    id: "csrf/preflight-other-origin",
    class: "csrf",
    description: "a preflight from an origin not in CORS_ORIGINS",
    run: (ctx) => ctx.rest("OPTIONS", "", { url: ctx.graphqlUrl, headers: { origin: "https://evil.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" } }),
    expect: { status: 403, check: (o) => (o.headers?.get("access-control-allow-origin") == null ? undefined : "an allow-origin header") },
  },
  {
    id: "csrf/cors-actual-other-origin",
    class: "csrf",
    description: "a request with a token from an origin not allowed: its answer carries no allow-origin",
    run: (ctx) => ctx.rest("GET", "/v1/debts", { headers: { ...asA(ctx), origin: "https://evil.example" } }),
    // A browser sends the Authorization header only after a preflight, which is refused (above); a non-browser
    // client is served, and the answer carries nothing a browser would let another origin read.
    expect: { status: 200, code: null, means: "200 without Access-Control-Allow-Origin", check: (o) => (o.headers?.get("access-control-allow-origin") == null ? undefined : "an allow-origin header") },
  },
];

const corsOrigins: Attack[] = [
  ["null", "the null origin (sandboxed iframe, file:)"],
  [`${ALLOWED_ORIGIN}.evil.example`, "an allowed origin as a prefix of another host"],
  ["http://app.bank.example", "the allowed host over http"],
  ["https://APP.bank.example", "the allowed host in upper case"],
  [`${ALLOWED_ORIGIN}:8443`, "the allowed host on another port"],
].map(([origin, why]): Attack => ({
  id: `cors/${origin}`,
  class: "cors",
  description: `a preflight from ${origin} (${why})`,
  run: (ctx) => ctx.rest("OPTIONS", "/v1/debts", { headers: { origin: origin!, "access-control-request-method": "GET", "access-control-request-headers": "authorization" } }),
  expect: { status: 403, means: "403, no CORS header", check: (o) => (o.headers?.get("access-control-allow-origin") == null ? undefined : `allow-origin ${o.headers?.get("access-control-allow-origin")}`) },
}));

const cors: Attack[] = [
  ...corsOrigins,
  {
    id: "cors/no-credentials",
    class: "cors",
    description: "the allowed origin's preflight never allows credentials (cookies)",
    run: (ctx) => ctx.rest("OPTIONS", "", { url: ctx.graphqlUrl, headers: { origin: ALLOWED_ORIGIN, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" } }),
    expect: { status: 204, means: "204 for the allowed origin, without Allow-Credentials", check: (o) => (o.headers?.get("access-control-allow-origin") === ALLOWED_ORIGIN && o.headers?.get("access-control-allow-credentials") !== "true" ? undefined : "allow-origin/credentials wrong") },
  },
];

function securityHeaders(extra?: (o: Outcome) => string | undefined) {
  return (o: Outcome): string | undefined => {
    const h = o.headers;
    if (h?.get("x-content-type-options") !== "nosniff") return "no X-Content-Type-Options: nosniff";
    if (h?.get("referrer-policy") !== "no-referrer") return "no Referrer-Policy: no-referrer";
    if (!/frame-ancestors 'none'/.test(h?.get("content-security-policy") ?? "")) return "no CSP with frame-ancestors 'none'";
    return extra?.(o);
  };
}

const headers: Attack[] = [
  { id: "headers/graphql-refusal", class: "security-headers", description: "a refused GraphQL request carries the security headers", run: (ctx) => ctx.gql(ctx.graphqlUrl, "{ me { id } }"), expect: { ...refused.unauthenticated, check: securityHeaders() } },
  { id: "headers/rest-refusal", class: "security-headers", description: "a refused REST request carries the security headers", run: (ctx) => ctx.rest("GET", "/v1/debts"), expect: { ...refused.unauthenticated, check: securityHeaders() } },
  {
    id: "headers/data-no-store",
    class: "security-headers",
    description: "an answer with personal data (GET /v1/debts) is not cacheable",
    run: (ctx) => ctx.rest("GET", "/v1/debts", { headers: asA(ctx) }),
    expect: { status: 200, code: null, check: securityHeaders((o) => (/no-store/.test(o.headers?.get("cache-control") ?? "") ? undefined : "no Cache-Control: no-store")) },
  },
  { id: "headers/subgraph", class: "security-headers", description: "a subgraph port's answer carries the security headers", run: (ctx) => ctx.gql(ctx.subgraphUrls.debts!, "{ __typename }"), expect: { ...refused.unauthenticated, check: securityHeaders() }, subgraphPort: true, gatedCheck: securityHeaders() },
  { id: "headers/not-found", class: "security-headers", description: "an unknown /v1 path: 404 with the headers", run: (ctx) => ctx.rest("GET", "/v1/../../etc/passwd"), expect: { status: 404, code: "NOT_FOUND", check: securityHeaders() } },
];

const gqlRaw = (ctx: SecurityContext, payload: unknown, headersIn: Record<string, string> = asA(ctx)) => ctx.rest("POST", "", { url: ctx.graphqlUrl, headers: headersIn, json: payload });

const batching: Attack[] = [
  { id: "batching/two-operations", class: "batching", description: "a JSON array of two operations", run: (ctx) => gqlRaw(ctx, [{ query: "{ me { id } }" }, { query: "{ me { debts { balance } } }" }]), expect: { status: 400, code: "BAD_REQUEST", check: noData } },
  { id: "batching/thousand", class: "batching", description: "a JSON array of 1,000 operations", run: (ctx) => gqlRaw(ctx, Array.from({ length: 1000 }, () => ({ query: "{ me { id } }" }))), expect: { status: 400, code: "BAD_REQUEST", check: noData } },
  { id: "batching/unauthenticated", class: "batching", description: "a batch without a token", run: (ctx) => gqlRaw(ctx, [{ query: "{ me { id } }" }], {}), expect: { ...refused.unauthenticated, check: noData } },
  { id: "batching/refresh-array", class: "batching", description: "/v1/auth/token with a JSON array body", run: (ctx) => ctx.rest("POST", "/v1/auth/token", { headers: ctx.clients.demo.basic, json: [{ grant_type: "client_credentials" }, { grant_type: "client_credentials" }] }), expect: { status: 400, code: "BAD_REQUEST" } },
  { id: "batching/consent-array", class: "batching", description: "/v1/auth/consent with a JSON array of requests (one prompt each)", run: (ctx) => ctx.rest("POST", "/v1/auth/consent", { headers: ctx.clients.live.basic, json: [{}, {}] }), expect: { status: 400, code: "BAD_REQUEST" } },
];

const operationName: Attack[] = [
  { id: "operation-name/names-none", class: "operation-name", description: "operationName names no operation of the document", run: (ctx) => gqlRaw(ctx, { query: "query A { me { id } }", operationName: "B" }), expect: { status: 400, code: "OPERATION_RESOLUTION_FAILURE" } },
  { id: "operation-name/two-unnamed", class: "operation-name", description: "two operations and no operationName", run: (ctx) => gqlRaw(ctx, { query: "query A { me { id } } query B { me { country } }" }), expect: { status: 400, code: "OPERATION_RESOLUTION_FAILURE" } },
  { id: "operation-name/proto", class: "operation-name", description: "operationName __proto__", run: (ctx) => gqlRaw(ctx, { query: "query A { me { id } }", operationName: "__proto__" }), expect: { status: 400, code: "OPERATION_RESOLUTION_FAILURE" } },
  { id: "operation-name/not-a-string", class: "operation-name", description: "operationName is a number", run: (ctx) => gqlRaw(ctx, { query: "query A { me { id } }", operationName: 7 }), expect: { status: 400, code: "BAD_REQUEST" } },
  { id: "operation-name/object", class: "operation-name", description: "operationName is an object", run: (ctx) => gqlRaw(ctx, { query: "query A { me { id } }", operationName: { $ne: null } }), expect: { status: 400, code: "BAD_REQUEST" } },
  { id: "operation-name/query-not-string", class: "operation-name", description: "query is an object", run: (ctx) => gqlRaw(ctx, { query: { kind: "Document" } }), expect: { status: 400, code: "BAD_REQUEST" } },
  { id: "operation-name/variables-array", class: "operation-name", description: "variables is an array", run: (ctx) => gqlRaw(ctx, { query: "{ me { id } }", variables: [1, 2] }), expect: { status: 400, code: "BAD_REQUEST" } },
  { id: "operation-name/subscription-post", class: "operation-name", description: "a subscription sent over HTTP POST", run: (ctx) => ctx.gql(ctx.graphqlUrl, "subscription { alertCreated { id } }", undefined, asA(ctx)), expect: { status: 400, code: "OPERATION_NOT_SUPPORTED" } },
  { id: "operation-name/subscription-named-post", class: "operation-name", description: "a named subscription picked by operationName over POST", run: (ctx) => gqlRaw(ctx, { query: "query Q { me { id } } subscription S { alertCreated { id } }", operationName: "S" }), expect: { status: 400, code: "OPERATION_NOT_SUPPORTED" } },
  { id: "operation-name/subscription-get", class: "operation-name", description: "a subscription sent over HTTP GET", run: (ctx) => ctx.rest("GET", "", { url: `${ctx.graphqlUrl}?query=${encodeURIComponent("subscription { alertCreated { id } }")}`, headers: { ...asA(ctx), "apollo-require-preflight": "1" } }), expect: { status: 405, code: "BAD_REQUEST" } },
];

const cursor = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString("base64url");
const fieldRefused = (path: string[]): Expectation => ({ status: 200, code: "BAD_USER_INPUT", check: both(allErrors("BAD_USER_INPUT"), (o) => (at(o, ...path) == null ? undefined : `${path.join(".")} came back`)) });

const HUGE_CURSORS: [name: string, value: () => string][] = [
  ["bigint-id", () => cursor(["2026-05-01T00:00:00.000Z", "9999999999999999999"])],
  ["negative-year", () => cursor(["-271821-04-20T00:00:00.000Z", "1"])],
  ["far-year", () => cursor(["+275760-09-13T00:00:00.000Z", "1"])],
  ["nested-json", () => cursor([{ $gt: "" }, ["1"]])],
  ["long", () => "A".repeat(200_000)],
  ["not-base64", () => "%%%"],
];

const cursors: Attack[] = [
  ...HUGE_CURSORS.map(([name, value]): Attack => ({
    id: `huge-cursor/expenses-${name}`,
    class: "huge-cursor",
    description: `expenses(after:) with a cursor: ${name}`,
    run: (ctx) => ctx.gql(ctx.graphqlUrl, "query($after: String) { me { id expenses(first: 5, after: $after) { totalCount } } }", { after: value() }, asA(ctx)),
    expect: name === "long" ? { status: 200, code: "BAD_USER_INPUT", check: (o) => (at(o, "me", "expenses") == null ? undefined : "expenses came back") } : { ...fieldRefused(["me", "expenses"]), check: both(fieldRefused(["me", "expenses"]).check!, (o) => (at(o, "me", "id") === "USR_42891" ? undefined : "the rest of the answer is missing")) },
  })),
  ...HUGE_CURSORS.slice(0, 3).map(([name, value]): Attack => ({
    id: `huge-cursor/users-${name}`,
    class: "huge-cursor",
    description: `users(after:) with a cursor: ${name}`,
    run: (ctx) => ctx.gql(ctx.graphqlUrl, "query($after: String) { users(first: 5, after: $after) { totalCount } }", { after: value() }, bearer(ctx.tokens.demoClient)),
    expect: { status: 200, code: "BAD_USER_INPUT", check: (o) => (dataOf(o) == null ? undefined : "data came back") },
  })),
  ...HUGE_CURSORS.slice(0, 3).map(([name, value]): Attack => ({
    id: `huge-cursor/rest-expenses-${name}`,
    class: "huge-cursor",
    description: `GET /v1/expenses?cursor= ${name}`,
    run: (ctx) => ctx.rest("GET", `/v1/expenses?cursor=${value()}`, { headers: asA(ctx) }),
    expect: refused.badInput,
  })),
  ...HUGE_CURSORS.slice(0, 3).map(([name, value]): Attack => ({
    id: `huge-cursor/receipts-${name}`,
    class: "huge-cursor",
    description: `GET /v1/consents/{id}/receipts?cursor= ${name}`,
    run: (ctx) => ctx.rest("GET", `/v1/consents/${ctx.tokens.aConsentId}/receipts?cursor=${value()}`, { headers: ctx.clients.demo.basic }),
    expect: refused.badInput,
  })),
  { id: "huge-cursor/first-overflow", class: "huge-cursor", description: "first: 2^31 (past GraphQL's Int)", run: (ctx) => ctx.gql(ctx.graphqlUrl, "query($n: Int) { me { expenses(first: $n) { totalCount } } }", { n: 2 ** 31 }, asA(ctx)), expect: { status: 400, code: "BAD_USER_INPUT" } },
  { id: "huge-cursor/first-over-cap", class: "huge-cursor", description: "users(first: 100000)", run: (ctx) => ctx.gql(ctx.graphqlUrl, "{ users(first: 100000) { totalCount } }", undefined, bearer(ctx.tokens.demoClient)), expect: refused.tooComplex("cost") },
  { id: "huge-cursor/rest-limit", class: "huge-cursor", description: "GET /v1/expenses?limit=1000000000", run: (ctx) => ctx.rest("GET", "/v1/expenses?limit=1000000000", { headers: asA(ctx) }), expect: refused.badInput },
  { id: "huge-cursor/months", class: "huge-cursor", description: "wellnessHistory(months: 100000)", run: (ctx) => ctx.gql(ctx.graphqlUrl, "{ me { wellnessHistory(months: 100000) { score } } }", undefined, asA(ctx)), expect: fieldRefused(["me", "wellnessHistory"]) },
];

const big = (bytes: number) => "x".repeat(bytes);

const bodies: Attack[] = [
  { id: "body/graphql-2mb", class: "oversized-body", description: "a 2 MB GraphQL body with a token", run: (ctx) => gqlRaw(ctx, { query: "{ me { id } }", padding: big(2 * 1024 * 1024) }), expect: { status: 413, code: "PAYLOAD_TOO_LARGE" } },
  { id: "body/graphql-2mb-anonymous", class: "oversized-body", description: "a 2 MB GraphQL body without a token", run: (ctx) => gqlRaw(ctx, { query: "{ me { id } }", padding: big(2 * 1024 * 1024) }, {}), expect: { status: 413, code: "PAYLOAD_TOO_LARGE" } },
  { id: "body/graphql-big-variables", class: "oversized-body", description: "a 1.5 MB variable", run: (ctx) => ctx.gql(ctx.graphqlUrl, "query($c: String) { me { expenses(category: $c) { totalCount } } }", { c: big(1536 * 1024) }, asA(ctx)), expect: { status: 413, code: "PAYLOAD_TOO_LARGE" } },
  { id: "body/consent-100k", class: "oversized-body", description: "a 100 KiB consent request", run: (ctx) => ctx.rest("POST", "/v1/auth/consent", { headers: ctx.clients.demo.basic, json: { client_id: "of_lab_demo", padding: big(100 * 1024) } }), expect: { status: 413, code: "PAYLOAD_TOO_LARGE" } },
  { id: "body/token-100k", class: "oversized-body", description: "a 100 KiB token request", run: (ctx) => ctx.rest("POST", "/v1/auth/token", { headers: ctx.clients.demo.basic, form: { grant_type: "client_credentials", padding: big(100 * 1024) } }), expect: { status: 413, code: "PAYLOAD_TOO_LARGE" } },
  { id: "body/webhooks-100k", class: "oversized-body", description: "a 100 KiB webhook registration", run: (ctx) => ctx.rest("POST", "/v1/webhooks", { headers: ctx.clients.demo.basic, json: { url: `https://example.com/${big(100 * 1024)}`, events: ["alert.created"] } }), expect: { status: 413, code: "PAYLOAD_TOO_LARGE" } },
  { id: "body/revoke-100k-anonymous", class: "oversized-body", description: "a 100 KiB revocation without credentials: refused before the body is read", run: (ctx) => ctx.rest("POST", "/v1/auth/revoke", { json: { token: big(100 * 1024) } }), expect: refused.unauthenticated },
  {
    id: "body/content-length-lie",
    class: "oversized-body",
    description: "Content-Length says 20 MB",
    run: (ctx) => rawExchange(ctx.origin, "POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 20000000\r\n\r\n{", 5_000),
    expect: { status: 413, code: "PAYLOAD_TOO_LARGE", check: within(2_000) },
  },
  { id: "body/long-url", class: "oversized-body", description: "a 100 KB query string", run: (ctx) => ctx.rest("GET", `/v1/expenses?category=${big(100_000)}`, { headers: asA(ctx) }), expect: { status: 431, code: null } },
];

const slow: Attack[] = [
  {
    id: "slow/graphql-body",
    class: "slow-body",
    description: "a GraphQL body that stops after its first bytes (no token)",
    run: (ctx) => rawExchange(ctx.origin, 'POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"query":'),
    expect: { status: 408, code: "REQUEST_TIMEOUT", check: within(3_000) },
  },
  {
    id: "slow/headers",
    class: "slow-body",
    description: "headers that never end",
    run: (ctx) => rawExchange(ctx.origin, "POST /graphql HTTP/1.1\r\nHost: localhost\r\n"),
    expect: { status: 408, check: within(3_000) },
  },
  {
    id: "slow/consent-body",
    class: "slow-body",
    description: "a consent request's body that stops half-way",
    run: (ctx) => rawExchange(ctx.origin, `POST /v1/auth/consent HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${ctx.clients.demo.basic.authorization}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"client_id":`),
    expect: { status: 408, code: null, means: "Node's own 408 once HTTP_REQUEST_TIMEOUT_MS (2.5 s here) is over", check: within(4_000) },
  },
  {
    id: "slow/token-body-anonymous",
    class: "slow-body",
    description: "a token request's body that stops half-way, no credentials",
    run: (ctx) => rawExchange(ctx.origin, "POST /v1/auth/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 500\r\n\r\ngrant_type="),
    expect: { ...refused.unauthenticated, means: "401 at once, the body never waited for", check: within(1_000) },
  },
  {
    id: "slow/subgraph-body",
    class: "slow-body",
    description: "a slow body at a subgraph port",
    run: (ctx) => {
      const { port } = new URL(ctx.subgraphUrls.debts!);
      return rawExchange(`http://127.0.0.1:${port}`, 'POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"query":');
    },
    expect: { status: 408, code: "REQUEST_TIMEOUT", check: within(3_000) },
  },
];

export const attacks: Attack[] = [...csrf, ...cors, ...headers, ...batching, ...operationName, ...cursors, ...bodies, ...slow];
