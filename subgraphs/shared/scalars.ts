import { GraphQLError, GraphQLScalarType, Kind } from "graphql";
import { CurrencyResolver, DateResolver, DateTimeResolver } from "graphql-scalars";

const DECIMAL_PATTERN = /^-?\d{1,20}(\.\d{1,10})?$/;

function decimalFrom(value: unknown): string {
  const text = typeof value === "string" ? value.trim() : typeof value === "number" && Number.isFinite(value) ? String(value) : undefined;
  if (text === undefined || !DECIMAL_PATTERN.test(text)) {
    throw new GraphQLError(`Decimal must be a number written as a string, like "1240.55"; got ${JSON.stringify(value)}`, {
      extensions: { code: "BAD_USER_INPUT" },
    });
  }
  return text;
}

/** Exact decimal numbers (money, rates) as strings, so no client parses them into floats. */
export const DecimalScalar = new GraphQLScalarType({
  name: "Decimal",
  description: 'An exact decimal number serialised as a string, e.g. "1240.55". Money is never a float.',
  serialize(value) {
    // Prisma returns its own Decimal type; its toString is exact.
    if (value !== null && typeof value === "object" && "toFixed" in value) return String(value);
    return decimalFrom(value);
  },
  parseValue: decimalFrom,
  parseLiteral(ast) {
    if (ast.kind === Kind.STRING || ast.kind === Kind.INT || ast.kind === Kind.FLOAT) return decimalFrom(ast.value);
    throw new GraphQLError("Decimal must be a string literal", { extensions: { code: "BAD_USER_INPUT" } });
  },
});

/** Resolvers for every custom scalar a subgraph may declare; unused ones are ignored. */
export const scalarResolvers = {
  Date: DateResolver,
  DateTime: DateTimeResolver,
  Currency: CurrencyResolver,
  Decimal: DecimalScalar,
};
