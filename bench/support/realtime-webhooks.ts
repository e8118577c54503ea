// bench:realtime's webhook phase: endpoints registered through the API on a loopback receiver,
// a burst of alerts, deliveries per second and their latency.
import type pg from "pg";
import { setTimeout as sleep } from "node:timers/promises";
import type { ServerChild } from "../../testkit/server-child.ts";
import type { AlertPublisher } from "./alert-publisher.ts";
import { DEMO_CLIENT_ID } from "./auth.ts";
import type { BenchPerson } from "./consent-tokens.ts";
import type { Cleanups } from "./lifecycle.ts";
import { CpuWindow, fixed, loadAverage, percentile, spread } from "./realtime-figures.ts";
import type { Options } from "./realtime-options.ts";
import { databaseCounters } from "./realtime-probe.ts";
import type { WebhookFigures } from "./realtime-report.ts";
import type { ServerProbe } from "./realtime-server.ts";
import { WebhookReceiver } from "./webhook-receiver.ts";

const log = (message: string) => console.log(`[bench] ${message}`);

/** `sandboxClientSecret`: the sandbox client's, which registers the endpoints; the receiver is stopped by `cleanups`. */
export async function measureWebhooks(
  options: Options,
  sandboxClientSecret: string,
  cleanups: Cleanups,
  child: ServerChild,
  sql: pg.Client,
  publisher: AlertPublisher,
  everyone: readonly BenchPerson[],
  probe: (reset?: boolean) => Promise<ServerProbe>,
): Promise<WebhookFigures> {
  const receiver = new WebhookReceiver();
  await receiver.start();
  cleanups.add("the webhook receiver", () => receiver.stop());
  const origin = new URL(child.gatewayUrl).origin;
  const basic = `Basic ${Buffer.from(`${DEMO_CLIENT_ID}:${sandboxClientSecret}`, "utf8").toString("base64")}`;
  for (let index = 0; index < options.endpoints; index++) {
    const path = `/hooks/${index}`;
    const response = await fetch(`${origin}/v1/webhooks`, {
      method: "POST",
      headers: { authorization: basic, "content-type": "application/json" },
      body: JSON.stringify({ url: `${receiver.origin}${path}`, events: ["alert.created"] }),
    });
    const body = (await response.json()) as { secret?: string };
    if (response.status !== 201 || !body.secret) throw new Error(`POST /v1/webhooks answered ${response.status}: ${JSON.stringify(body).slice(0, 300)}`);
    receiver.secrets.set(path, body.secret);
  }
  const expected = options.webhookEvents * options.endpoints;
  log(`webhooks: ${options.endpoints} endpoints registered through POST /v1/webhooks; raising ${options.webhookEvents} alerts in one burst (${expected} deliveries expected)...`);
  const countersBefore = await databaseCounters(sql);
  await probe(true);
  const cpu = new CpuWindow(child.pid);
  const started = Date.now();
  const batch = 100;
  for (let offset = 0; offset < options.webhookEvents; offset += batch) {
    const people = Array.from({ length: Math.min(batch, options.webhookEvents - offset) }, (_, index) => everyone[(offset + index) % everyone.length]!);
    await publisher.publish(people);
  }
  const raisedIn = Date.now() - started;
  const deadline = Date.now() + 30_000 + (expected / 20) * 1000;
  let lastCount = -1;
  let lastChange = Date.now();
  while (receiver.arrivals.length < expected && Date.now() < deadline) {
    await sleep(200);
    if (receiver.arrivals.length !== lastCount) {
      lastCount = receiver.arrivals.length;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > 30_000) break;
  }
  const cpuRead = cpu.read();
  const after = await probe(true);
  const countersAfter = await databaseCounters(sql);
  const arrivals = receiver.arrivals;
  const unique = new Set(arrivals.map((arrival) => `${arrival.path} ${arrival.webhookId}`)).size;
  const times = arrivals.map((arrival) => arrival.at).sort((a, b) => a - b);
  const last = times.at(-1) ?? started;
  const seconds = (last - started) / 1000;
  const from = percentile(times, 10);
  const to = percentile(times, 90);
  const steady = to > from ? (0.8 * times.length) / ((to - from) / 1000) : Number.NaN;
  const { rows } = await sql.query<{ status: string; count: string }>("SELECT status::text AS status, count(*) AS count FROM webhook_delivery GROUP BY status ORDER BY status");
  const figures: WebhookFigures = {
    events: options.webhookEvents,
    endpoints: options.endpoints,
    expected,
    received: arrivals.length,
    unique,
    unverified: arrivals.filter((arrival) => !arrival.verified).length,
    seconds,
    perSecond: arrivals.length / seconds,
    steadyPerSecond: steady,
    latencyMs: spread(arrivals.map((arrival) => arrival.at - arrival.createdAt)),
    statuses: Object.fromEntries(rows.map((row) => [row.status, Number(row.count)])),
    transactionsPerDelivery: (countersAfter.commits - countersBefore.commits) / Math.max(1, arrivals.length),
    cpu: cpuRead,
    loopDelayMs: after.loopDelayMs,
    loadAverage: loadAverage(),
  };
  log(
    `  webhooks: alerts committed in ${raisedIn} ms; ${figures.received} of ${expected} deliveries in ${fixed(seconds, 1)} s = ${fixed(figures.perSecond)}/s (steady ${fixed(steady)}/s), ` +
      `latency p50 ${fixed(figures.latencyMs.p50)} ms, p99 ${fixed(figures.latencyMs.p99)} ms; rows ${JSON.stringify(figures.statuses)}; load average ${figures.loadAverage}`,
  );
  return figures;
}
