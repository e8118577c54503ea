import { GraphQLError, getOperationAST, parse, specifiedRules, validate, type DocumentNode, type ExecutionArgs, type GraphQLSchema, type ValidationRule } from "graphql";
import type { SubscribePayload } from "graphql-ws";
import { asLimitError, limitRules, operationCost, operationTooComplex, type GraphQLLimits } from "../../platform/graphql-limits.ts";
import { LruMap } from "../../platform/lru-map.ts";

const DOCUMENTS_KEPT = 1_000;

/**
 * Parses and validates subscription operations once per distinct text (graphql-ws's
 * `onSubscribe`). A partner's fleet sends the same operation from every device: without this,
 * 10,000 sockets held 10,000 copies of one syntax tree (with its tokens and locations) for as
 * long as they stayed open, and validated it 10,000 times while connecting. A document is never
 * changed after parsing, so sharing it is safe. An operation that does not parse or validate is
 * answered with coded errors on its socket, as over HTTP (GRAPHQL_PARSE_FAILED,
 * GRAPHQL_VALIDATION_FAILED), and a text that does not parse is not kept. The operation limits
 * apply as over HTTP (platform/graphql-limits.ts): tokens at parse, depth, aliases, directives and
 * root fields at validation, and the cost with the subscription's variables, whose node count
 * also bounds fragment fan-out here; each refused with OPERATION_TOO_COMPLEX.
 */
export class DocumentCache {
  private readonly documents = new LruMap<string, DocumentNode>(DOCUMENTS_KEPT);
  private readonly validations = new WeakMap<DocumentNode, readonly GraphQLError[]>();

  private readonly rules: readonly ValidationRule[];

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly limits: GraphQLLimits,
  ) {
    this.rules = [...specifiedRules, ...limitRules(limits)];
  }

  /** The operation's execution arguments (graphql-ws adds the context), or the errors that answer it. */
  prepare(payload: SubscribePayload): ExecutionArgs | readonly GraphQLError[] {
    const document = this.parsed(payload.query);
    if (document instanceof GraphQLError) return [document];
    let errors = this.validations.get(document);
    if (!errors) {
      errors = validate(this.schema, document, this.rules).map((error) => withCode(error, "GRAPHQL_VALIDATION_FAILED"));
      this.validations.set(document, errors);
    }
    if (errors.length > 0) return errors;
    const operation = getOperationAST(document, payload.operationName);
    if (operation) {
      const cost = operationCost(this.limits, this.schema, document, operation, payload.variables ?? undefined);
      if (cost > this.limits.maxCost) {
        return [operationTooComplex("cost", `The operation is over the cost limit: estimated ${Number.isFinite(cost) ? cost : "more than can be counted"}, at most ${this.limits.maxCost}.`, this.limits.maxCost)];
      }
    }
    return { schema: this.schema, document, operationName: payload.operationName ?? null, variableValues: payload.variables ?? null };
  }

  private parsed(source: string): DocumentNode | GraphQLError {
    const known = this.documents.get(source);
    if (known) return known;
    let document: DocumentNode;
    try {
      document = parse(source, { maxTokens: this.limits.maxTokens });
    } catch (error) {
      if (error instanceof GraphQLError) return withCode(error, "GRAPHQL_PARSE_FAILED");
      throw error;
    }
    this.documents.set(source, document);
    return document;
  }
}

/** The error with its code; one over a limit becomes OPERATION_TOO_COMPLEX naming it, as over HTTP. */
function withCode(error: GraphQLError, code: string): GraphQLError {
  const coded = asLimitError({ message: error.message, extensions: { ...error.extensions, code } });
  return new GraphQLError(coded.message, {
    ...(error.source ? { source: error.source } : {}),
    ...(error.positions ? { positions: error.positions } : {}),
    extensions: { ...coded.extensions },
  });
}
