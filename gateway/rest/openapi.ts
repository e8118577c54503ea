// The OpenAPI 3.1 document of the REST routes, generated from the specs the routes register
// (their zod schemas): GET /v1/openapi.json serves it, the contract tests check answers against it.
import { z } from "zod";
import { ERROR_CODES, type ErrorCode } from "../../platform/errors.ts";
import type { DescribedRoute } from "./path-router.ts";
import { errorEnvelope, type RouteCaller, type RouteSpec } from "./route-spec.ts";

type JsonObject = Record<string, unknown>;

/** Failures any route of a kind of caller may answer with. */
const COMMON_ERRORS: Record<RouteCaller, readonly ErrorCode[]> = {
  token: ["UNAUTHENTICATED", "INVALID_DPOP_PROOF", "RATE_LIMITED", "INTERNAL_SERVER_ERROR"],
  "partner-token": ["UNAUTHENTICATED", "INVALID_DPOP_PROOF", "FORBIDDEN", "RATE_LIMITED", "INTERNAL_SERVER_ERROR"],
  client: ["UNAUTHENTICATED", "RATE_LIMITED", "INTERNAL_SERVER_ERROR"],
  "client-or-app": ["UNAUTHENTICATED", "RATE_LIMITED", "INTERNAL_SERVER_ERROR"],
  app: ["UNAUTHENTICATED", "INTERNAL_SERVER_ERROR"],
  public: ["INTERNAL_SERVER_ERROR"],
};

const SECURITY: Record<RouteCaller, JsonObject[]> = {
  token: [{ bearer: [] }, { dpop: [] }],
  "partner-token": [{ bearer: [] }, { dpop: [] }],
  client: [{ clientBasic: [] }],
  "client-or-app": [{ clientBasic: [] }, { appKey: [] }],
  app: [{ appKey: [] }],
  public: [],
};

/** A zod schema as OpenAPI 3.1 (JSON Schema 2020-12) describes it: what a caller sends or reads. */
export function jsonSchemaOf(schema: z.ZodType): JsonObject {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: "draft-2020-12", io: "input", unrepresentable: "any" }) as JsonObject;
  return rest;
}

/** `/v1/consents/:id` as OpenAPI writes it, `/v1/consents/{id}`. */
export function openApiPath(path: string): string {
  return path.replace(/:(\w+)/g, "{$1}");
}

function operation(route: DescribedRoute & { spec: RouteSpec }): JsonObject {
  const { spec } = route;
  const pathParameters = [...route.path.matchAll(/:(\w+)/g)].map(([, name]) => ({ name, in: "path", required: true, schema: { type: "string" } }));
  const queryParameters = Object.entries(spec.query?.shape ?? {}).map(([name, schema]) => ({
    name,
    in: "query",
    required: !(schema as z.ZodType).safeParse(undefined).success,
    schema: jsonSchemaOf(schema as z.ZodType),
    ...((schema as z.ZodType).description ? { description: (schema as z.ZodType).description } : {}),
  }));
  const responses: JsonObject = {};
  for (const [status, response] of Object.entries(spec.responses)) {
    const contentTypes = response.contentType === undefined ? ["application/json"] : typeof response.contentType === "string" ? [response.contentType] : response.contentType;
    const media = response.schema ? { schema: jsonSchemaOf(response.schema) } : {};
    responses[status] = {
      description: response.description,
      ...(response.schema || response.contentType ? { content: Object.fromEntries(contentTypes.map((type) => [type, type === "application/json" ? media : {}])) } : {}),
    };
  }
  const codes = new Set<ErrorCode>([...COMMON_ERRORS[spec.caller], ...(spec.errors ?? []), "METHOD_NOT_ALLOWED"]);
  if (spec.body) codes.add("BAD_REQUEST").add("BAD_USER_INPUT").add("PAYLOAD_TOO_LARGE").add("UNSUPPORTED_MEDIA_TYPE");
  if (spec.query) codes.add("BAD_USER_INPUT");
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_CODES[code].status, [...(byStatus.get(ERROR_CODES[code].status) ?? []), code]);
  for (const [status, statusCodes] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status)] = {
      description: statusCodes.map((code) => `\`${code}\``).join(", "),
      content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorEnvelope" } } },
    };
  }
  const bodySchema = spec.body ? jsonSchemaOf(spec.body) : undefined;
  return {
    operationId: operationId(route),
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: [spec.tag],
    security: SECURITY[spec.caller],
    ...(pathParameters.length + queryParameters.length > 0 ? { parameters: [...pathParameters, ...queryParameters] } : {}),
    ...(bodySchema
      ? {
          requestBody: {
            required: spec.body!.safeParse(undefined).success === false,
            content: { "application/json": { schema: bodySchema }, ...(spec.form ? { "application/x-www-form-urlencoded": { schema: bodySchema } } : {}) },
          },
        }
      : {}),
    responses,
  };
}

function operationId({ method, path }: DescribedRoute): string {
  const words = path
    .replace(/^\/(v1\/)?/, "")
    .split(/[/.\-_]/)
    .filter(Boolean)
    .map((word) => (word.startsWith(":") ? `by ${word.slice(1)}` : word));
  const camel = [method.toLowerCase(), ...words].join(" ").replace(/ (\w)/g, (_match, letter: string) => letter.toUpperCase());
  return camel;
}

export interface DocumentOptions {
  version: string;
}

/** The document. A route without a spec is listed with `x-undocumented: true` (a test fails on any). */
export function openApiDocument(routes: readonly DescribedRoute[], options: DocumentOptions): JsonObject {
  const paths: Record<string, JsonObject> = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    const described = route.spec
      ? operation(route as DescribedRoute & { spec: RouteSpec })
      : { operationId: operationId(route), "x-undocumented": true, responses: { default: { description: "Not described yet" } } };
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: described };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "kamina-graph REST API",
      version: options.version,
      description:
        "The brief's REST routes, each a stored GraphQL operation run through the same gateway: consent, field scopes and receipts apply exactly as on /graphql. Errors are the envelope `{code, message, retry_after, request_id}` (docs/errors.md).",
    },
    servers: [{ url: "/" }],
    tags: [...new Set(routes.flatMap((route) => (route.spec ? [route.spec.tag] : [])))].map((name) => ({ name })),
    paths,
    components: {
      schemas: { ErrorEnvelope: jsonSchemaOf(errorEnvelope) },
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "A consent token (one person) or a partner's client-credentials token, from POST /v1/auth/consent or /v1/auth/token" },
        dpop: { type: "apiKey", in: "header", name: "Authorization", description: "`DPoP <token>` plus a `DPoP` proof header for this method and URL (RFC 9449), for key-bound tokens" },
        clientBasic: { type: "http", scheme: "basic", description: "The partner client's id and secret" },
        appKey: { type: "apiKey", in: "header", name: "x-kamina-app-key", description: "The Kamina app's key: the person's own actions (authorise, reject, revoke)" },
      },
    },
  };
}
