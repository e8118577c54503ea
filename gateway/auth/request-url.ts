import type { IncomingMessage } from "node:http";
import { TLSSocket } from "node:tls";

/**
 * The URL a client called, without query, as a DPoP proof names it in `htu` (RFC 9449 §4.3).
 * With PUBLIC_URL configured, that URL plus the request path: the only safe answer behind a
 * proxy, which may rewrite Host and terminate TLS. Without it, this server's own scheme and
 * the request's Host header. X-Forwarded-Host and -Proto are never read: any client can send
 * them, and trusting them would let a proof made for another server pass here.
 */
export function requestUrl(publicUrl: string | undefined, request: IncomingMessage): string {
  const raw = request.url ?? "/";
  const query = raw.indexOf("?");
  const path = query === -1 ? raw : raw.slice(0, query);
  if (publicUrl !== undefined) return publicUrl + path;
  const scheme = request.socket instanceof TLSSocket ? "https" : "http";
  // No Host, or an odd one, yields a URL no proof matches.
  return `${scheme}://${request.headers.host ?? ""}${path}`;
}
