// Webhook SSRF (issue 16, cause 1): every private, reserved or embedded-IPv4 form of an address is
// refused at registration for a live client, and at send time the dispatcher checks the resolved
// address again (DNS rebinding) and never follows a redirect.
import { randomBytes } from "node:crypto";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createTcpServer, type AddressInfo } from "node:net";
import { WebhookEndpoints } from "../../../gateway/webhooks/webhook-endpoints.ts";
import { createLogger } from "../../../platform/logger.ts";
import type { ResolvedAddress, Resolver } from "../../../platform/net/public-address.ts";
import { WebhookDispatcher } from "../../../realtime/webhooks/webhook-dispatcher.ts";
import { CONSENT_TEXT_VERSION } from "../../../testkit/tokens.ts";
import type { Attack, Expectation } from "../attack.ts";
import type { SecurityContext } from "../context.ts";

const PUBLIC_V4 = "93.184.215.14";

/** The forms and their relatives (test/webhook-ssrf.test.ts keeps the same list for the policy). */
const REFUSED_URLS: [url: string, why: string][] = [
  ["https://[::ffff:169.254.169.254]/", "IPv4-mapped link-local (cloud metadata)"],
  ["https://[::ffff:a9fe:a9fe]/", "IPv4-mapped, hex spelling"],
  ["https://[::ffff:127.0.0.1]/", "IPv4-mapped loopback"],
  ["https://[0:0:0:0:0:ffff:127.0.0.1]/", "IPv4-mapped loopback, long form"],
  ["https://[::ffff:10.0.0.1]/", "IPv4-mapped private"],
  ["https://[::127.0.0.1]/", "IPv4-compatible loopback"],
  ["https://[::169.254.169.254]/", "IPv4-compatible link-local"],
  ["https://[::ffff:0:7f00:1]/", "IPv4-translated loopback"],
  ["https://[64:ff9b::a9fe:a9fe]/", "NAT64 of link-local"],
  ["https://[64:ff9b::7f00:1]/", "NAT64 of loopback"],
  ["https://[64:ff9b::10.0.0.1]/", "NAT64 of private, dotted"],
  ["https://[64:ff9b:1::808:808]/", "NAT64 local-use prefix"],
  ["https://[2002:7f00:1::1]/", "6to4 of 127.0.0.1"],
  ["https://[2002:a9fe:a9fe::1]/", "6to4 of 169.254.169.254"],
  ["https://[2002:c0a8:101::1]/", "6to4 of 192.168.1.1"],
  ["https://[2001:0:808:808::f5ff:fffe]/", "Teredo, private client"],
  ["https://[2001:0:a00:1::f7f7:f7f7]/", "Teredo, private server"],
  ["https://[::1]/", "IPv6 loopback"],
  ["https://[::]/", "IPv6 unspecified"],
  ["https://[fe80::1]/", "link-local"],
  ["https://[fe90::1]/", "link-local beyond fe80"],
  ["https://[febf::1]/", "top of fe80::/10"],
  ["https://[fec0::1]/", "site-local"],
  ["https://[feff::1]/", "site-local, top"],
  ["https://[fd00::1]/", "unique local"],
  ["https://[fc00::1]/", "unique local, fc"],
  ["https://[ff02::1]/", "multicast"],
  ["https://[2001:db8::1]/", "documentation"],
  ["https://[100::1]/", "discard-only"],
  ["https://0.0.0.0/", "this network"],
  ["https://0/", "zero, one number"],
  ["https://0.1.2.3/", "0.0.0.0/8"],
  ["https://127.0.0.1/", "loopback"],
  ["https://127.0.0.1:4000/graphql", "the gateway itself"],
  ["https://127.255.255.254/", "loopback, top"],
  ["https://10.1.2.3/", "private"],
  ["https://172.16.0.1/", "private"],
  ["https://192.168.1.1/", "private"],
  ["https://169.254.169.254/latest/meta-data/", "cloud metadata"],
  ["https://100.64.0.1/", "CGNAT"],
  ["https://198.18.0.1/", "benchmarking"],
  ["https://224.0.0.1/", "multicast"],
  ["https://255.255.255.255/", "broadcast"],
  ["https://240.0.0.1/", "reserved"],
  ["https://192.0.0.8/", "IETF protocol assignments"],
  ["https://192.0.2.10/", "TEST-NET-1"],
  ["https://2852039166/", "decimal 169.254.169.254"],
  ["https://2130706433/", "decimal 127.0.0.1"],
  ["https://0xa9fea9fe/", "hex 169.254.169.254"],
  ["https://0x7f000001/", "hex 127.0.0.1"],
  ["https://0x7f.1/", "hex, short form"],
  ["https://0177.0.0.1/", "octal 127.0.0.1"],
  ["https://017700000001/", "octal, one number"],
  ["https://127.1/", "short form"],
  ["https://127.000.000.001/", "zero-padded"],
  ["https://localhost/hook", "localhost"],
  ["https://LOCALHOST./hook", "localhost, upper case with a trailing dot"],
  ["https://metadata.google.internal/", "a name no public DNS answers"],
];

const OTHER_FORMS: [url: string, why: string, message: RegExp][] = [
  [`http://${PUBLIC_V4}/hook`, "plain http for a live client", /https/],
  [`https://user:pass@${PUBLIC_V4}/hook`, "credentials in the URL", /credentials|user/i],
  ["ftp://127.0.0.1/hook", "ftp", /https/],
  ["file:///etc/passwd", "file", /https|resolve/],
  ["gopher://127.0.0.1:6379/_FLUSHALL", "gopher to Redis", /https/],
  ["javascript:alert(1)", "javascript", /https|URL|resolve/],
  ["not a url", "not a URL", /URL|https/],
];

const refusedRegistration: Expectation = { status: 400, code: "BAD_USER_INPUT", means: "400, nothing stored" };

const registration: Attack[] = [
  ...REFUSED_URLS.map(([url, why]): Attack => ({
    id: `webhook-ssrf/${url}`,
    class: "webhook-ssrf",
    description: `the live client registers ${url} (${why})`,
    run: (ctx) => ctx.rest("POST", "/v1/webhooks", { headers: ctx.clients.live.basic, json: { url, events: ["alert.created"] } }),
    expect: { ...refusedRegistration, check: (o) => (/public addresses|does not resolve/.test(String((o.body as { message?: string }).message)) ? undefined : `message: ${(o.body as { message?: string }).message}`) },
  })),
  ...OTHER_FORMS.map(([url, why, message]): Attack => ({
    id: `webhook-ssrf/${why.replace(/\s+/g, "-")}`,
    class: "webhook-ssrf",
    description: `the live client registers ${url} (${why})`,
    run: (ctx) => ctx.rest("POST", "/v1/webhooks", { headers: ctx.clients.live.basic, json: { url, events: ["alert.created"] } }),
    expect: { ...refusedRegistration, check: (o) => (message.test(String((o.body as { message?: string }).message)) ? undefined : `message: ${(o.body as { message?: string }).message}`) },
  })),
  ...["https://[::ffff:169.254.169.254]/", "https://169.254.169.254/", "http://[fd00::1]/"].map(
    (url): Attack => ({
      id: `webhook-ssrf/sandbox-${url}`,
      class: "webhook-ssrf",
      description: `the sandbox client (which may use loopback) registers ${url}`,
      run: (ctx) => ctx.rest("POST", "/v1/webhooks", { headers: ctx.clients.second.basic, json: { url, events: ["alert.created"] } }),
      expect: refusedRegistration,
    }),
  ),
  {
    id: "webhook-ssrf/nothing-stored",
    class: "webhook-ssrf",
    description: "after every refused registration: the live client holds no webhook endpoint",
    phase: "serial",
    run: async (ctx) => {
      const count = await ctx.prisma.webhookEndpoint.count({ where: { clientId: ctx.clients.live.id } });
      return { status: count === 0 ? 200 : 201, code: null, body: { endpoints: count } };
    },
    expect: { status: 200, code: null, means: "no endpoint stored" },
  },
];

function fakeDns(answers: Record<string, string[]>): Resolver {
  return async (hostname: string): Promise<ResolvedAddress[]> => {
    const found = answers[hostname];
    if (!found) throw Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return found.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
}

async function listen(server: Server | import("node:net").Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

/** Queues one delivery of a new alert to `endpointId` and runs a dispatcher of the attack's own (with its DNS) until it has an outcome. */
async function deliverOnce(ctx: SecurityContext, endpointId: string, resolve: Resolver) {
  const prisma = ctx.prisma;
  // Person B consented to both the live client (alerts.read among the scopes) and, here, the second sandbox client.
  const alertId = `alr_sec_${randomBytes(6).toString("hex")}`;
  await prisma.alert.create({ data: { id: alertId, userId: ctx.people.b, country: "MX", type: "expense_spike_food", riskBand: "RED", severity: "HIGH", contributingFactors: ["missed_due_date"], suggestedAction: "soft_outreach_v2" } });
  const event = await prisma.outboxEvent.create({ data: { topic: "alert.created", aggregateId: alertId, country: "MX", payload: { alertId } } });
  const id = `whd_${randomBytes(8).toString("hex")}`;
  await prisma.webhookDelivery.create({ data: { id, endpointId, eventId: event.id, nextAttemptAt: new Date() } });
  const config = ctx.kamina.gateway!.auth.config;
  const settings = { ...config.realtime.webhooks, pollMs: 50, timeoutMs: 2_000, backoffBaseMs: 60_000 };
  const dispatcher = new WebhookDispatcher(prisma, settings, config.tokens, createLogger("silent"), resolve);
  try {
    await dispatcher.runOnce();
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      const row = await prisma.webhookDelivery.findUniqueOrThrow({ where: { id } });
      if (row.leasedUntil === null && row.attempts > 0) return row;
      await new Promise((done) => setTimeout(done, 25));
    }
    return prisma.webhookDelivery.findUniqueOrThrow({ where: { id } });
  } finally {
    await dispatcher.stop();
  }
}

const sending: Attack[] = [
  {
    id: "webhook-ssrf/dns-rebinding",
    class: "webhook-ssrf",
    description: "a live endpoint's name is public at registration and 127.0.0.1 at send time (DNS rebinding)",
    phase: "serial",
    run: async (ctx) => {
      let connections = 0;
      const listener = createTcpServer((socket) => {
        connections++;
        socket.destroy();
      });
      const port = await listen(listener);
      try {
        const client = await ctx.prisma.partnerClient.findUniqueOrThrow({ where: { id: ctx.clients.live.id } });
        const endpoints = new WebhookEndpoints(ctx.prisma, ctx.kamina.gateway!.auth.config.tokens, 0, fakeDns({ "rebind.example": [PUBLIC_V4] }));
        const endpoint = await endpoints.create(client, `https://rebind.example:${port}/hooks`, ["alert.created"]);
        const row = await deliverOnce(ctx, endpoint.id, fakeDns({ "rebind.example": ["127.0.0.1", "::ffff:127.0.0.1"] }));
        await ctx.prisma.webhookEndpoint.delete({ where: { id: endpoint.id } }).catch(() => undefined);
        return { status: connections === 0 ? 0 : 1, code: row.status, body: { connections, lastError: row.lastError }, note: `${connections} connections` };
      } finally {
        listener.close();
      }
    },
    expect: {
      status: 0,
      code: "FAILED",
      means: "no connection to the loopback listener; the delivery failed with the address refused",
      check: (o) => (/address is refused/.test(String((o.body as { lastError?: string }).lastError)) ? undefined : `lastError ${(o.body as { lastError?: string }).lastError}`),
    },
  },
  {
    id: "webhook-ssrf/redirect",
    class: "webhook-ssrf",
    description: "an endpoint answers 307 to the gateway's own /healthz: the redirect is not followed",
    phase: "serial",
    run: async (ctx) => {
      const paths: string[] = [];
      const server = createHttpServer((request, response) => {
        paths.push(request.url ?? "");
        request.resume();
        response.writeHead(307, { location: `${ctx.origin}/healthz` }).end();
      });
      const port = await listen(server);
      try {
        const client = await ctx.prisma.partnerClient.findUniqueOrThrow({ where: { id: ctx.clients.second.id } });
        const consented = await ctx.rest("POST", "/v1/auth/consent", {
          headers: ctx.clients.second.basic,
          json: { client_id: ctx.clients.second.id, user_external_id: ctx.people.b, scopes: ["alerts.read"], country: "MX", consent_text_version: CONSENT_TEXT_VERSION },
        });
        if (consented.status !== 200) throw new Error(`consent: ${consented.status}`);
        const endpoints = new WebhookEndpoints(ctx.prisma, ctx.kamina.gateway!.auth.config.tokens, 0);
        const endpoint = await endpoints.create(client, `http://127.0.0.1:${port}/moved`, ["alert.created"]);
        const row = await deliverOnce(ctx, endpoint.id, fakeDns({}));
        await ctx.prisma.webhookEndpoint.delete({ where: { id: endpoint.id } }).catch(() => undefined);
        return { status: row.lastStatusCode ?? 0, code: row.status, body: { paths, lastError: row.lastError } };
      } finally {
        server.close();
      }
    },
    expect: { status: 307, code: "FAILED", means: "the 307 is the answer, a failure; nothing went to its target", check: (o) => (JSON.stringify((o.body as { paths: string[] }).paths) === '["/moved"]' ? undefined : `paths ${JSON.stringify((o.body as { paths: string[] }).paths)}`) },
  },
];

export const attacks: Attack[] = [...registration, ...sending];
