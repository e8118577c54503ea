// Requests signed as the gateway signs its subgraph fetches (platform/auth/gateway-signature.ts):
// for tests that exercise a subgraph's own checks (token, scopes, limits) behind the gateway.
// A request without this signature is refused at a subgraph port before anything else runs.
import { GATEWAY_SIGNATURE_HEADER, GatewaySignature } from "../platform/auth/gateway-signature.ts";
import type { RunningKamina } from "../runtime/app.ts";

/** The signature header for one request, keyed with the running deployment's key-encryption key. */
export function gatewaySignatureHeader(kamina: RunningKamina, request: { url: string; body: string; method?: string }, now = Date.now()): Record<string, string> {
  const signature = new GatewaySignature(kamina.gateway!.auth.config.tokens.keyEncryptionKey);
  return { [GATEWAY_SIGNATURE_HEADER]: signature.sign({ method: request.method ?? "POST", target: request.url, body: request.body }, now) };
}

export interface SignedAnswer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: { data?: Record<string, any> | null; errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[]; extensions?: Record<string, unknown> };
}

/** Posts an operation to a subgraph port the way the gateway does: signed, with the caller's headers. */
export async function postAsGateway(kamina: RunningKamina, url: string, query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}): Promise<SignedAnswer> {
  const body = JSON.stringify({ query, variables });
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers, ...gatewaySignatureHeader(kamina, { url, body }) },
    body,
  });
  return { status: response.status, body: (await response.json()) as SignedAnswer["body"] };
}
