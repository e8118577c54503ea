// The dashboard at /dashboard in a real browser (Debian's chromium, driven by playwright-core):
// a partner's developer signs in as the sandbox client, sees a person's year of daily scores
// drawn, raises an alert and sees it arrive live, acknowledges it, pages the CRM view, revokes
// the consent and sees access end; by keyboard alone, with focus visible; no console errors.
// Each view's screenshot is written to test-results/screenshots/ (git-ignored), or with
// SCREENSHOTS=docs to docs/screenshots/, the README's, so a test run leaves the tree as it was.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { dashboardState, buildDashboard } from "../runtime/dashboard-build.ts";
import { browserMissing, launchBrowser } from "./support/browser.ts";
import { startSeededKamina, stopSeededKamina, type SeededKamina } from "./support/seeded-kamina.ts";

const missing = browserMissing();
const SCREENSHOTS = new URL(process.env.SCREENSHOTS === "docs" ? "../docs/screenshots/" : "../test-results/screenshots/", import.meta.url);

describe("the dashboard in a browser", { skip: missing }, () => {
  let seeded: Partial<SeededKamina> = {};
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  async function screenshot(name: string): Promise<void> {
    await page.screenshot({ path: new URL(`${name}.png`, SCREENSHOTS).pathname, fullPage: true });
  }

  before(async () => {
    if (dashboardState() !== "current" && dashboardState() !== "prebuilt") await buildDashboard();
    mkdirSync(SCREENSHOTS, { recursive: true });
    seeded = await startSeededKamina({ users: 30, seed: 19 });
    browser = await launchBrowser();
    page = await watchedPage();
  });

  /** A page whose console errors and warnings are kept, and which reaches nothing but the gateway (offline). */
  async function watchedPage(): Promise<Page> {
    const opened = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    opened.on("console", (message) => {
      if (message.type() === "error" || message.type() === "warning") consoleErrors.push(`${message.type()}: ${message.text()}`);
    });
    opened.on("pageerror", (error) => consoleErrors.push(`page error: ${error.message}`));
    const origin = seeded.kamina!.gateway!.origin;
    await opened.route("**/*", (route) => (route.request().url().startsWith(origin) ? route.continue() : route.abort("internetdisconnected")));
    return opened;
  }

  after(async () => {
    await browser?.close();
    await stopSeededKamina(seeded);
  });

  test("signs in as the sandbox client and draws the person's 12-month daily history; fields not consented say so", async () => {
    const response = await page.goto(`${seeded.kamina!.gateway!.origin}/dashboard`);
    assert.equal(response?.status(), 200);
    assert.match(response?.headers()["content-security-policy"] ?? "", /script-src 'self'/);
    await page.getByLabel("Person").fill("USR_42891");
    // income.read left out: its panel must say "not consented".
    await page.getByRole("checkbox", { name: "income.read" }).uncheck();
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("[data-score]").waitFor();
    assert.equal(await page.locator("[data-score]").innerText(), "64");
    const chart = page.locator(".chart[data-points]");
    await chart.waitFor();
    assert.ok(Number(await chart.getAttribute("data-points")) >= 360, "a point a day for a year");
    assert.equal(await chart.getAttribute("data-series"), "1");
    // In the page (this file is typed without the DOM): pixels of the line's blue on uPlot's canvas.
    const inked = await page.evaluate<number>(`(() => {
      const canvas = document.querySelector(".chart canvas");
      const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      let blue = 0;
      for (let i = 0; i < pixels.length; i += 4) if (pixels[i + 2] > 200 && pixels[i] < 80 && pixels[i + 3] > 200) blue += 1;
      return blue;
    })()`);
    assert.ok(inked > 300, `the line is drawn (${inked} line-coloured pixels)`);
    const income = page.locator("section", { has: page.getByRole("heading", { name: "Income streams" }) });
    assert.match(await income.innerText(), /Not consented/);
    assert.ok((await page.locator("section", { has: page.getByRole("heading", { name: "Debts" }) }).locator("tbody tr").count()) >= 1);
    await screenshot("person");
  });

  test("a sandbox alert arrives live over graphql-ws and can be acknowledged", async () => {
    await page.getByRole("button", { name: "Alerts" }).click();
    await page.getByText("Listening for new alerts").waitFor();
    await page.getByLabel("Alert type").selectOption("expense_spike_food");
    await page.getByRole("button", { name: "Raise a sandbox alert" }).click();
    const live = page.locator('tr[data-live="true"]').first();
    await live.waitFor();
    assert.match(await live.innerText(), /expense_spike_food/);
    await live.getByRole("button", { name: /Acknowledge/ }).click();
    await live.locator("[data-status]", { hasText: "ACKNOWLEDGED" }).waitFor();
    await screenshot("alerts");
  });

  test("the CRM view pages the consented people, filters by country and band, and exports", async () => {
    await page.getByRole("button", { name: "CRM" }).click();
    await page.locator("table.crm tbody tr").first().waitFor();
    assert.equal(await page.locator("table.crm tbody tr").count(), 10);
    await page.getByRole("button", { name: "Next page" }).click();
    await page.getByText(/page 2$/).waitFor();
    await page.getByLabel("Country").selectOption("MX");
    // The page's policy forbids eval, so no waitForFunction: wait for the last row of another country to go.
    await page.locator('table.crm tbody tr td:nth-child(2):not(:text-is("MX"))').first().waitFor({ state: "detached" });
    await page.getByText(/page 1$/).waitFor();
    const countries = await page.locator("table.crm tbody tr td:nth-child(2)").allInnerTexts();
    assert.ok(countries.length > 0 && countries.every((country) => country === "MX"), `only MX: ${countries.join(",")}`);
    await page.getByRole("button", { name: /Score/ }).click();
    const scores = (await page.locator("table.crm tbody tr td:nth-child(3)").allInnerTexts()).map(Number);
    assert.deepEqual(scores, [...scores].sort((a, b) => a - b), "sorted by score");
    await page.getByRole("button", { name: "Export (CSV)" }).click();
    await page.getByRole("link", { name: "Download the export" }).waitFor({ timeout: 60_000 });
    await screenshot("crm");
  });

  test("keyboard alone moves between the views, with the focus visible", async () => {
    await page.locator("nav button").first().focus();
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    const focused = await page.evaluate<{ view: string | undefined; outline: string; width: number }>(`(() => {
      const element = document.activeElement;
      const style = getComputedStyle(element);
      return { view: element.dataset.view, outline: style.outlineStyle, width: parseFloat(style.outlineWidth) };
    })()`);
    assert.equal(focused.view, "crm");
    assert.notEqual(focused.outline, "none", "focus is visible");
    assert.ok(focused.width >= 2);
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Scopes granted" }).waitFor();
  });

  test("the consent screen lists scopes and receipts; revoking it ends access", async () => {
    await page.locator("table tbody tr").first().waitFor();
    const scopes = await page.locator(".scopes li").allInnerTexts();
    assert.ok(scopes.includes("alerts.write") && !scopes.includes("income.read"), scopes.join(","));
    await screenshot("consent");
    await page.getByRole("button", { name: "Revoke this consent" }).click();
    await page.locator("[data-consent-status]", { hasText: "REVOKED" }).waitFor();
    const check = page.locator("[data-access-check]", { hasText: "The gateway now answers" });
    await check.waitFor();
    assert.match(await check.innerText(), /socket closed 44\d\d/);
    await screenshot("access-ended");
  });

  test("GET /graphql in a browser is GraphiQL, bundled, with the sandbox sign-in's token in its headers, and runs a query", async () => {
    const graphiql = await watchedPage();
    const response = await graphiql.goto(`${seeded.kamina!.gateway!.origin}/graphql`);
    assert.equal(response?.status(), 200);
    assert.match(response?.headers()["content-security-policy"] ?? "", /script-src 'self'/);
    await graphiql.locator(".graphiql-container").waitFor();
    await graphiql.getByText(/"Authorization": "Bearer ey/).waitFor();
    await graphiql.locator(".graphiql-execute-button").click();
    await graphiql.locator(".result-window", { hasText: '"score"' }).waitFor();
    assert.match(await graphiql.locator(".result-window").innerText(), /"id": "USR_42891"/);
    await graphiql.screenshot({ path: new URL("graphiql.png", SCREENSHOTS).pathname });
    await graphiql.close();
  });

  test("no errors or warnings reached the browser's console", () => {
    assert.deepEqual(consoleErrors, []);
  });
});
