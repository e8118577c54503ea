// bench:realtime's readings of the server child (its probe over a Unix socket) and of the database.
import { get as httpGet } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import type { ServerProbe } from "./realtime-server.ts";

/** GET `path` from the server child's probe (bench/support/realtime-server.ts) over its Unix socket. */
export function askProbe<T>(socketPath: string, path: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const request = httpGet({ socketPath, path, timeout: 30_000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")) as T);
        } catch (error) {
          reject(error);
        }
      });
      response.on("error", reject);
    });
    request.on("timeout", () => request.destroy(new Error(`the probe did not answer ${path} in 30 s`)));
    request.on("error", reject);
  });
}

/** Transactions committed (every autocommitted statement is one) and rows fetched in the bench's database so far. */
export async function databaseCounters(sql: pg.Client): Promise<{ commits: number; fetched: number }> {
  // The statistics collector flushes at most once a second; a pause makes the reading current.
  await sleep(1_200);
  const { rows } = await sql.query<{ commits: string; fetched: string }>(
    "SELECT xact_commit AS commits, tup_fetched AS fetched FROM pg_stat_database WHERE datname = current_database()",
  );
  return { commits: Number(rows[0]?.commits ?? 0), fetched: Number(rows[0]?.fetched ?? 0) };
}

/** Per alert, ms from its creation (the publisher's clock) to the relay's published_at stamp (the database's clock, same machine). */
export async function relayDelays(sql: pg.Client, alertIds: readonly string[]): Promise<Map<string, number>> {
  const { rows } = await sql.query<{ id: string; ms: number | null }>(
    "SELECT aggregate_id AS id, (extract(epoch FROM published_at - created_at) * 1000)::float8 AS ms FROM outbox_event WHERE aggregate_id = ANY($1::text[])",
    [alertIds],
  );
  return new Map(rows.filter((row): row is { id: string; ms: number } => row.ms !== null).map((row) => [row.id, row.ms]));
}

export async function waitForSubscribers(probe: () => Promise<ServerProbe>, target: () => number, timeoutMs: number): Promise<ServerProbe> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  let lastChange = Date.now();
  while (last.subscribers < target() && Date.now() < deadline) {
    await sleep(250);
    const now = await probe();
    if (now.subscribers !== last.subscribers) lastChange = Date.now();
    last = now;
    if (Date.now() - lastChange > 30_000) break;
  }
  return last;
}

export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check()) && Date.now() < deadline) await sleep(250);
}
