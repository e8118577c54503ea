// Standard Webhooks verification (https://www.standardwebhooks.com) for kamina-graph's
// deliveries, on WebCrypto alone: Node 20+, Deno, Bun, browsers and edge runtimes.
// The signed content is `<webhook-id>.<webhook-timestamp>.<raw body>`, HMAC-SHA256 keyed with the
// base64 bytes after `whsec_`; `webhook-signature` lists `v1,<base64>` signatures, space-separated
// (two while a secret rotates).

/** How far `webhook-timestamp` may drift from now before a delivery is refused as a replay. */
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

/**
 * The body of an `alert.created` delivery (parse it after verifyWebhook says ok): the brief's
 * keys, the message id and time, and the alert's id, type and severity to act on it
 * (acknowledgeAlert / resolveAlert need alerts.write). Ignore keys you do not know.
 */
export interface AlertCreatedWebhook {
  /** The message id, also the `webhook-id` header: the same on every retry. */
  id: string;
  event: "alert.created";
  /** When the alert was raised (ISO 8601). */
  created_at: string;
  alert_id: string;
  /** missed_due_date, expense_spike_food, dti_above_limit, income_drop, ... */
  type: string;
  severity: "low" | "medium" | "high" | "critical";
  /** The person, as your client knows them (your pairwise id). */
  user_id: string;
  /** Your own customer id (and the person's bureau id) for the person, once they linked them in the Kamina app; null otherwise. */
  partner_ref: { customer_id: string; bureau_id: string | null } | null;
  risk_band: "green" | "amber" | "red";
  contributing_factors: string[];
  suggested_action: string;
}

export type WebhookHeaders = { "webhook-id"?: string | null; "webhook-timestamp"?: string | null; "webhook-signature"?: string | null };
export type VerifyResult = { ok: true } | { ok: false; reason: string };

function base64ToBytes(value: string): Uint8Array {
  const binary = atob(value);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}

/**
 * Verifies one delivery: the headers (a `Headers` object or a plain record) and the raw body
 * exactly as received (verify before parsing it). Signature first, then the timestamp tolerance.
 */
export async function verifyWebhook(
  secret: string,
  headers: Headers | WebhookHeaders,
  body: string,
  options: { nowSeconds?: number; toleranceSeconds?: number } = {},
): Promise<VerifyResult> {
  const header = (name: keyof WebhookHeaders) => (headers instanceof Headers ? headers.get(name) : headers[name]) ?? undefined;
  const id = header("webhook-id");
  const timestampText = header("webhook-timestamp");
  const signatures = header("webhook-signature");
  const timestamp = Number(timestampText);
  if (!id || !timestampText || !Number.isInteger(timestamp) || !signatures) return { ok: false, reason: "missing headers" };
  let key: Uint8Array;
  try {
    key = base64ToBytes(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret);
  } catch {
    return { ok: false, reason: "the secret is not base64" };
  }
  const hmacKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const expected = new Uint8Array(await crypto.subtle.sign("HMAC", hmacKey, new TextEncoder().encode(`${id}.${timestamp}.${body}`)));
  let matched = false;
  for (const candidate of signatures.split(" ")) {
    const [version, value] = candidate.split(",", 2);
    if (version !== "v1" || !value) continue;
    try {
      if (equalBytes(base64ToBytes(value), expected)) matched = true;
    } catch {
      // not base64: not a match
    }
  }
  if (!matched) return { ok: false, reason: "no matching signature" };
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return { ok: false, reason: "timestamp outside the tolerance" };
  return { ok: true };
}
