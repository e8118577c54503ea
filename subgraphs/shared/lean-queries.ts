import { HeaderMap, type ApolloServer, type ApolloServerPlugin, type BaseContext, type HTTPGraphQLRequest, type HTTPGraphQLResponse } from "@apollo/server";
import { execute, getOperationAST, type DocumentNode, type ExecutionResult, type GraphQLFormattedError, type GraphQLSchema } from "graphql";
import { compileQuery, isCompiledQuery, type CompiledQuery } from "graphql-jit";
import type { OperationCheck } from "../../platform/graphql-limits.ts";
import { LruMap } from "../../platform/lru-map.ts";

/** Document texts kept once Apollo has validated them; the gateway sends a few dozen distinct ones. */
const DOCUMENTS_KEPT = 1_000;
/** What Apollo Server answers (its content negotiation) to these `accept` headers: none (the gateway's), fetch's default and plain JSON. */
const JSON_CONTENT_TYPE = "application/json; charset=utf-8";
const JSON_ACCEPTS = new Set([undefined, "", "*/*", "application/json"]);

/** The query texts Apollo has parsed and validated against `schema` (its `executionDidStart` is reached only then), with their documents. */
export class ValidatedQueries {
  private readonly documents = new LruMap<string, DocumentNode>(DOCUMENTS_KEPT);

  constructor(readonly schema: GraphQLSchema) {}

  get(text: string): DocumentNode | undefined {
    return this.documents.get(text);
  }

  /** For Apollo's plugins: remembers each query text it validated. */
  plugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
    const { documents, schema } = this;
    return {
      async requestDidStart() {
        return {
          async executionDidStart({ request, document, operation, schema: validatedFor }) {
            if (typeof request.query === "string" && operation?.operation === "query" && validatedFor === schema) documents.set(request.query, document);
          },
        };
      },
    };
  }
}

export interface LeanQueryOptions<TContext extends BaseContext> {
  apollo: ApolloServer<TContext>;
  validated: ValidatedQueries;
  /** The operation checks Apollo's pipeline runs (operationLimitsPlugin), run here too. */
  check: OperationCheck;
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  /** The response's extensions once the operation ran (the receipts). */
  extensions: (extensions: Record<string, unknown> | undefined, context: TContext) => Record<string, unknown> | undefined;
}

/**
 * A shorter road through a subgraph for the gateway's queries. A subgraph sees the same few
 * dozen document texts over and over (the gateway's query plans), each with new variables;
 * Apollo Server runs its whole request pipeline for each: a hash of the text, a document store
 * lookup, content negotiation twice, every plugin hook as a promise. Once Apollo has parsed and
 * validated a text (ValidatedQueries), that text's query runs here:
 * the same operation checks (limits, NUL, cost), graphql-js's execute over the same schema (the
 * scope guards are in its resolvers), errors formatted as Apollo formats them with the same
 * formatter, the receipts added, the answer serialised as Apollo serialises it.
 *
 * Whatever is not the plain case goes to Apollo unchanged, with the context already made, and
 * nothing has run yet that would differ: a text not validated yet, a mutation, an `accept`
 * header other than JSON's, a body Apollo would refuse or look into (extensions, batches), a context that failed,
 * an operation the checks refuse, variables that do not coerce (graphql-js runs no resolver
 * before it has coerced them). So every refusal keeps Apollo's own words and status.
 */
export class LeanQueries<TContext extends BaseContext> {
  /** Requests answered here rather than by Apollo (tests read it). */
  answered = 0;
  /** Each validated document's operations compiled (graphql-jit), by operation name; null where it would not compile. */
  private readonly compiled = new WeakMap<DocumentNode, Map<string, CompiledQuery | null>>();

  constructor(private readonly options: LeanQueryOptions<TContext>) {}

  /** Same signature as Apollo's executeHTTPGraphQLRequest, which answers whatever is not the plain case. */
  async execute(request: { httpGraphQLRequest: HTTPGraphQLRequest; context: () => Promise<TContext> }): Promise<HTTPGraphQLResponse> {
    const { apollo } = this.options;
    const plain = this.plainQuery(request.httpGraphQLRequest);
    if (!plain) return apollo.executeHTTPGraphQLRequest(request);
    let context: TContext;
    try {
      context = await request.context();
    } catch (error) {
      return apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest: request.httpGraphQLRequest, context: () => Promise.reject(error) });
    }
    const viaApollo = () => apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest: request.httpGraphQLRequest, context: async () => context });
    const { check } = this.options;
    const { schema } = this.options.validated;
    const { document, operation, operationName, variables } = plain;
    try {
      check(schema, document, operation, { operationName, variables });
    } catch {
      return viaApollo();
    }
    const compiled = this.compiledOf(document, operationName);
    const result = await (compiled ? compiled.query(undefined, context, variables) : execute({ schema, document, contextValue: context, variableValues: variables, operationName }));
    // No data at all: the variables did not coerce and no resolver ran; Apollo words that (400).
    if (result.data === undefined) return viaApollo();
    this.answered++;
    return this.answer(result, context);
  }

  /**
   * The operation compiled to plain JavaScript once (graphql-jit): the same schema, resolvers,
   * scalars and type resolution as graphql-js's execute, without its per-field interpretation
   * of the document on every request.
   */
  private compiledOf(document: DocumentNode, operationName: string | undefined): CompiledQuery | null {
    let operations = this.compiled.get(document);
    if (!operations) this.compiled.set(document, (operations = new Map()));
    const key = operationName ?? "";
    let compiled = operations.get(key);
    if (compiled === undefined) {
      const made = compileQuery(this.options.validated.schema, document, operationName);
      compiled = isCompiledQuery(made) ? made : null;
      operations.set(key, compiled);
    }
    return compiled;
  }

  private plainQuery(http: HTTPGraphQLRequest) {
    if (http.method !== "POST" || !JSON_ACCEPTS.has(http.headers.get("accept")) || !isJsonContentType(http.headers.get("content-type"))) return undefined;
    const body = http.body as Record<string, unknown> | null;
    if (body === null || typeof body !== "object" || Array.isArray(body) || typeof body.query !== "string") return undefined;
    if (body.extensions !== undefined && body.extensions !== null) return undefined;
    const { variables, operationName } = body;
    if (variables !== undefined && variables !== null && (typeof variables !== "object" || Array.isArray(variables))) return undefined;
    if (operationName !== undefined && operationName !== null && typeof operationName !== "string") return undefined;
    const document = this.options.validated.get(body.query);
    if (!document) return undefined;
    const operation = getOperationAST(document, operationName ?? undefined);
    if (operation?.operation !== "query") return undefined;
    return { document, operation, operationName: operationName ?? undefined, variables: (variables ?? undefined) as Record<string, unknown> | undefined };
  }

  /** Apollo's answer to an executed operation: its error formatting (errorNormalize.js), its field order and serialisation. */
  private answer(result: ExecutionResult, context: TContext): HTTPGraphQLResponse {
    let status: number | undefined;
    const headers = new HeaderMap([["content-type", JSON_CONTENT_TYPE]]);
    const errors = result.errors?.map((error) => {
      try {
        // graphql-jit's own errors (a value a leaf cannot serialise) may carry no extensions at all.
        const extensions: Record<string, unknown> = { ...error.extensions, code: error.extensions?.code ?? "INTERNAL_SERVER_ERROR" };
        const http = extensions.http;
        if (isPartialHttpHead(http)) {
          if (http.status) status = http.status;
          for (const [name, value] of http.headers ?? []) headers.set(name, value);
          delete extensions.http;
        }
        return this.options.formatError({ ...error.toJSON(), extensions }, error);
      } catch {
        return { message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } };
      }
    });
    const body = { errors, data: result.data, extensions: this.options.extensions(result.extensions as Record<string, unknown> | undefined, context) };
    return {
      status,
      headers,
      body: { kind: "complete", string: `${JSON.stringify(body)}\n` },
    };
  }
}

/** What Apollo merges into the answer's status and headers from an error's `extensions.http`. */
function isPartialHttpHead(value: unknown): value is { status?: number; headers?: Map<string, string> } {
  if (value === null || typeof value !== "object") return false;
  const head = value as { status?: unknown; headers?: unknown };
  return (!("status" in head) || typeof head.status === "number") && (!("headers" in head) || head.headers instanceof Map);
}

function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const semicolon = value.indexOf(";");
  return (semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase() === "application/json";
}
