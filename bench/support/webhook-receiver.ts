// A partner's webhook receiver on loopback: answers 204 at once, checks each delivery's
// Standard Webhooks signature (one HMAC-SHA256) with the endpoint's secret, and notes when it
// arrived. The path names the endpoint (`/hooks/<n>`).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { verifyWebhook } from "../../realtime/webhooks/webhook-signature.ts";

export interface WebhookArrival {
  path: string;
  webhookId: string;
  /** `Date.now()` on arrival. */
  at: number;
  /** The alert's `created_at` from the payload, ms since the epoch. */
  createdAt: number;
  verified: boolean;
}

export class WebhookReceiver {
  readonly arrivals: WebhookArrival[] = [];
  /** The secret of each endpoint path, to verify signatures with. */
  readonly secrets = new Map<string, string>();
  private server: Server | undefined;
  origin = "";

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const at = Date.now();
        response.writeHead(204).end();
        const path = request.url ?? "/";
        const body = Buffer.concat(chunks).toString("utf8");
        const headers = request.headers as Record<string, string | undefined>;
        const secret = this.secrets.get(path);
        let createdAt = Number.NaN;
        try {
          createdAt = Date.parse((JSON.parse(body) as { created_at?: string }).created_at ?? "");
        } catch {
          // counted as unverified below
        }
        this.arrivals.push({
          path,
          webhookId: headers["webhook-id"] ?? "",
          at,
          createdAt,
          verified: secret !== undefined && verifyWebhook(secret, headers, body).ok && Number.isFinite(createdAt),
        });
      });
    });
    this.server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }
}
