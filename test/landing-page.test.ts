// What a browser sees at the gateway with nothing but loopback reachable (offline, or behind a
// proxy that lets nothing out): GET / is our own page, complete, asking nothing of any other
// host. GET /graphql in a browser is GraphiQL, bundled with the dashboard: test/dashboard-browser.test.ts.
import assert from "node:assert/strict";
import { get } from "node:http";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { createTestDatabase, type TestDatabase } from "../testkit/postgres.ts";
import { browserMissing, launchBrowser } from "./support/browser.ts";
import { startTestKamina } from "./support/kamina.ts";

const missing = browserMissing();

function loopback(url: string): boolean {
  const { hostname } = new URL(url);
  return hostname === "127.0.0.1" || hostname === "localhost" || hostname === "[::1]";
}

describe("the gateway's pages in a browser that cannot reach the internet", { skip: missing }, () => {
  let database: TestDatabase;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  let browser: Browser;
  let origin: string;

  before(async () => {
    database = await createTestDatabase();
    kamina = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 2 });
    origin = kamina.gateway!.origin;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await kamina?.stop();
    await database?.drop();
  });

  /** A page whose requests off loopback are refused (as offline), every request recorded. */
  async function offlinePage(): Promise<{ page: Page; requests: string[] }> {
    const page = await browser.newPage();
    const requests: string[] = [];
    await page.route("**/*", (route) => {
      const url = route.request().url();
      requests.push(url);
      return loopback(url) || url.startsWith("data:") ? route.continue() : route.abort("internetdisconnected");
    });
    return { page, requests };
  }

  test("GET / says what this is and links to the REST reference and the OpenAPI document, loading nothing from elsewhere", async () => {
    const { page, requests } = await offlinePage();
    const refusedByPolicy: string[] = [];
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) refusedByPolicy.push(message.text());
    });
    const response = await page.goto(`${origin}/`);
    assert.equal(response?.status(), 200);
    assert.match(response?.headers()["content-type"] ?? "", /^text\/html/);
    assert.match(response?.headers()["content-security-policy"] ?? "", /default-src 'none'; style-src 'sha256-/);
    assert.match(await page.title(), /kamina-graph/);
    const text = await page.locator("body").innerText();
    assert.match(text, /financial-wellness data/);
    assert.match(text, /curl -s \$BASE\/graphql/);
    assert.match(text, new RegExp(`BASE=${origin.replace(/[.]/g, "\\.")}`), "the snippet uses the origin the browser used");
    assert.match(text, /README\.md/);
    const links = await page.locator("a").evaluateAll((anchors) => anchors.map((a) => a.getAttribute("href")));
    for (const href of ["/v1/docs", "/v1/openapi.json", "/graphql"]) assert.ok(links.includes(href), `links to ${href}`);

    await page.click('a[href="/v1/docs"]');
    assert.match(await page.title(), /kamina-graph REST API/);
    assert.deepEqual(requests.filter((url) => !loopback(url)), [], "requests that left loopback");
    assert.deepEqual(refusedByPolicy, [], "what the page's policy refused");
    await page.close();
  });

  test("a GraphQL client's GET and POST /graphql are unchanged: JSON, the API's policy", async () => {
    const response = await fetch(`${origin}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "{ __typename }" }) });
    assert.match(response.headers.get("content-type") ?? "", /json/);
    assert.match(response.headers.get("content-security-policy") ?? "", /^default-src 'none'/);
  });

  test("a Host header that is not a plain host is not echoed into the page", async () => {
    const body = await new Promise<string>((resolve, reject) => {
      get(`${origin}/`, { headers: { host: `evil.example"><script>x</script>` } }, (response) => {
        let text = "";
        response.setEncoding("utf8").on("data", (chunk: string) => (text += chunk)).on("end", () => resolve(text));
      }).on("error", reject);
    });
    assert.doesNotMatch(body, /<script|evil\.example/);
    assert.match(body, /BASE=http:\/\/localhost:4000/);
  });
});
