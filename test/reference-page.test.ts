// The REST reference at /v1/docs, in a real browser (Debian's chromium, driven by playwright-core):
// it renders every operation, its links and schema panels work, and it asks nothing of any other
// host, so it works offline.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser } from "playwright-core";
import { ContractChecker } from "../testkit/openapi-contract.ts";
import { createTestDatabase, type TestDatabase } from "../testkit/postgres.ts";
import { browserMissing, launchBrowser } from "./support/browser.ts";
import { startTestKamina } from "./support/kamina.ts";

const missing = browserMissing();

describe("the REST reference page in a browser", { skip: missing }, () => {
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

  test("lists every operation, jumps to a section, opens a schema, and loads nothing from elsewhere", async () => {
    const document = (await (await fetch(`${origin}/v1/openapi.json`)).json()) as Record<string, unknown>;
    const page = await browser.newPage();
    const elsewhere: string[] = [];
    page.on("request", (request) => {
      if (!request.url().startsWith(origin)) elsewhere.push(request.url());
    });
    const refusedByPolicy: string[] = [];
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) refusedByPolicy.push(message.text());
    });
    const response = await page.goto(`${origin}/v1/docs`);
    assert.equal(response?.status(), 200);
    assert.match(response?.headers()["content-security-policy"] ?? "", /style-src 'sha256-/);
    assert.match(await page.title(), /kamina-graph REST API/);

    const headings = await page.locator("section h3").allInnerTexts();
    const shown = new Set(headings.map((heading) => heading.replace(/\s+/g, " ").trim()));
    for (const operation of new ContractChecker(document).operations()) assert.ok(shown.has(operation), `${operation} is on the page`);

    await page.click('nav a[href="#tag-debts"]');
    assert.ok(page.url().endsWith("#tag-debts"));
    assert.ok(await page.locator("#tag-debts").isVisible());

    const debts = page.locator("section", { has: page.locator("h3", { hasText: "GET /v1/debts" }) });
    const schema = debts.locator("details pre").first();
    assert.equal(await schema.isVisible(), false, "schemas start folded");
    await debts.locator("details summary").first().click();
    assert.ok(await schema.isVisible());
    assert.match(await schema.innerText(), /"issuer"/);

    assert.deepEqual(elsewhere, [], "requests to other hosts");
    // The page's Content-Security-Policy lets its own inline style apply, and nothing was refused.
    assert.equal(await page.locator(".method.get").first().evaluate((element) => (globalThis as unknown as { getComputedStyle(element: unknown): { backgroundColor: string } }).getComputedStyle(element).backgroundColor), "rgb(37, 99, 235)");
    assert.deepEqual(refusedByPolicy, [], "what the page's policy refused");
    await page.close();
  });
});
