// A partner's webhook receiver on loopback for the webhook tests: records every POST per path
// and behaves as each path's script says (statuses, a slow answer, no answer at all), and the
// signature check a partner writes from the Standard Webhooks specification alone.
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  headers: Record<string, string>;
  body: string;
  /** When it arrived (ms since the epoch). */
  at: number;
  /** 1 for the first request with this `webhook-id` on this path, 2 for the next, ... */
  attempt: number;
}

/** How a path answers; no script means 200 at once. */
export interface Script {
  /** Statuses answered in order, the last one repeating (default 200). */
  statuses?: number[];
  /** Hold the answer this long (ms)... */
  delayMs?: number;
  /** ...on the first `slowAttempts` requests of each `webhook-id` only (default: on every request). */
  slowAttempts?: number;
  /** Take the request and never answer (until the sender closes the connection or the receiver stops). */
  hang?: boolean;
}

export class Receiver {
  readonly received = new Map<string, Received[]>();
  readonly script = new Map<string, Script>();
  private server: Server | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  origin = "";
  port = 0;

  /** Listens on `port` of 127.0.0.1 (0: any free port). */
  async start(port = 0): Promise<void> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const path = request.url ?? "/";
        const headers = request.headers as Record<string, string>;
        const list = this.received.get(path) ?? [];
        const attempt = list.filter((earlier) => earlier.headers["webhook-id"] === headers["webhook-id"]).length + 1;
        list.push({ headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now(), attempt });
        this.received.set(path, list);
        this.answer(path, attempt, response);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    this.origin = `http://127.0.0.1:${this.port}`;
  }

  private answer(path: string, attempt: number, response: ServerResponse): void {
    const script = this.script.get(path) ?? {};
    if (script.hang) return;
    const statuses = script.statuses ?? [];
    const status = statuses.length > 1 ? statuses.shift()! : (statuses[0] ?? 200);
    const delayMs = script.delayMs !== undefined && attempt <= (script.slowAttempts ?? Infinity) ? script.delayMs : 0;
    const send = () => {
      if (!response.destroyed) response.writeHead(status).end();
    };
    if (delayMs === 0) return send();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      send();
    }, delayMs);
    this.timers.add(timer);
  }

  /** Waits until `path` has received `count` requests (answered or not) and returns them all. */
  async waitFor(path: string, count: number, timeoutMs = 10_000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    while ((this.received.get(path)?.length ?? 0) < count) {
      if (Date.now() > deadline) throw new Error(`${path} got ${this.received.get(path)?.length ?? 0} of ${count} deliveries`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.received.get(path)!;
  }

  /** The distinct `webhook-id`s `path` has received. */
  ids(path: string): Set<string> {
    return new Set((this.received.get(path) ?? []).map((delivery) => delivery.headers["webhook-id"]!));
  }

  /** Stops listening and drops every open connection, held answers included. Safe to call more than once. */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** What a partner writes from the Standard Webhooks spec alone, without our code. */
export function independentlyVerified(secret: string, delivery: Pick<Received, "headers" | "body">): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const content = `${delivery.headers["webhook-id"]}.${delivery.headers["webhook-timestamp"]}.${delivery.body}`;
  const expected = createHmac("sha256", key).update(content).digest();
  return (delivery.headers["webhook-signature"] ?? "").split(" ").some((entry) => {
    const [version, signature] = entry.split(",");
    const given = Buffer.from(signature ?? "", "base64");
    return version === "v1" && given.length === expected.length && timingSafeEqual(given, expected);
  });
}
