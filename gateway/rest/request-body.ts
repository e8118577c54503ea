import type { IncomingMessage } from "node:http";
import type { z } from "zod";
import { RestError } from "./envelope.ts";

const MAX_BODY_BYTES = 64 * 1024;

/**
 * A REST request's body as an object: JSON, or on the token endpoints (`form`) a form
 * (`application/x-www-form-urlencoded`, what OAuth clients send). An empty body is `{}`, with or
 * without a content type. A body without a usable content type is a 415 that says which to send:
 * `curl -d` sends a form's content type unless told otherwise, and read as a form, a JSON body
 * was one nameless field, so the answer was that the first field was missing.
 */
export async function readBody(request: IncomingMessage, options: { form?: boolean } = {}): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new RestError("PAYLOAD_TOO_LARGE", `The request body exceeds ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  const type = (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "application/json" || type.endsWith("+json")) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new RestError("BAD_REQUEST", "The request body is not valid JSON");
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new RestError("BAD_REQUEST", "The request body must be a JSON object");
    return withoutNul(value as Record<string, unknown>);
  }
  const looksLikeJson = /^\s*[{[]/.test(text);
  if (type === "application/x-www-form-urlencoded" && options.form && !looksLikeJson) {
    const form: Record<string, unknown> = {};
    for (const [key, value] of new URLSearchParams(text)) {
      // RFC 6749 §3.2: a parameter must not be sent twice.
      if (Object.hasOwn(form, key)) throw new RestError("BAD_USER_INPUT", `\`${key}\` is sent more than once`);
      form[key] = value;
    }
    return withoutNul(form);
  }
  const given = type === "" ? "no Content-Type" : `Content-Type ${type}`;
  const accepted = options.form ? "application/json (or application/x-www-form-urlencoded)" : "application/json";
  throw new RestError("UNSUPPORTED_MEDIA_TYPE", `The body came with ${given}${looksLikeJson ? " but reads as JSON" : ""}: send Content-Type: ${accepted}`);
}

/** PostgreSQL text cannot hold a NUL character: refused here, for every field, rather than a 500 at the first query. */
function withoutNul(body: Record<string, unknown>): Record<string, unknown> {
  const holdsNul = (value: unknown): boolean =>
    typeof value === "string" ? value.includes("\0") : typeof value === "object" && value !== null && Object.entries(value).some(([key, inner]) => key.includes("\0") || holdsNul(inner));
  if (holdsNul(body)) throw new RestError("BAD_USER_INPUT", "The body holds a NUL character (\\u0000), which no field accepts");
  return body;
}

/** Validates a body against its schema; the first problem becomes a BAD_USER_INPUT naming the field. */
export function parseInput<Schema extends z.ZodType>(schema: Schema, body: Record<string, unknown>): z.infer<Schema> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    throw new RestError("BAD_USER_INPUT", `Unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((key) => `\`${key}\``).join(", ")}`);
  }
  if (issue.path.length === 1 && body[field] === undefined) throw new RestError("BAD_USER_INPUT", `\`${field}\` is required`);
  throw new RestError("BAD_USER_INPUT", `\`${field}\` ${issue.message}`);
}
