// A route's spec as @hono/zod-openapi's route config: the framework's registry builds the OpenAPI
// 3.1 document from these, so the document comes from the schemas the handlers validate with.
import type { RouteConfig } from "@hono/zod-openapi";
import { z } from "zod";
import { ERROR_CODES, type ErrorCode } from "../../platform/errors.ts";
import { oauthErrorEnvelope, type RouteCaller, type RouteSpec } from "./route-spec.ts";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** Failures any route of a kind of caller may answer with. */
const COMMON_ERRORS: Record<RouteCaller, readonly ErrorCode[]> = {
  token: ["UNAUTHENTICATED", "CONSENT_REVOKED", "INVALID_DPOP_PROOF", "RATE_LIMITED", "INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"],
  "partner-token": ["UNAUTHENTICATED", "INVALID_DPOP_PROOF", "FORBIDDEN", "RATE_LIMITED", "INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"],
  client: ["UNAUTHENTICATED", "RATE_LIMITED", "INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"],
  "client-or-app": ["UNAUTHENTICATED", "RATE_LIMITED", "INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"],
  app: ["UNAUTHENTICATED", "INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"],
  public: ["INTERNAL_SERVER_ERROR"],
};

const SECURITY: Record<RouteCaller, Record<string, string[]>[]> = {
  token: [{ bearer: [] }, { dpop: [] }],
  "partner-token": [{ bearer: [] }, { dpop: [] }],
  client: [{ clientBasic: [] }],
  "client-or-app": [{ clientBasic: [] }, { appKey: [] }],
  app: [{ appKey: [] }],
  public: [],
};

export const SECURITY_SCHEMES = {
  bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "A consent token (one person) or a partner's client-credentials token, from POST /v1/auth/consent or /v1/auth/token" },
  dpop: { type: "apiKey", in: "header", name: "Authorization", description: "`DPoP <token>` plus a `DPoP` proof header for this method and URL (RFC 9449), for key-bound tokens" },
  clientBasic: { type: "http", scheme: "basic", description: "The partner client's id and secret" },
  appKey: { type: "apiKey", in: "header", name: "x-kamina-app-key", description: "The Kamina app's key: the person's own actions (authorise, reject, revoke)" },
} as const;

/** `/v1/consents/:id` as OpenAPI writes it, `/v1/consents/{id}`. */
export function openApiPath(path: string): string {
  return path.replace(/:(\w+)/g, "{$1}");
}

/** `GET /v1/consents/:id/receipts` → `getConsentsByIdReceipts`: stable, so SDK method names do not move. */
export function operationId(method: string, path: string): string {
  const words = path
    .replace(/^\/(v1\/)?/, "")
    .split(/[/.\-_]/)
    .filter(Boolean)
    .map((word) => (word.startsWith(":") ? `by ${word.slice(1)}` : word));
  return [method.toLowerCase(), ...words].join(" ").replace(/ (\w)/g, (_match, letter: string) => letter.toUpperCase());
}

/** Every error answer: the envelope, a component of the document. */
const ERROR_ENVELOPE_REF = { $ref: "#/components/schemas/ErrorEnvelope" };

/** The route config @hono/zod-openapi registers for one route. */
export function routeConfig(method: HttpMethod, path: string, spec: RouteSpec): RouteConfig {
  const pathNames = [...path.matchAll(/:(\w+)/g)].map(([, name]) => name!);
  const responses: RouteConfig["responses"] = {};
  for (const [status, response] of Object.entries(spec.responses)) {
    const types = response.contentType === undefined ? ["application/json"] : typeof response.contentType === "string" ? [response.contentType] : response.contentType;
    const hasContent = response.schema !== undefined || response.contentType !== undefined;
    responses[status] = {
      description: response.description,
      ...(hasContent
        ? { content: Object.fromEntries(types.map((type) => [type, { schema: type !== "application/json" ? { type: "string" as const } : (response.schema ?? {}) }])) }
        : {}),
    };
  }
  const codes = new Set<ErrorCode>([...COMMON_ERRORS[spec.caller], ...(spec.errors ?? []), "METHOD_NOT_ALLOWED"]);
  if (spec.body || spec.fileBody) codes.add("BAD_REQUEST").add("BAD_USER_INPUT").add("PAYLOAD_TOO_LARGE").add("UNSUPPORTED_MEDIA_TYPE");
  if (spec.query || pathNames.length > 0) codes.add("BAD_USER_INPUT");
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_CODES[code].status, [...(byStatus.get(ERROR_CODES[code].status) ?? []), code]);
  for (const [status, statusCodes] of [...byStatus].sort(([a], [b]) => a - b)) {
    const schema = spec.oauthErrors ? oauthErrorEnvelope : ERROR_ENVELOPE_REF;
    responses[String(status)] = { description: statusCodes.map((code) => `\`${code}\``).join(", "), content: { "application/json": { schema } } };
  }
  const request: NonNullable<RouteConfig["request"]> = {};
  if (pathNames.length > 0) request.params = z.object(Object.fromEntries(pathNames.map((name) => [name, z.string()])));
  if (spec.query) request.query = spec.query;
  if (spec.headers) request.headers = spec.headers;
  if (spec.body) {
    request.body = {
      required: !spec.body.safeParse(undefined).success,
      content: { "application/json": { schema: spec.body }, ...(spec.form ? { "application/x-www-form-urlencoded": { schema: spec.body } } : {}) },
    };
  }
  if (spec.fileBody) {
    // The file as text; a multipart upload carries it as a part named `file`.
    const fileSchema = (type: string) =>
      type === "multipart/form-data"
        ? { type: "object" as const, properties: { file: { type: "string" as const, contentMediaType: "text/csv" } }, required: ["file"] }
        : { type: "string" as const };
    request.body = { required: true, description: spec.fileBody.description, content: Object.fromEntries(spec.fileBody.contentTypes.map((type) => [type, { schema: fileSchema(type) }])) };
  }
  return {
    method: method.toLowerCase() as RouteConfig["method"],
    path: openApiPath(path),
    operationId: operationId(method, path),
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: [spec.tag],
    security: SECURITY[spec.caller],
    ...(Object.keys(request).length > 0 ? { request } : {}),
    responses,
  };
}
