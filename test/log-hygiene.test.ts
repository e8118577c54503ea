// No tokens, secrets or personal data in the logs (issue 16, item 9): a whole partner scenario
// (consent, tokens and a refresh, GraphQL and REST reads, a webhook registration and delivery,
// errors) runs with every component logging at debug into one captured stream; then every token,
// secret and person id the scenario used is looked for in what was written, and none is there.
// (The people in this system have no names, only pseudonymous ids; the ids are what is looked for.)
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { startKamina, type RunningKamina } from "../runtime/app.ts";
import { loadConfig, SUBGRAPH_NAMES } from "../platform/config/config.ts";
import type { PrismaClient } from "../platform/database/database.ts";
import { createLogger } from "../platform/logger.ts";
import type { TestDatabase } from "../testkit/postgres.ts";
import { basic, bearer, CONSENT_TEXT_VERSION, DEMO_CLIENT, TEST_SANDBOX_SECRET } from "../testkit/tokens.ts";
import { Receiver } from "../testkit/webhook-receiver.ts";
import { createRealtimeDatabase, PERSON_A, PERSON_B, raiseAlert } from "./support/realtime.ts";
import { rest, type RestOptions } from "./support/rest.ts";

const APP_API_KEY = "app-key-4f9c2d7e1b8a6350c9e2f1d4a7b3";
const KEY_ENCRYPTION_KEY = Buffer.from(Array.from({ length: 32 }, (_, index) => (index * 37 + 11) % 256)).toString("base64url");

describe("log hygiene", () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let kamina: RunningKamina;
  const receiver = new Receiver();
  let captured = "";
  /** Every value that must never be written to a log, named for the failure message. */
  const secrets = new Map<string, string>();

  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      captured += chunk.toString("utf8");
      done();
    },
  });
  const call = (method: string, path: string, options: RestOptions = {}) => rest(kamina.gateway!.origin, method, path, options);
  const graphql = (token: string, query: string, variables: Record<string, unknown> = {}) =>
    call("POST", "/graphql", { headers: bearer(token), json: { query, variables } });

  before(async () => {
    ({ database, prisma } = await createRealtimeDatabase());
    await receiver.start();
    const freePorts = Object.fromEntries(SUBGRAPH_NAMES.map((name) => [`SUBGRAPH_${name.toUpperCase()}_PORT`, "0"]));
    const config = loadConfig({
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "debug",
      APP_API_KEY,
      KEY_ENCRYPTION_KEY,
      RELAY_POLL_MS: "100",
      WEBHOOK_POLL_MS: "50",
      WEBHOOK_BACKOFF_BASE_MS: "50",
      WEBHOOK_BACKOFF_MAX_MS: "100",
      WEBHOOK_MAX_ATTEMPTS: "2",
      ...freePorts,
    });
    kamina = await startKamina({ config, logger: createLogger("debug", "kamina-graph", sink), database: { kind: "postgres", url: database.url, poolSize: 4 }, migrate: false, seedIfEmpty: false });
    secrets.set("the sandbox client secret", TEST_SANDBOX_SECRET);
    secrets.set("APP_API_KEY", APP_API_KEY);
    secrets.set("KEY_ENCRYPTION_KEY", KEY_ENCRYPTION_KEY);
    secrets.set("person A's id", PERSON_A);
    secrets.set("person B's id", PERSON_B);
  });

  after(async () => {
    await kamina?.stop();
    await receiver.stop();
    await prisma?.$disconnect();
    await database?.drop();
  });

  test("a full scenario at debug writes none of its tokens, secrets or person ids", async () => {
    const sandbox = basic(DEMO_CLIENT, TEST_SANDBOX_SECRET);
    secrets.set("the sandbox client's Basic credentials", sandbox.authorization!.slice("Basic ".length));

    // Consent and tokens, then a refresh.
    const consent = await call("POST", "/v1/auth/consent", {
      headers: sandbox,
      json: { client_id: DEMO_CLIENT, user_external_id: PERSON_A, scopes: ["wellness.read", "debts.read", "alerts.read"], country: "MX", consent_text_version: CONSENT_TEXT_VERSION },
    });
    assert.equal(consent.status, 200, JSON.stringify(consent.body));
    secrets.set("the consent's access token", consent.body.access_token);
    secrets.set("the consent's refresh token", consent.body.refresh_token);
    const refreshed = await call("POST", "/v1/auth/token", { headers: sandbox, form: { grant_type: "refresh_token", refresh_token: consent.body.refresh_token } });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    const access = refreshed.body.access_token as string;
    secrets.set("the refreshed access token", access);
    secrets.set("the refreshed refresh token", refreshed.body.refresh_token);
    // A refresh token used twice: refused, and its whole family revoked (a warning is logged).
    assert.equal((await call("POST", "/v1/auth/token", { headers: sandbox, form: { grant_type: "refresh_token", refresh_token: consent.body.refresh_token } })).status, 400);
    const again = await call("POST", "/v1/auth/consent", {
      headers: sandbox,
      json: { client_id: DEMO_CLIENT, user_external_id: PERSON_A, scopes: ["wellness.read", "debts.read", "alerts.read"], country: "MX", consent_text_version: CONSENT_TEXT_VERSION },
    });
    const token = again.body.access_token as string;
    secrets.set("the second consent's access token", token);
    secrets.set("the second consent's refresh token", again.body.refresh_token);
    // The app standing in for the person, with its key.
    await call("POST", `/v1/consents/${again.body.consent_id ?? "unknown"}/authorise`, { headers: { "x-api-key": APP_API_KEY, authorization: `Bearer ${APP_API_KEY}` } });
    const client = await call("POST", "/v1/auth/token", { headers: sandbox, form: { grant_type: "client_credentials" } });
    assert.equal(client.status, 200, JSON.stringify(client.body));
    secrets.set("the client-credentials token", client.body.access_token);

    // GraphQL reads, as the person's token and as the client naming people.
    const me = await graphql(token, "{ me { id wellness { score band } debts { id balance } } }");
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal(me.body.data.me.id, PERSON_A);
    await graphql(client.body.access_token, "query($id: ID!) { user(id: $id) { id debts { id } } }", { id: PERSON_A });
    await graphql(client.body.access_token, "query($id: ID!) { user(id: $id) { id } }", { id: PERSON_B });
    // REST reads.
    assert.equal((await call("GET", "/v1/diagnosis/latest", { headers: bearer(token) })).status, 200);
    assert.equal((await call("GET", `/v1/debts?user_id=${PERSON_A}`, { headers: bearer(client.body.access_token) })).status, 200);

    // A webhook: registered, then a delivery refused once by the receiver and retried.
    receiver.script.set("/hygiene", { statuses: [500, 200] });
    const webhook = await call("POST", "/v1/webhooks", { headers: sandbox, json: { url: `${receiver.origin}/hygiene`, events: ["alert.created"] } });
    assert.equal(webhook.status, 201, JSON.stringify(webhook.body));
    secrets.set("the webhook secret", webhook.body.secret);
    secrets.set("the webhook secret's key", (webhook.body.secret as string).slice("whsec_".length));
    await raiseAlert(prisma, PERSON_A, { riskBand: "RED" });
    const deliveries = await receiver.waitFor("/hygiene", 2, 15_000);
    secrets.set("a webhook signature", deliveries[0]!.headers["webhook-signature"]!.split(",")[1]!);

    // Errors: a forged token, a revoked one, a malformed request, a route that does not exist.
    const forged = `${token.slice(0, -8)}AAAAAAAA`;
    secrets.set("a forged token", forged);
    assert.equal((await graphql(forged, "{ me { id } }")).status, 401);
    assert.equal((await call("POST", "/v1/auth/revoke", { headers: sandbox, json: { token } })).status, 200);
    assert.equal((await graphql(token, "{ me { id } }")).status, 401);
    assert.equal((await call("GET", "/v1/diagnosis/latest", { headers: bearer(token) })).status, 401);
    // (The refreshed token went with its family when the spent refresh token came back.)
    assert.equal((await graphql(access, "{ me { id } }")).status, 401);
    const partner = client.body.access_token as string;
    const truncated = JSON.stringify({ query: `{ user(id: "${PERSON_B}") { id } }` }).slice(0, -3);
    assert.equal((await call("POST", "/graphql", { headers: bearer(partner), raw: { contentType: "application/json", body: truncated } })).status, 400);
    assert.equal((await graphql(partner, `{ user(id: "${PERSON_B}") { nope } }`)).status, 400);
    assert.equal((await call("GET", `/v1/nowhere/${PERSON_B}`, { headers: bearer(partner) })).status, 404);

    // The realtime workers and the in-process pieces had their say; what was written:
    await new Promise((resolve) => setTimeout(resolve, 300));
    const lines = captured.split("\n").filter((line) => line !== "");
    const answered = lines.filter((line) => line.includes('"msg":"answered"'));
    assert.ok(answered.length >= 20, `every answer was logged at debug (${answered.length} lines)`);
    assert.ok(lines.some((line) => line.includes('"path":"/v1/consents/:id/authorise"')), "paths are logged with their ids masked");
    assert.ok(lines.some((line) => /refresh token reused/.test(line)), "the warnings are there too");
    for (const [what, value] of secrets) {
      assert.ok(value && value.length >= 8, `${what} is a real value`);
      const at = captured.indexOf(value);
      assert.equal(at, -1, `${what} is in the logs: ${captured.slice(Math.max(0, at - 200), at + 100)}`);
      for (const part of value.split(".").filter((piece) => piece.length >= 16)) assert.ok(!captured.includes(part), `part of ${what} is in the logs`);
    }
  });

  test("what a log call names as a credential or a person is redacted, wherever it sits", () => {
    let written = "";
    const logger = createLogger("debug", "kamina-graph", new Writable({ write: (chunk: Buffer, _encoding, done) => ((written += chunk.toString()), done()) }));
    logger.info(
      {
        req: { headers: { authorization: "Bearer sekret-token-1", cookie: "session=sekret-cookie-2", dpop: "sekret-proof-3" } },
        userId: "USR_LOGGED_4",
        delivery: { secret: "whsec_sekret5", user_id: "USR_LOGGED_6" },
        err: { meta: { userId: "USR_LOGGED_7" }, config: { headers: { authorization: "Basic sekret8" } } },
        refresh_token: "sekret-refresh-9",
      },
      "a careless line",
    );
    for (const value of ["sekret", "USR_LOGGED"]) assert.ok(!written.includes(value), written);
    assert.match(written, /\[redacted\]/);
    assert.match(written, /a careless line/);
  });
});
