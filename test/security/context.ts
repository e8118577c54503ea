// The attacker's world for `npm run test:security`: a fresh PostgreSQL database seeded with the
// synthetic population, the real subgraphs and gateway on free ports (secrets set as a deployment
// sets them, so the public defaults are what an attacker knows, not what the server uses), and
// the extra clients: a live one limited to MX, a second sandbox one, one suspended
// mid-run, plus live clients whose quotas the rate-limit attacks spend.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { seedDatabase } from "../../prisma/seed/index.ts";
import { CLIENT_SCOPES, USER_SCOPES } from "../../platform/auth/scopes.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import { hashSecret } from "../../platform/secret-hash.ts";
import { createTestDatabase, type TestDatabase } from "../../testkit/postgres.ts";
import { basic, CONSENT_TEXT_VERSION, DEMO_CLIENT, TEST_SANDBOX_SECRET } from "../../testkit/tokens.ts";
import { startTestKamina } from "../support/kamina.ts";
import { toOutcome, type Outcome } from "./outcome.ts";

type Kamina = Awaited<ReturnType<typeof startTestKamina>>;

export const PERSON_A = "USR_42891";

export interface Client {
  id: string;
  secret: string;
  basic: Record<string, string>;
}

/** Everything an attack may use. Tokens are real ones, obtained over HTTP as a partner gets them. */
export interface SecurityContext {
  kamina: Kamina;
  prisma: PrismaClient;
  sql: pg.Client;
  origin: string;
  graphqlUrl: string;
  subgraphUrls: Record<string, string>;
  /** Secrets the server runs with (an attacker does not know them). */
  env: Record<string, string>;
  /** The subgraph ports refuse what the gateway did not sign (issue 16, cause 5), as a probe found. */
  subgraphsGated: boolean;
  people: { a: string; b: string; otherCountry: string; otherCountryCode: string };
  clients: { demo: Client; live: Client; second: Client; doomed: Client; rlRequests: Client; rlCost: Client; rlAuth: Client; rlConsent: Client };
  tokens: {
    /** The demo client's consent token for person A, every per-user scope. */
    a: string;
    aRefresh: string;
    aConsentId: string;
    /** The demo client's token for person A with debts.read only. */
    aDebtsOnly: string;
    /** The demo client's token for person A with wellness.read only. */
    aWellnessOnly: string;
    /** The demo client's consent token for person B. */
    b: string;
    bConsentId: string;
    /** Client-credentials tokens. */
    demoClient: string;
    second: string;
    live: string;
    /** The live client's consent token for person B (authorised by the person in the app). */
    liveConsent: string;
    liveConsentId: string;
    doomedConsent: string;
    doomedRefresh: string;
    doomedClient: string;
    rlRequests: string;
    rlCost: string;
  };
  gql(url: string, query: string, variables?: Record<string, unknown>, headers?: Record<string, string>, extra?: Record<string, unknown>): Promise<Outcome>;
  rest(method: string, path: string, options?: RestOptions): Promise<Outcome>;
  /** Runs `stop` (e.g. a second gateway an attack started) before the stack stops. */
  onStop(stop: () => Promise<void>): void;
  stop(): Promise<void>;
}

export interface RestOptions {
  headers?: Record<string, string>;
  json?: unknown;
  form?: Record<string, string>;
  raw?: { contentType?: string; body: string | Buffer };
  /** An absolute URL instead of origin + path. */
  url?: string;
  signal?: AbortSignal;
}

async function liveClient(prisma: PrismaClient, id: string, options: { sandbox: boolean; countries: string[] }): Promise<Client> {
  const secret = `${id}-${randomBytes(12).toString("hex")}`;
  await prisma.partnerClient.create({
    data: {
      id,
      name: id,
      secretHash: await hashSecret(secret),
      countries: options.countries as never,
      allowedScopes: [...USER_SCOPES],
      clientScopes: [...CLIENT_SCOPES],
      sandbox: options.sandbox,
    },
  });
  return { id, secret, basic: basic(id, secret) };
}

export async function createSecurityContext(): Promise<SecurityContext> {
  const database: TestDatabase = await createTestDatabase();
  let kamina: Kamina | undefined;
  let sql: pg.Client | undefined;
  try {
    // The seed seals coach transcripts under data keys wrapped by the server's own KEK.
    const keyEncryptionKey = randomBytes(32);
    await seedDatabase({ kind: "postgres", url: database.url, poolSize: 2 }, { users: 30, seed: 16, sandboxClientSecret: TEST_SANDBOX_SECRET, keyEncryptionKey });
    const env: Record<string, string> = {
      KEY_ENCRYPTION_KEY: keyEncryptionKey.toString("base64url"),
      APP_API_KEY: randomBytes(32).toString("base64url"),
      SANDBOX_CLIENT_SECRET: TEST_SANDBOX_SECRET,
      CORS_ORIGINS: "https://app.bank.example",
      // Short waits, so that slow-client attacks take a second, not thirty.
      HTTP_BODY_TIMEOUT_MS: "800",
      HTTP_HEADERS_TIMEOUT_MS: "1000",
      HTTP_REQUEST_TIMEOUT_MS: "2500",
      WS_CONNECTION_INIT_TIMEOUT_MS: "800",
      WS_MAX_CONNECTIONS_PER_CLIENT: "8",
      // Live quotas small enough for the rate-limit attacks to reach them in a few seconds; each is
      // spent by a client of its own, so no other attack comes near them.
      RATE_LIMIT_REQUESTS_LIVE: "150",
      // No webhook dispatcher of the stack's own: the SSRF attacks run one with their own DNS, and no other may claim their deliveries.
      REALTIME_WORKERS: "false",
      RATE_LIMIT_COST_LIVE: "200000",
    };
    kamina = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 6 }, env);
    const prisma = kamina.gateway!.auth.prisma;
    sql = new pg.Client({ connectionString: database.url });
    await sql.connect();

    const mx = await prisma.user.findMany({ where: { country: "MX", id: { not: PERSON_A } }, select: { id: true }, orderBy: { id: "asc" }, take: 1 });
    const elsewhere = await prisma.user.findFirstOrThrow({ where: { country: { not: "MX" } }, select: { id: true, country: true }, orderBy: { id: "asc" } });
    const people = { a: PERSON_A, b: mx[0]!.id, otherCountry: elsewhere.id, otherCountryCode: elsewhere.country };

    const demo: Client = { id: DEMO_CLIENT, secret: TEST_SANDBOX_SECRET, basic: basic(DEMO_CLIENT, TEST_SANDBOX_SECRET) };
    const clients = {
      demo,
      live: await liveClient(prisma, "sec_live_mx", { sandbox: false, countries: ["MX"] }),
      second: await liveClient(prisma, "sec_sandbox_two", { sandbox: true, countries: ["EC", "MX", "PE", "CO", "CL"] }),
      doomed: await liveClient(prisma, "sec_doomed", { sandbox: true, countries: ["EC", "MX", "PE", "CO", "CL"] }),
      rlRequests: await liveClient(prisma, "sec_rl_requests", { sandbox: false, countries: ["MX"] }),
      rlCost: await liveClient(prisma, "sec_rl_cost", { sandbox: false, countries: ["MX"] }),
      rlAuth: await liveClient(prisma, "sec_rl_auth", { sandbox: false, countries: ["MX"] }),
      rlConsent: await liveClient(prisma, "sec_rl_consent", { sandbox: false, countries: ["MX"] }),
    };

    const origin = kamina.gateway!.origin;
    const call = async (method: string, path: string, options: RestOptions = {}): Promise<Outcome> => {
      const headers: Record<string, string> = { ...options.headers };
      let body: string | Buffer | undefined;
      if (options.json !== undefined) {
        headers["content-type"] ??= "application/json";
        body = JSON.stringify(options.json);
      } else if (options.form) {
        headers["content-type"] ??= "application/x-www-form-urlencoded";
        body = new URLSearchParams(options.form).toString();
      } else if (options.raw) {
        if (options.raw.contentType) headers["content-type"] = options.raw.contentType;
        body = options.raw.body;
      }
      const response = await fetch(options.url ?? `${origin}${path}`, { method, headers, ...(body !== undefined ? { body } : {}), ...(options.signal ? { signal: options.signal } : {}) });
      return toOutcome(response);
    };
    const gql = async (url: string, query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}, extra: Record<string, unknown> = {}) =>
      call("POST", "", { url, headers, json: { query, ...(variables ? { variables } : {}), ...extra } });

    const consent = async (client: Client, person: string, scopes: readonly string[], country = "MX") => {
      const answer = await call("POST", "/v1/auth/consent", {
        headers: client.basic,
        json: { client_id: client.id, user_external_id: person, scopes, country, consent_text_version: CONSENT_TEXT_VERSION },
      });
      if (answer.status !== 200 && answer.status !== 202) throw new Error(`consent for ${client.id}/${person}: ${answer.status} ${JSON.stringify(answer.body)}`);
      return answer.body as { access_token: string; refresh_token: string; consent_id: string };
    };
    const clientToken = async (client: Client) => {
      const answer = await call("POST", "/v1/auth/token", { headers: client.basic, form: { grant_type: "client_credentials" } });
      if (answer.status !== 200) throw new Error(`client token of ${client.id}: ${answer.status} ${JSON.stringify(answer.body)}`);
      return (answer.body as { access_token: string }).access_token;
    };

    const a = await consent(demo, people.a, USER_SCOPES);
    const b = await consent(demo, people.b, USER_SCOPES);
    // The live client asks person B; the person authorises it in the app; the client exchanges it.
    const asked = await consent(clients.live, people.b, ["debts.read", "wellness.read", "alerts.read"]);
    const authorised = await call("POST", `/v1/consents/${asked.consent_id}/authorise`, { headers: { "x-kamina-app-key": env.APP_API_KEY! } });
    if (authorised.status !== 200) throw new Error(`authorising the live consent: ${authorised.status} ${JSON.stringify(authorised.body)}`);
    const exchanged = await call("POST", "/v1/auth/token", { headers: clients.live.basic, form: { grant_type: "urn:kamina:consent", consent_id: asked.consent_id } });
    if (exchanged.status !== 200) throw new Error(`exchanging the live consent: ${exchanged.status} ${JSON.stringify(exchanged.body)}`);
    const doomed = await consent(clients.doomed, people.a, USER_SCOPES);

    const tokens: SecurityContext["tokens"] = {
      a: a.access_token,
      aRefresh: a.refresh_token,
      aConsentId: a.consent_id,
      aDebtsOnly: (await consent(demo, people.a, ["debts.read"])).access_token,
      aWellnessOnly: (await consent(demo, people.a, ["wellness.read"])).access_token,
      b: b.access_token,
      bConsentId: b.consent_id,
      demoClient: await clientToken(demo),
      second: await clientToken(clients.second),
      live: await clientToken(clients.live),
      liveConsent: (exchanged.body as { access_token: string }).access_token,
      liveConsentId: asked.consent_id,
      doomedConsent: doomed.access_token,
      doomedRefresh: doomed.refresh_token,
      doomedClient: await clientToken(clients.doomed),
      rlRequests: await clientToken(clients.rlRequests),
      rlCost: await clientToken(clients.rlCost),
    };

    const probe = await gql(kamina.subgraphs.wellness!.url, "{ __typename }", undefined, { authorization: `Bearer ${tokens.a}` });
    const subgraphsGated = probe.code === "GATEWAY_SIGNATURE_REQUIRED";

    const running = kamina;
    const connection = sql;
    const extra: (() => Promise<void>)[] = [];
    return {
      kamina: running,
      prisma,
      sql: connection,
      origin,
      graphqlUrl: running.graphqlUrl,
      subgraphUrls: Object.fromEntries(Object.entries(running.subgraphs).map(([name, subgraph]) => [name, subgraph!.url])),
      env,
      subgraphsGated,
      people,
      clients,
      tokens,
      gql,
      rest: call,
      onStop: (stop) => extra.push(stop),
      stop: async () => {
        for (const stopExtra of extra) await stopExtra().catch(() => undefined);
        await connection.end().catch(() => undefined);
        await running.stop().catch(() => undefined);
        await database.drop();
      },
    };
  } catch (error) {
    await sql?.end().catch(() => undefined);
    await kamina?.stop().catch(() => undefined);
    await database.drop().catch(() => undefined);
    throw error;
  }
}
