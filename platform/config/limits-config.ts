import { z } from "zod";

/**
 * What one request may cost; part of Config (`config.limits`). The GraphQL limits apply at the
 * gateway and at each subgraph (platform/graphql-limits.ts), the rest at the HTTP and WebSocket
 * servers. The defaults admit every operation the REST mirror and the documented examples send,
 * with room to spare, and refuse the attacks of issue 16 in milliseconds.
 */
export interface LimitsConfig {
  graphql: {
    /** Nesting of fields, fragments expanded (GraphQL Armor max-depth). */
    maxDepth: number;
    /** Aliased fields in one operation, fragments expanded (GraphQL Armor max-aliases). */
    maxAliases: number;
    /** Fields at the root of one operation, fragments expanded. */
    maxRootFields: number;
    /** Directives in one operation (GraphQL Armor max-directives). */
    maxDirectives: number;
    /** Lexical tokens in the document; the parser stops at the first one over (graphql-js `maxTokens`). */
    maxTokens: number;
    /** Selections once every fragment spread is expanded (Apollo Server's `maxRecursiveSelections`): fragment fan-out. */
    maxSelections: number;
    /** Estimated cost: one per field, multiplied by `first` (or `defaultListSize`) below each list (graphql-query-complexity). */
    maxCost: number;
    /** The size a list without `first` is assumed to have in the cost estimate. */
    defaultListSize: number;
  };
  websocket: {
    /** Largest WebSocket message; a larger one closes the socket (1009) before it is parsed. */
    maxPayloadBytes: number;
    /** Open subscription sockets per partner client (and per consent token's client). */
    maxConnectionsPerClient: number;
    /** A socket that has not sent `connection_init` by then is closed (4408). */
    connectionInitTimeoutMs: number;
  };
  http: {
    /** Time to receive a request's headers. */
    headersTimeoutMs: number;
    /** Time to receive a whole request, headers and body (Node answers 408 past it). */
    requestTimeoutMs: number;
    /** Time to read a body once its headers are in; past it the answer is 408 REQUEST_TIMEOUT. */
    bodyTimeoutMs: number;
  };
}

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

const environment = z.object({
  GRAPHQL_MAX_DEPTH: int(1, 1_000).default(12),
  GRAPHQL_MAX_ALIASES: int(0).default(30),
  GRAPHQL_MAX_ROOT_FIELDS: int(1).default(20),
  GRAPHQL_MAX_DIRECTIVES: int(0).default(50),
  GRAPHQL_MAX_TOKENS: int(100).default(5_000),
  GRAPHQL_MAX_SELECTIONS: int(10).default(2_000),
  GRAPHQL_MAX_COST: int(1).default(100_000),
  GRAPHQL_DEFAULT_LIST_SIZE: int(1).default(10),
  WS_MAX_PAYLOAD_BYTES: int(1_024, 100 * 1024 * 1024).default(64 * 1024),
  WS_MAX_CONNECTIONS_PER_CLIENT: int(1).default(10_000),
  WS_CONNECTION_INIT_TIMEOUT_MS: int(100).default(3_000),
  HTTP_HEADERS_TIMEOUT_MS: int(100).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: int(100).default(30_000),
  HTTP_BODY_TIMEOUT_MS: int(100).default(10_000),
});

/** Parsed with the rest of the configuration (platform/config/config.ts), once, at start. */
export function limitsConfigSchema() {
  return environment;
}

export function toLimitsConfig(values: z.infer<typeof environment>): LimitsConfig {
  return {
    graphql: {
      maxDepth: values.GRAPHQL_MAX_DEPTH,
      maxAliases: values.GRAPHQL_MAX_ALIASES,
      maxRootFields: values.GRAPHQL_MAX_ROOT_FIELDS,
      maxDirectives: values.GRAPHQL_MAX_DIRECTIVES,
      maxTokens: values.GRAPHQL_MAX_TOKENS,
      maxSelections: values.GRAPHQL_MAX_SELECTIONS,
      maxCost: values.GRAPHQL_MAX_COST,
      defaultListSize: values.GRAPHQL_DEFAULT_LIST_SIZE,
    },
    websocket: {
      maxPayloadBytes: values.WS_MAX_PAYLOAD_BYTES,
      maxConnectionsPerClient: values.WS_MAX_CONNECTIONS_PER_CLIENT,
      connectionInitTimeoutMs: values.WS_CONNECTION_INIT_TIMEOUT_MS,
    },
    http: {
      headersTimeoutMs: Math.min(values.HTTP_HEADERS_TIMEOUT_MS, values.HTTP_REQUEST_TIMEOUT_MS),
      requestTimeoutMs: values.HTTP_REQUEST_TIMEOUT_MS,
      bodyTimeoutMs: values.HTTP_BODY_TIMEOUT_MS,
    },
  };
}

/** The defaults, for servers started without a configuration (tests of one piece). */
export const DEFAULT_LIMITS: LimitsConfig = toLimitsConfig(environment.parse({}));
