// The REST contract: the OpenAPI document `npm start` serves is a valid OpenAPI 3.1 document that
// describes every route, and the partner's contract suite (`npm run contract`) passes against it.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { walkContract } from "../testkit/contract-walk.ts";
import { ContractChecker } from "../testkit/openapi-contract.ts";
import { startEmbedded, stop } from "./support/embedded-server.ts";

const SANDBOX_SECRET = "contract-sandbox-secret";

describe("the REST contract against npm start", () => {
  const children: ChildProcess[] = [];
  let dataDir: string;
  let origin: string;
  let child: ChildProcess;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let document: any;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "kamina-contract-"));
    const server = await startEmbedded(dataDir, SANDBOX_SECRET, children);
    child = server.child;
    origin = new URL(server.url).origin;
    const response = await fetch(`${origin}/v1/openapi.json`);
    assert.equal(response.status, 200);
    document = await response.json();
  });

  after(async () => {
    if (child) await stop(child);
    for (const running of children) running.kill("SIGKILL");
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test("the document is valid OpenAPI 3.1", async () => {
    const result = await new Validator().validate(document);
    assert.equal(document.openapi, "3.1.0");
    assert.ok(result.valid, JSON.stringify(result.errors, null, 2));
  });

  test("every route the gateway serves is described, with its error envelope", () => {
    const operations = new ContractChecker(document).operations();
    for (const route of ["POST /v1/auth/consent", "GET /v1/debts", "GET /v1/expenses", "POST /v1/exports/wellness", "GET /v1/reports/prevention", "GET /v1/openapi.json"]) {
      assert.ok(operations.includes(route), `${route} is in the document`);
    }
    const undocumented = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item as Record<string, { "x-undocumented"?: boolean }>).flatMap(([method, operation]) => (operation["x-undocumented"] ? [`${method.toUpperCase()} ${path}`] : [])),
    );
    assert.deepEqual(undocumented, [], "routes without a spec");
    assert.deepEqual(Object.keys(document.components.schemas.ErrorEnvelope.properties).sort(), ["code", "message", "request_id", "retry_after"]);
  });

  test("the reference page is one self-contained page: every operation, nothing fetched from elsewhere", async () => {
    const response = await fetch(`${origin}/v1/docs`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/html/);
    const html = await response.text();
    for (const operation of new ContractChecker(document).operations()) {
      const [method, path] = operation.split(" ");
      assert.ok(html.includes(`${method}</span> <code>${path}</code>`), `${operation} is on the page`);
    }
    assert.doesNotMatch(html, /<script|<link|src=|@import|url\(/i, "no script, stylesheet, image or font from anywhere");
  });

  test("the contract checker refuses an answer that breaks the document", () => {
    const checker = new ContractChecker(document);
    const json = "application/json; charset=utf-8";
    assert.deepEqual(checker.problems({ method: "GET", path: "/v1/no-such-route", status: 200, contentType: json, body: {} }), ["GET /v1/no-such-route: no such path in the document"]);
    assert.match(checker.problems({ method: "GET", path: "/v1/debts", status: 418, contentType: json, body: {} })[0] ?? "", /status not documented/);
    assert.match(checker.problems({ method: "GET", path: "/v1/debts", status: 404, contentType: json, body: { code: "NOT_FOUND" } }).join("\n"), /message/);
  });

  test("the partner's contract suite passes, every documented route exercised", async () => {
    const report = await walkContract({
      baseUrl: origin,
      clientId: "of_lab_demo",
      clientSecret: SANDBOX_SECRET,
      userId: "USR_42891",
      country: "MX",
      consentTextVersion: "2026-05-01",
      webhookUrl: "http://127.0.0.1:9/kamina-contract",
      appKey: "kamina-app-local-key",
    });
    const failures = report.steps.filter((step) => step.problems.length > 0).map((step) => `${step.name}: ${step.problems.join("; ")}`);
    assert.deepEqual(failures, []);
    assert.deepEqual(report.unexercised, [], "documented operations the suite never called");
    assert.ok(report.steps.length >= 50, `${report.steps.length} calls`);
    const byName = new Map(report.steps.map((step) => [step.name, step.status]));
    assert.equal(byName.get("ask for consent"), 200);
    assert.equal(byName.get("debts"), 200);
    assert.equal(byName.get("revoke the consent, no body"), 200);
    assert.equal(byName.get("read after revocation"), 401);
    assert.equal(byName.get("a method the path does not take"), 405);
  });
});
