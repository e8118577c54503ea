// One webhook POST over node:http(s), connected to the addresses the address policy passed
// (platform/net/public-address.ts) rather than to whatever DNS answers at connect time. TLS SNI,
// certificate checks and the Host header still use the URL's host name. Redirects are never
// followed (node:http does not follow them): a 3xx is the answer.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { pinnedLookup, type ResolvedAddress } from "../../platform/net/public-address.ts";

export interface PinnedTarget {
  url: URL;
  hostname: string;
  addresses: ResolvedAddress[];
}

export class WebhookTimeout extends Error {}

/**
 * Kept-alive connections, one pool for live endpoints and one for sandbox ones: a pool is keyed by
 * host and port, so a connection a sandbox client's loopback endpoint opened is never reused for a
 * live client's endpoint of the same name.
 */
export class WebhookAgents {
  private readonly pools = {
    live: { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) },
    sandbox: { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) },
  };

  agent(sandbox: boolean, protocol: string): HttpAgent {
    const pool = sandbox ? this.pools.sandbox : this.pools.live;
    return protocol === "https:" ? pool.https : pool.http;
  }

  destroy(): void {
    for (const pool of Object.values(this.pools)) {
      pool.http.destroy();
      pool.https.destroy();
    }
  }
}

/** POSTs `body` and resolves with the status; the answer's body is drained, not read. Throws WebhookTimeout after `timeoutMs`. */
export function postPinned(
  target: PinnedTarget,
  headers: Record<string, string>,
  body: string,
  options: { timeoutMs: number; agent: HttpAgent },
): Promise<number> {
  const { url } = target;
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise<number>((resolve, reject) => {
    const request = send(
      {
        protocol: url.protocol,
        hostname: target.hostname,
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: "POST",
        headers: { ...headers, "content-length": Buffer.byteLength(body) },
        agent: options.agent,
        lookup: pinnedLookup(target.addresses),
      },
      (response: IncomingMessage) => {
        // The timer also bounds draining the answer; once the answer has ended the connection goes back to the pool.
        response.on("close", () => clearTimeout(timer));
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    const timer = setTimeout(() => request.destroy(new WebhookTimeout(`No answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    request.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.end(body);
  });
}
