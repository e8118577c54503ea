import { GraphQLError, parse, validate, type DocumentNode, type ExecutionArgs, type GraphQLSchema } from "graphql";
import type { SubscribePayload } from "graphql-ws";
import { LruMap } from "../../platform/lru-map.ts";

const DOCUMENTS_KEPT = 1_000;

/**
 * Parses and validates subscription operations once per distinct text (graphql-ws's
 * `onSubscribe`). A partner's fleet sends the same operation from every device: without this,
 * 10,000 sockets held 10,000 copies of one syntax tree (with its tokens and locations) for as
 * long as they stayed open, and validated it 10,000 times while connecting. A document is never
 * changed after parsing, so sharing it is safe. An operation that does not parse or validate is
 * answered with coded errors on its socket, as over HTTP (GRAPHQL_PARSE_FAILED,
 * GRAPHQL_VALIDATION_FAILED), and a text that does not parse is not kept.
 */
export class DocumentCache {
  private readonly documents = new LruMap<string, DocumentNode>(DOCUMENTS_KEPT);
  private readonly validations = new WeakMap<DocumentNode, readonly GraphQLError[]>();

  constructor(private readonly schema: GraphQLSchema) {}

  /** The operation's execution arguments (graphql-ws adds the context), or the errors that answer it. */
  prepare(payload: SubscribePayload): ExecutionArgs | readonly GraphQLError[] {
    const document = this.parsed(payload.query);
    if (document instanceof GraphQLError) return [document];
    let errors = this.validations.get(document);
    if (!errors) {
      errors = validate(this.schema, document).map((error) => withCode(error, "GRAPHQL_VALIDATION_FAILED"));
      this.validations.set(document, errors);
    }
    if (errors.length > 0) return errors;
    return { schema: this.schema, document, operationName: payload.operationName ?? null, variableValues: payload.variables ?? null };
  }

  private parsed(source: string): DocumentNode | GraphQLError {
    const known = this.documents.get(source);
    if (known) return known;
    let document: DocumentNode;
    try {
      document = parse(source);
    } catch (error) {
      if (error instanceof GraphQLError) return withCode(error, "GRAPHQL_PARSE_FAILED");
      throw error;
    }
    this.documents.set(source, document);
    return document;
  }
}

function withCode(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message, {
    ...(error.source ? { source: error.source } : {}),
    ...(error.positions ? { positions: error.positions } : {}),
    extensions: { ...error.extensions, code },
  });
}
