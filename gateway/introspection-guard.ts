import type { ApolloServerPlugin } from "@apollo/server";
import { NoSchemaIntrospectionCustomRule, validate } from "graphql";
import { graphQLError } from "../platform/errors.ts";

/**
 * Refuses `__schema` and `__type` (GRAPHQL_INTROSPECTION=false, the production default) with
 * INTROSPECTION_DISABLED, once the operation is known and before it is planned. graphql-js's own
 * rule finds them, through fragments too; `__typename` stays allowed. (Apollo Server's
 * `introspection: false` would refuse them too, but as GRAPHQL_VALIDATION_FAILED with a message
 * about its own configuration.)
 */
export function introspectionGuard(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document }) {
          if (validate(schema, document, [NoSchemaIntrospectionCustomRule]).length === 0) return;
          throw graphQLError("INTROSPECTION_DISABLED", "Schema introspection is disabled on this gateway; its schema is published with the API documentation", {
            http: { status: 400 },
          });
        },
      };
    },
  };
}
