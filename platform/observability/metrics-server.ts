import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { listen } from "../http/listen.ts";
import type { Logger } from "../logger.ts";
import type { KaminaMetrics } from "./metrics.ts";

export interface MetricsServerOptions {
  metrics: KaminaMetrics;
  host: string;
  port: number;
  /** When set, /metrics needs `Authorization: Bearer <token>`. */
  token: string | undefined;
  /** /healthz: the process is up and has started. */
  live: () => boolean;
  /** /readyz: it can serve, its database answering. */
  ready: () => Promise<boolean>;
  logger: Logger;
}

export interface RunningMetricsServer {
  origin: string;
  close(): Promise<void>;
}

/**
 * The operators' port (METRICS_PORT): Prometheus's /metrics, and /healthz and /readyz for the
 * probes of a process with no API port (the realtime workers). Apart from the API's port so that
 * partners never see it; a NetworkPolicy or METRICS_TOKEN decides who else may.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<RunningMetricsServer> {
  const expected = options.token === undefined ? undefined : digest(options.token);
  const server = createServer((request, response) => {
    answer(request, response).catch((error: unknown) => {
      options.logger.error({ err: error }, "metrics listener failed to answer");
      if (!response.headersSent) send(response, 500, "text/plain", "internal error\n");
      else response.destroy();
    });
  });
  async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    if (request.method !== "GET" && request.method !== "HEAD") return send(response, 405, "text/plain", "GET only\n");
    if (path === "/healthz") return options.live() ? send(response, 200, "application/json", '{"status":"ok"}') : send(response, 503, "application/json", '{"status":"starting"}');
    if (path === "/readyz") return (await options.ready()) ? send(response, 200, "application/json", '{"status":"ready"}') : send(response, 503, "application/json", '{"status":"unavailable"}');
    if (path !== "/metrics") return send(response, 404, "text/plain", "not found\n");
    if (expected !== undefined && !authorised(request.headers.authorization, expected)) {
      response.setHeader("www-authenticate", 'Bearer realm="metrics"');
      return send(response, 401, "text/plain", "unauthorised\n");
    }
    send(response, 200, options.metrics.registry.contentType, await options.metrics.registry.metrics());
  }
  const origin = await listen(server, options.port, options.host);
  return {
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

function authorised(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer (\S+)$/.exec(header ?? "");
  return match !== null && timingSafeEqual(digest(match[1]!), expected);
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { "content-type": contentType, "cache-control": "no-store", "content-length": Buffer.byteLength(body) });
  response.end(body);
}
