// Calls the gateway's REST routes the way a partner's HTTP client would.
import assert from "node:assert/strict";
import { ContractChecker } from "../../testkit/openapi-contract.ts";

export interface RestResponse {
  /** The path called, query included. */
  path?: string;
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export interface RestOptions {
  headers?: Record<string, string>;
  /** Sent as application/json. */
  json?: unknown;
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  /** Sent as is, with the given content type. */
  raw?: { contentType: string; body: string };
}

export async function rest(origin: string, method: string, path: string, options: RestOptions = {}): Promise<RestResponse> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.json);
  } else if (options.form) {
    headers["content-type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(options.form).toString();
  } else if (options.raw) {
    headers["content-type"] = options.raw.contentType;
    body = options.raw.body;
  }
  const response = await fetch(`${origin}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === "" ? null : JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { path, status: response.status, headers: response.headers, body: parsed };
}

/** The OAuth endpoints, whose errors carry RFC 6749's `error` and `error_description` beside the envelope. */
const OAUTH_PATHS = /^\/v1\/auth\/(token|revoke)\b/;

/**
 * The brief's error envelope, exactly: `code`, `message`, `retry_after`, plus the request id of the
 * `x-request-id` header; on the token endpoints, RFC 6749's `error` and `error_description` too.
 */
export function assertEnvelope(response: RestResponse, status: number, code: string, message?: RegExp): void {
  const context = JSON.stringify(response.body);
  assert.equal(response.status, status, context);
  const { error, error_description: description, ...envelope } = (response.body ?? {}) as Record<string, unknown>;
  assert.deepEqual(Object.keys(envelope).sort(), ["code", "message", "request_id", "retry_after"], context);
  if (OAUTH_PATHS.test(response.path ?? "") && status < 429) {
    assert.equal(typeof error, "string", `an OAuth error beside the envelope: ${context}`);
    assert.equal(typeof description, "string", context);
  } else {
    assert.deepEqual([error, description], [undefined, undefined], context);
  }
  assert.equal(response.body.request_id, response.headers.get("x-request-id"), context);
  assert.equal(response.body.code, code, context);
  if (message) assert.match(response.body.message, message);
}

/**
 * Calls routes through `call`, asserts each status, and collects what each answer breaks of the
 * OpenAPI document the gateway serves (`problems`: empty when every answer keeps the contract).
 */
export async function contractCalls(call: (method: string, path: string, options?: RestOptions) => Promise<RestResponse>) {
  const served = await call("GET", "/v1/openapi.json");
  assert.equal(served.status, 200);
  const checker = new ContractChecker(served.body);
  const problems: string[] = [];
  const check = async (method: string, path: string, options: RestOptions, status: number): Promise<RestResponse> => {
    const answer = await call(method, path, options);
    assert.equal(answer.status, status, `${method} ${path}: ${JSON.stringify(answer.body)}`);
    problems.push(...checker.problems({ method, path, status, contentType: answer.headers.get("content-type"), body: answer.body }));
    return answer;
  };
  return { checker, check, problems, document: served.body };
}
