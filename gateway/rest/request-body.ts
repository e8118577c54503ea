import type { IncomingMessage } from "node:http";
import type { z } from "zod";
import { RestError } from "./envelope.ts";

const MAX_BODY_BYTES = 64 * 1024;

/**
 * A REST request's body as an object: JSON, or a form (`application/x-www-form-urlencoded`,
 * what OAuth clients send to token endpoints). An empty body is `{}`.
 */
export async function readBody(request: IncomingMessage): Promise<Record<string, unknown>> {
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
    return value as Record<string, unknown>;
  }
  if (type === "application/x-www-form-urlencoded") {
    const form: Record<string, unknown> = {};
    for (const [key, value] of new URLSearchParams(text)) {
      // RFC 6749 §3.2: a parameter must not be sent twice.
      if (Object.hasOwn(form, key)) throw new RestError("BAD_USER_INPUT", `\`${key}\` is sent more than once`);
      form[key] = value;
    }
    return form;
  }
  throw new RestError("UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json (or application/x-www-form-urlencoded)");
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
