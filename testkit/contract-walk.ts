// The partner's contract suite: against any base URL and sandbox credentials, walks the consent
// flow and every documented route (a success and a bad input where there is one), and checks each
// answer against the OpenAPI document that base URL serves. `npm run contract` runs it from the
// command line; test/contract.test.ts runs it against `npm start`.
import { ContractChecker } from "./openapi-contract.ts";

export interface WalkOptions {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** A person of the sandbox the client may ask consent of. */
  userId: string;
  country: string;
  consentTextVersion: string;
  /** Where a test webhook endpoint points (the sandbox accepts a loopback URL; nothing needs to answer). */
  webhookUrl: string;
  /** The Kamina app's key, where the walk may act as the person (authorise, reject); optional. */
  appKey?: string;
  log?: (line: string) => void;
}

export interface WalkStep {
  name: string;
  method: string;
  path: string;
  status: number;
  problems: string[];
}

export interface WalkReport {
  steps: WalkStep[];
  /** Documented operations no step called. */
  unexercised: string[];
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const USER_SCOPES = ["wellness.read", "debts.read", "expenses.read", "coach.read", "alerts.read"];

export async function walkContract(options: WalkOptions): Promise<WalkReport> {
  const base = options.baseUrl.replace(/\/$/, "");
  const documentResponse = await fetch(`${base}/v1/openapi.json`);
  if (documentResponse.status !== 200) throw new Error(`GET ${base}/v1/openapi.json answered ${documentResponse.status}`);
  const checker = new ContractChecker((await documentResponse.json()) as Json);
  const steps: WalkStep[] = [];
  const called = new Set<string>();
  const basic = { authorization: `Basic ${Buffer.from(`${options.clientId}:${options.clientSecret}`).toString("base64")}` };

  async function call(name: string, method: string, path: string, init: { headers?: Record<string, string>; json?: unknown; form?: Record<string, string>; csv?: string } = {}): Promise<{ status: number; body: Json }> {
    const headers: Record<string, string> = { ...init.headers };
    let body: string | undefined;
    if (init.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(init.json);
    } else if (init.form) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(init.form).toString();
    } else if (init.csv !== undefined) {
      headers["content-type"] = "text/csv";
      body = init.csv;
    }
    const url = path.startsWith("http") ? path : `${base}${path}`;
    const response = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
    const contentType = response.headers.get("content-type");
    const text = await response.text();
    let parsed: unknown = text;
    if ((contentType ?? "").includes("json") && text !== "") parsed = JSON.parse(text);
    const pathOnly = new URL(url).pathname + new URL(url).search;
    const problems = checker.problems({ method, path: pathOnly, status: response.status, contentType, body: parsed });
    const operation = checker.operationOf(method, pathOnly);
    if (operation) called.add(operation);
    steps.push({ name, method, path: pathOnly, status: response.status, problems });
    options.log?.(`${problems.length === 0 ? "ok  " : "FAIL"} ${response.status} ${method} ${pathOnly.split("?")[0]}  ${name}${problems.length ? `\n       ${problems.join("\n       ")}` : ""}`);
    return { status: response.status, body: (typeof parsed === "object" && parsed !== null ? parsed : {}) as Json };
  }

  await call("the signing keys", "GET", "/.well-known/jwks.json");
  await call("the contract itself", "GET", "/v1/openapi.json");
  await call("the reference page", "GET", "/v1/docs");

  // Consent, as the brief writes it.
  const consentRequest = {
    client_id: options.clientId,
    user_external_id: options.userId,
    scopes: USER_SCOPES,
    country: options.country,
    consent_text_version: options.consentTextVersion,
  };
  const consent = await call("ask for consent", "POST", "/v1/auth/consent", { headers: basic, json: consentRequest });
  await call("ask for consent, bad scopes", "POST", "/v1/auth/consent", { headers: basic, json: { ...consentRequest, scopes: ["everything"] } });
  const consentId = String(consent.body.consent_id ?? "cns_missing");
  const asPerson = { authorization: `Bearer ${String(consent.body.access_token ?? "")}` };
  await call("read the consent", "GET", `/v1/consents/${consentId}`, { headers: basic });
  await call("read an unknown consent", "GET", "/v1/consents/cns_unknown", { headers: basic });
  await call("exchange a consent already exchanged", "POST", "/v1/auth/token", { headers: basic, form: { grant_type: "urn:kamina:consent", consent_id: consentId } });
  if (options.appKey) {
    const asApp = { "x-kamina-app-key": options.appKey };
    await call("authorise a consent already authorised (the app)", "POST", `/v1/consents/${consentId}/authorise`, { headers: asApp });
    await call("reject a consent already authorised (the app)", "POST", `/v1/consents/${consentId}/reject`, { headers: asApp, json: {} });
    await call("export everything about the person (the app)", "POST", "/v1/data-subject/export", { headers: asApp, json: { user_external_id: options.userId } });
    await call("erase a person not stored (the app)", "POST", "/v1/data-subject/erase", { headers: asApp, json: { user_external_id: "USR_NOT_STORED" } });
    const monefy = `date,account,category,amount,currency,converted amount,currency,description\n${new Date().toISOString().slice(0, 10)},Cash,Eating out,-4.50,,-4.50,,"contract walk, coffee"\n`;
    await call("import a Monefy export (the app)", "POST", `/v1/imports?format=monefy&user_id=${options.userId}`, { headers: asApp, csv: monefy });
    await call("import a file with a bad row (the app)", "POST", `/v1/imports?format=monefy&user_id=${options.userId}`, { headers: asApp, csv: monefy.replace("-4.50,,", "four fifty,,") });
    // The app's write path: each record kind created (with an Idempotency-Key) and updated.
    const base = `/v1/app/users/${options.userId}`;
    const once = (name: string) => ({ ...asApp, "idempotency-key": `walk-${name}-${Date.now()}-${Math.random().toString(36).slice(2)}` });
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const expense = await call("write an expense (the app)", "POST", `${base}/expenses`, {
      headers: once("expense"),
      json: { amount: "4.50", currency: "USD", mcc: "5814", category: "food", merchant: "contract walk coffee", occurred_at: new Date(Date.now() - 3_600_000).toISOString() },
    });
    await call("write an expense, bad amount (the app)", "POST", `${base}/expenses`, { headers: once("bad"), json: { amount: "-1" } });
    await call("update the expense (the app)", "PATCH", `${base}/expenses/${String(expense.body.id ?? "1")}`, { headers: asApp, json: { merchant: "contract walk tea" } });
    const debt = await call("write a debt (the app)", "POST", `${base}/debts`, {
      headers: once("debt"),
      json: { issuer: "Contract Walk Bank", type: "INSTALLMENT", principal: "100", balance: "100", minimum_payment: "10", currency: "USD", apr: 0.3, due_date: yesterday, opened_at: yesterday },
    });
    const debtId = String(debt.body.id ?? "dbt_unknown");
    await call("update the debt (the app)", "PATCH", `${base}/debts/${debtId}`, { headers: asApp, json: { balance: "90" } });
    const payment = await call("write a debt payment (the app)", "POST", `${base}/debts/${debtId}/payments`, {
      headers: once("payment"),
      json: { due_date: yesterday, amount_due: "10", amount_paid: "10", paid_at: yesterday, status: "ON_TIME" },
    });
    await call("update the payment (the app)", "PATCH", `${base}/debts/${debtId}/payments/${String(payment.body.id ?? "1")}`, { headers: asApp, json: { amount_paid: "9.50" } });
    const income = await call("write an income stream (the app)", "POST", `${base}/income-streams`, {
      headers: once("income"),
      json: { source: "contract walk", kind: "VARIABLE", monthly_amount: "50", currency: "USD", started_at: yesterday },
    });
    await call("update the income stream (the app)", "PATCH", `${base}/income-streams/${String(income.body.id ?? "inc_unknown")}`, { headers: asApp, json: { monthly_amount: "55" } });
    const goal = await call("write a savings goal (the app)", "POST", `${base}/goals`, { headers: once("goal"), json: { kind: "travel", name: "contract walk", target_amount: "100", currency: "USD" } });
    await call("update the savings goal (the app)", "PATCH", `${base}/goals/${String(goal.body.id ?? "gol_unknown")}`, { headers: asApp, json: { current_amount: "10" } });
    // The client's own ids, linked by the person through the app; the client then names the person by its customer id.
    const customerId = `WALK-${Date.now()}`;
    await call("link the client's own ids (the app)", "PUT", `${base}/partner-ids/${options.clientId}`, { headers: asApp, json: { customer_id: customerId, bureau_id: `${customerId}-B` } });
    await call("link a malformed customer id (the app)", "PUT", `${base}/partner-ids/${options.clientId}`, { headers: asApp, json: { customer_id: "not an id" } });
    await call("ask for consent by the client's customer id", "POST", "/v1/auth/consent", {
      headers: basic,
      json: { client_id: options.clientId, customer_id: customerId, scopes: ["wellness.read"], country: options.country, consent_text_version: options.consentTextVersion },
    });
    await call("unlink the client's own ids (the app)", "DELETE", `${base}/partner-ids/${options.clientId}`, { headers: asApp });
    await call("unlink ids not linked (the app)", "DELETE", `${base}/partner-ids/${options.clientId}`, { headers: asApp });
  }
  const refreshed = await call("refresh", "POST", "/v1/auth/token", { headers: basic, form: { grant_type: "refresh_token", refresh_token: String(consent.body.refresh_token ?? "") } });
  await call("refresh with a spent token", "POST", "/v1/auth/token", { headers: basic, form: { grant_type: "refresh_token", refresh_token: "rf_not_a_token" } });
  const person = refreshed.status === 200 ? { authorization: `Bearer ${String(refreshed.body.access_token)}` } : asPerson;
  const partner = await call("a partner token", "POST", "/v1/auth/token", { headers: basic, form: { grant_type: "client_credentials" } });
  const asPartner = { authorization: `Bearer ${String(partner.body.access_token ?? "")}` };

  // The brief's data routes, as the person and with a bad input each.
  await call("run a diagnosis", "POST", "/v1/diagnosis/run", { headers: person });
  await call("the latest diagnosis", "GET", "/v1/diagnosis/latest", { headers: person });
  await call("the latest diagnosis, bad user_id", "GET", "/v1/diagnosis/latest?user_id=../x", { headers: asPartner });
  await call("alerts since", "GET", "/v1/alerts?since=2026-01-01T00:00:00Z", { headers: person });
  await call("alerts, bad since", "GET", "/v1/alerts?since=yesterday", { headers: person });
  await call("debts", "GET", "/v1/debts", { headers: person });
  await call("cohort tags (cohorts.read)", "GET", "/v1/cohorts", { headers: person });
  await call("debts, bad status", "GET", "/v1/debts?status=whatever", { headers: person });
  const today = new Date().toISOString().slice(0, 10);
  const ninetyDaysAgo = new Date(Date.now() - 90 * 86_400_000).toISOString().slice(0, 10);
  await call("expenses of 90 days", "GET", `/v1/expenses?from=${ninetyDaysAgo}&to=${today}&limit=5`, { headers: person });
  await call("expenses, from after to", "GET", `/v1/expenses?from=${today}&to=${ninetyDaysAgo}`, { headers: person });
  await call("coach sessions", "GET", "/v1/coach/sessions", { headers: person });
  await call("coach sessions, bad date", "GET", "/v1/coach/sessions?from=2026-13-01", { headers: person });
  await call("debt export, JSON", "GET", "/v1/exports/debts?format=json", { headers: person });
  await call("debt export, CSV", "GET", "/v1/exports/debts?format=csv", { headers: person });
  await call("debt export, unknown format", "GET", "/v1/exports/debts?format=xml", { headers: person });
  const sandboxAlert = await call("a sandbox alert", "POST", "/v1/sandbox/alerts", { headers: person, json: { type: "expense_spike_food" } });
  const alertId = encodeURIComponent(String(sandboxAlert.body.id ?? "alr_missing"));
  await call("acknowledge the alert (alerts.write)", "POST", `/v1/alerts/${alertId}/acknowledge`, { headers: person });
  await call("resolve the alert (alerts.write)", "POST", `/v1/alerts/${alertId}/resolve`, { headers: person });
  await call("resolve it again: a conflict", "POST", `/v1/alerts/${alertId}/resolve`, { headers: person });
  await call("acknowledge an unknown alert", "POST", "/v1/alerts/alr_unknown/acknowledge", { headers: person });
  await call("alerts, a page by cursor", "GET", "/v1/alerts?limit=1", { headers: person });
  await call("a sandbox alert of no type", "POST", "/v1/sandbox/alerts", { headers: person, json: { type: "no_such_rule" } });

  // The partner's own routes.
  await call("the prevention report", "GET", "/v1/reports/prevention?period=2026Q1", { headers: asPartner });
  await call("the prevention report, bad period", "GET", "/v1/reports/prevention?period=2026Q5", { headers: asPartner });
  const job = await call("a wellness export", "POST", "/v1/exports/wellness", { headers: asPartner, json: { format: "csv" } });
  await call("a wellness export, bad format", "POST", "/v1/exports/wellness", { headers: asPartner, json: { format: "xlsx" } });
  const jobPath = typeof job.body.poll_url === "string" ? job.body.poll_url : "/v1/exports/wellness/exp_unknown";
  let polled = await call("poll the export", "GET", jobPath, { headers: asPartner });
  for (let attempt = 0; attempt < 60 && polled.body.status !== "succeeded" && polled.body.status !== "failed"; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    polled = await call("poll the export", "GET", jobPath, { headers: asPartner });
  }
  if (typeof polled.body.download_url === "string") {
    await call("download the export", "GET", polled.body.download_url);
    await call("download with a tampered signature", "GET", polled.body.download_url.replace(/signature=[^&]+/, "signature=AAAA"));
  }
  await call("poll an unknown export", "GET", "/v1/exports/wellness/exp_unknown", { headers: asPartner });

  const endpoint = await call("register a webhook endpoint", "POST", "/v1/webhooks", { headers: basic, json: { url: options.webhookUrl, events: ["alert.created"] } });
  await call("register a webhook endpoint, bad URL", "POST", "/v1/webhooks", { headers: basic, json: { url: "not a url", events: ["alert.created"] } });
  await call("list webhook endpoints", "GET", "/v1/webhooks", { headers: basic });
  const endpointId = String(endpoint.body.id ?? "whe_unknown");
  await call("rotate its secret", "POST", `/v1/webhooks/${endpointId}/rotate-secret`, { headers: basic });
  await call("replay to it", "POST", `/v1/webhooks/${endpointId}/replay`, { headers: basic, json: {} });
  await call("replay, bad since", "POST", `/v1/webhooks/${endpointId}/replay`, { headers: basic, json: { since: "last week" } });
  await call("replay delivered events of a window too", "POST", `/v1/webhooks/${endpointId}/replay`, { headers: basic, json: { since: new Date(Date.now() - 3_600_000).toISOString(), include_delivered: true } });
  await call("its deliveries", "GET", `/v1/webhooks/${endpointId}/deliveries?limit=5`, { headers: basic });
  await call("its deliveries, bad status", "GET", `/v1/webhooks/${endpointId}/deliveries?status=lost`, { headers: basic });
  await call("delete it", "DELETE", `/v1/webhooks/${endpointId}`, { headers: basic });
  await call("delete an unknown endpoint", "DELETE", "/v1/webhooks/whe_unknown", { headers: basic });

  // What was read under the consent, then the end of it.
  await call("consent receipts", "GET", `/v1/consents/${consentId}/receipts?limit=5`, { headers: basic });
  await call("consent receipts, bad limit", "GET", `/v1/consents/${consentId}/receipts?limit=-1`, { headers: basic });
  await call("the client's audit log for the consent", "GET", `/v1/audit?consent_id=${consentId}&limit=5`, { headers: basic });
  await call("the client's audit log, bad from", "GET", "/v1/audit?from=yesterday", { headers: basic });
  await call("the client's usage today", "GET", `/v1/usage?from=${today}&to=${today}`, { headers: basic });
  await call("the client's usage, bad to", "GET", `/v1/usage?from=${today}&to=soon`, { headers: basic });
  await call("the client's invoice for this month", "GET", `/v1/usage/invoice?month=${today.slice(0, 7)}`, { headers: basic });
  await call("the client's invoice, bad month", "GET", "/v1/usage/invoice?month=2026-13", { headers: basic });
  await call("revoke a token", "POST", "/v1/auth/revoke", { headers: basic, form: { token: String(refreshed.body.refresh_token ?? "rf_none") } });
  await call("revoke the consent, no body", "DELETE", `/v1/consents/${consentId}`, { headers: basic });
  await call("read after revocation", "GET", "/v1/debts", { headers: person });
  await call("a method the path does not take", "PUT", "/v1/auth/consent", { headers: basic });

  const unexercised = checker.operations().filter((operation) => !called.has(operation));
  return { steps, unexercised };
}
