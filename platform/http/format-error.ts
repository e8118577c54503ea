import type { GraphQLFormattedError } from "graphql";
import { unwrapResolverError } from "@apollo/server/errors";
import { GraphQLError } from "graphql";
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from "../database/unavailable.ts";
import { asLimitError } from "../graphql-limits.ts";
import type { Logger } from "../logger.ts";

/** Codes Apollo Server itself assigns to request errors; safe to show as they are. */
const APOLLO_CODES = new Set([
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_USER_INPUT",
  "BAD_REQUEST",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
  "OPERATION_RESOLUTION_FAILURE",
  "OPERATION_TOO_COMPLEX",
]);

/**
 * Errors are part of the API: a coded error the code raised on purpose passes through;
 * anything else (a SQL message, a bug) is logged and replaced by a generic message.
 */
export function createErrorFormatter(logger: Logger, extraSafeCodes: ReadonlySet<string> = new Set()) {
  return (given: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const formatted = asLimitError(given);
    const code = formatted.extensions?.code;
    const original = unwrapResolverError(error);
    const raisedOnPurpose = original instanceof GraphQLError && original.originalError === undefined;
    if (typeof code === "string" && (APOLLO_CODES.has(code) || extraSafeCodes.has(code) || (raisedOnPurpose && code !== "INTERNAL_SERVER_ERROR"))) {
      const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    if (code === "SERVICE_UNAVAILABLE" || isDatabaseUnavailable(original)) {
      logger.warn({ err: original, path: formatted.path }, "the database is unavailable");
      return {
        message: "The database is unavailable for now; retry shortly",
        ...(formatted.locations ? { locations: formatted.locations } : {}),
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { code: "SERVICE_UNAVAILABLE", retryAfter: DATABASE_RETRY_AFTER_SECONDS },
      };
    }
    logger.error({ err: original, path: formatted.path }, "unexpected error in a resolver");
    return {
      message: "Internal server error",
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: "INTERNAL_SERVER_ERROR" },
    };
  };
}
