// Headers (issue 16, item 9): CORS answers only the origins CORS_ORIGINS names, on /graphql and
// /v1/* (preflights by fetch, then a real browser on an allowed and a refused origin), and every
// answer carries the security headers: nosniff, no referrer, a strict CSP (the reference page's
// own, which allows its inline style only), HSTS when the gateway is reached over https.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { chromium, type Browser } from "playwright-core";
import { startGateway, type RunningGateway } from "../gateway/server.ts";
import { loadConfig, SUBGRAPH_NAMES, type SubgraphName } from "../platform/config/config.ts";
import type { PrismaClient } from "../platform/database/database.ts";
import { createLogger } from "../platform/logger.ts";
import type { TestDatabase } from "../testkit/postgres.ts";
import { basic, bearer, DEMO_CLIENT, TEST_SANDBOX_SECRET } from "../testkit/tokens.ts";
import { startTestKamina } from "./support/kamina.ts";
import { createRealtimeDatabase } from "./support/realtime.ts";
import { rest } from "./support/rest.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** A browser app's page, served from its own origin: the origin the gateway allows, or not. */
async function appServer(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_request, response) => response.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>app</title>"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function preflight(url: string, origin: string, method = "POST", headers = "authorization, content-type"): Promise<Response> {
  return fetch(url, { method: "OPTIONS", headers: { origin, "access-control-request-method": method, "access-control-request-headers": headers } });
}

function assertSecurityHeaders(response: Response, what: string, options: { hsts: boolean; csp?: RegExp }): void {
  assert.equal(response.headers.get("x-content-type-options"), "nosniff", what);
  assert.equal(response.headers.get("referrer-policy"), "no-referrer", what);
  assert.match(response.headers.get("content-security-policy") ?? "", options.csp ?? /^default-src 'none'.*frame-ancestors 'none'/, what);
  if (options.hsts) assert.match(response.headers.get("strict-transport-security") ?? "", /^max-age=\d{7,}/, what);
  else assert.equal(response.headers.get("strict-transport-security"), null, what);
}

describe("CORS and security headers", () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  let plain: RunningGateway;
  let allowedApp: Awaited<ReturnType<typeof appServer>>;
  let otherApp: Awaited<ReturnType<typeof appServer>>;
  let token: string;
  let origin: string;

  before(async () => {
    ({ database, prisma } = await createRealtimeDatabase());
    allowedApp = await appServer();
    otherApp = await appServer();
    kamina = await startTestKamina(
      { kind: "postgres", url: database.url, poolSize: 4 },
      // Behind a TLS terminator at a local https address: HSTS on.
      { CORS_ORIGINS: `${allowedApp.origin},https://app.bank.example`, PUBLIC_URL: "https://localhost:8443" },
    );
    origin = kamina.gateway!.origin;
    // The same subgraphs behind a gateway left at the defaults: no CORS origin, plain http.
    const config = loadConfig({ HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "silent" });
    const subgraphUrls = Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, kamina.subgraphs[name]!.url])) as Record<SubgraphName, string>;
    plain = await startGateway({ config, database: kamina.database, host: "127.0.0.1", port: 0, subgraphUrls, logger: createLogger("silent") });
    const answer = await rest(origin, "POST", "/v1/auth/token", { headers: basic(DEMO_CLIENT, TEST_SANDBOX_SECRET), form: { grant_type: "client_credentials" } });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    token = answer.body.access_token as string;
  });

  after(async () => {
    await plain?.stop();
    await kamina?.stop();
    await prisma?.$disconnect();
    await database?.drop();
    allowedApp?.server.close();
    otherApp?.server.close();
  });

  test("a preflight from an allowed origin is answered on /graphql and /v1/*", async () => {
    for (const path of ["/graphql", "/v1/alerts", "/v1/webhooks", "/v1/openapi.json"]) {
      const answer = await preflight(`${origin}${path}`, "https://app.bank.example");
      assert.equal(answer.status, 204, path);
      assert.equal(answer.headers.get("access-control-allow-origin"), "https://app.bank.example", path);
      assert.match(answer.headers.get("access-control-allow-methods") ?? "", /POST/, path);
      assert.match(answer.headers.get("access-control-allow-headers") ?? "", /authorization.*content-type.*dpop/, path);
      assert.match(answer.headers.get("vary") ?? "", /Origin/, path);
      assert.equal(answer.headers.get("access-control-allow-credentials"), null, "tokens travel in headers, never cookies");
    }
    const actual = await fetch(`${origin}/graphql`, {
      method: "POST",
      headers: { origin: "https://app.bank.example", "content-type": "application/json", ...bearer(token) },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    assert.equal(actual.status, 200);
    assert.equal(actual.headers.get("access-control-allow-origin"), "https://app.bank.example");
    assert.match(actual.headers.get("access-control-expose-headers") ?? "", /x-request-id/);
  });

  test("any other origin is refused without a CORS header, and the default allows none", async () => {
    const refused = [
      { url: `${origin}/graphql`, from: "https://evil.example" },
      { url: `${origin}/v1/alerts`, from: "https://app.bank.example.evil.example" },
      { url: `${origin}/graphql`, from: "http://app.bank.example" },
      { url: `${origin}/graphql`, from: "null" },
      // Allowed origins reach /graphql and /v1/* only.
      { url: `${origin}/healthz`, from: "https://app.bank.example" },
      { url: `${origin}/.well-known/jwks.json`, from: "https://app.bank.example" },
      { url: `${plain.origin}/graphql`, from: "https://app.bank.example" },
      { url: `${plain.origin}/v1/alerts`, from: allowedApp.origin },
    ];
    for (const { url, from } of refused) {
      const answer = await preflight(url, from);
      assert.equal(answer.status, 403, `${from} -> ${url}`);
      assert.equal(answer.headers.get("access-control-allow-origin"), null, `${from} -> ${url}`);
      assert.equal(answer.headers.get("access-control-allow-methods"), null, `${from} -> ${url}`);
    }
    const actual = await fetch(`${origin}/graphql`, {
      method: "POST",
      headers: { origin: "https://evil.example", "content-type": "application/json", ...bearer(token) },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    assert.equal(actual.headers.get("access-control-allow-origin"), null);
  });

  test("every answer carries the security headers: /graphql, /v1/*, /healthz, errors and 404s", async () => {
    const answers: [string, Response][] = [
      ["POST /graphql", await fetch(`${origin}/graphql`, { method: "POST", headers: { "content-type": "application/json", ...bearer(token) }, body: JSON.stringify({ query: "{ __typename }" }) })],
      ["/graphql, no token", await fetch(`${origin}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })],
      ["/graphql, bad JSON", await fetch(`${origin}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: "{" })],
      ["GET /v1/alerts", await fetch(`${origin}/v1/alerts`, { headers: bearer(token) })],
      ["/v1/openapi.json", await fetch(`${origin}/v1/openapi.json`)],
      ["/v1 404", await fetch(`${origin}/v1/nothing-here`)],
      ["/.well-known/jwks.json", await fetch(`${origin}/.well-known/jwks.json`)],
      ["/healthz", await fetch(`${origin}/healthz`)],
      ["404", await fetch(`${origin}/elsewhere`)],
    ];
    for (const [what, response] of answers) {
      assertSecurityHeaders(response, what, { hsts: true });
      await response.arrayBuffer();
    }
    const data = answers[0]![1];
    assert.equal(data.headers.get("cache-control"), "no-store");
    const plainAnswer = await fetch(`${plain.origin}/healthz`);
    assertSecurityHeaders(plainAnswer, "plain http gateway", { hsts: false });
    for (const subgraph of Object.values(kamina.subgraphs)) assertSecurityHeaders(await fetch(`${subgraph.url.replace(/\/graphql$/, "")}/healthz`), subgraph.name, { hsts: false });
    // The reference page has its own policy: its one inline style, nothing else.
    const page = await fetch(`${origin}/v1/docs`);
    assertSecurityHeaders(page, "/v1/docs", { hsts: true, csp: /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*';.*frame-ancestors 'none'$/ });
    assert.doesNotMatch(page.headers.get("content-security-policy")!, /unsafe|script-src/);
  });

  test("in a browser: the allowed app reads /graphql and /v1/*, another origin cannot", { skip: existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM}` }, async () => {
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });
      const call = async (appOrigin: string) => {
        const page = await browser!.newPage();
        await page.goto(appOrigin);
        // A string, not a function: tsx's transform would put helpers in it that the page lacks.
        const result = (await page.evaluate(`(async () => {
          const attempt = async (url, init) => {
            try {
              const response = await fetch(url, init);
              return { status: response.status, requestId: response.headers.get("x-request-id"), body: await response.text() };
            } catch (error) {
              return { error: String(error) };
            }
          };
          const headers = { "content-type": "application/json", authorization: "Bearer ${token}" };
          return {
            graphql: await attempt("${origin}/graphql", { method: "POST", headers, body: JSON.stringify({ query: "{ __typename }" }) }),
            rest: await attempt("${origin}/v1/alerts", { headers: { authorization: headers.authorization } }),
          };
        })()`)) as Record<"graphql" | "rest", { status?: number; requestId?: string | null; body?: string; error?: string }>;
        await page.close();
        return result;
      };
      const allowed = await call(allowedApp.origin);
      assert.equal(allowed.graphql.status, 200, JSON.stringify(allowed));
      assert.match(allowed.graphql.body ?? "", /"__typename":"Query"/);
      assert.ok(allowed.graphql.requestId, "the request id is exposed to the app");
      assert.ok(allowed.rest.status !== undefined, JSON.stringify(allowed.rest));
      const other = await call(otherApp.origin);
      assert.match(other.graphql.error ?? "", /Failed to fetch/, JSON.stringify(other));
      assert.match(other.rest.error ?? "", /Failed to fetch/, JSON.stringify(other));
    } finally {
      await browser?.close();
    }
  });
});
