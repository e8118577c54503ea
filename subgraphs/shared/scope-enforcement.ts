import type { ApolloServerPlugin } from "@apollo/server";
import {
  defaultFieldResolver,
  getNamedType,
  isObjectType,
  type ConstDirectiveNode,
  type GraphQLField,
  type GraphQLFieldResolver,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
} from "graphql";
import { graphQLError } from "../../platform/errors.ts";
import {
  ARGUMENT_SCOPES_DIRECTIVE,
  argumentCoordinate,
  argumentRuleOf,
  combineRules,
  describeRule,
  ruleOf,
  SUBGRAPH_DIRECTIVE_NAMES,
  type AccessRule,
} from "../../platform/auth/access-rules.ts";
import type { ConsentGrant } from "../../platform/auth/consent-grants.ts";
import type { FieldAccess } from "../../platform/auth/field-access.ts";

interface AccessContext {
  access: FieldAccess;
}

/**
 * Whose data a value of a per-person type is: a `User` is the person, every other type's
 * resolvers receive rows that carry `userId`. A value without one is refused (fail closed).
 */
function subjectOf(typeName: string, parent: unknown): unknown {
  if (parent === null || typeof parent !== "object") return undefined;
  return typeName === "User" ? (parent as { id?: unknown }).id : (parent as { userId?: unknown }).userId;
}

/** The refusal of `action` ("read User.debts", "run USR_1's diagnosis") for want of `rule`. */
export function notAuthorised(action: string, rule: AccessRule) {
  return graphQLError("UNAUTHORIZED_FIELD_OR_TYPE", `Not authorised to ${action}: it needs ${describeRule(rule)}, granted by this person to this client`);
}

function unauthorized(coordinate: string, rule: AccessRule) {
  return notAuthorised(`read ${coordinate}`, rule);
}

function isPromiseLike<T>(value: unknown): value is PromiseLike<T> {
  return value !== null && typeof value === "object" && typeof (value as { then?: unknown }).then === "function";
}

/**
 * Defence in depth: every subgraph enforces the `@requiresScopes`/`@authenticated` in its own
 * SDL on every request, whoever sends it, and the `@argumentRequiresScopes` of the arguments a
 * request passes. Wraps, in place, the resolver of every field that needs something (its own
 * directives AND its return type's, or an argument's) and the `__resolveReference` of
 * every entity with a type-level rule. A refused field resolves to null with an
 * `UNAUTHORIZED_FIELD_OR_TYPE` error; an allowed one that returns a value is recorded for the
 * consent receipt.
 */
export function enforceScopes(schema: GraphQLSchema): GraphQLSchema {
  const rootTypes = new Set([schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter(Boolean));
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__")) continue;
    const isRoot = rootTypes.has(type);
    for (const field of Object.values(type.getFields())) {
      const rule = fieldRuleOf(field);
      const argumentRules = argumentRulesOf(field);
      if (!rule && argumentRules.length === 0) continue;
      const coordinate = `${type.name}.${field.name}`;
      let resolve: GraphQLFieldResolver<unknown, AccessContext> = field.resolve ?? defaultFieldResolver;
      // Inside the field's own guard: the arguments are checked once the field itself is allowed.
      if (argumentRules.length > 0) resolve = guardArguments(resolve, isRoot ? undefined : type.name, coordinate, argumentRules);
      if (!rule) field.resolve = resolve;
      else if (isRoot) {
        // No person yet: only the token's scopes apply (`@authenticated` already held at the door).
        field.resolve = rule.scopes.length > 0 ? guardRootField(resolve, coordinate, rule) : resolve;
      } else field.resolve = guardPersonalField(resolve, type.name, coordinate, rule);
    }
    guardEntity(type);
  }
  return schema;
}

function guardRootField(resolve: GraphQLFieldResolver<unknown, AccessContext>, coordinate: string, rule: AccessRule): GraphQLFieldResolver<unknown, AccessContext> {
  return (parent, args, context, info) => {
    if (!context.access.tokenCovers(rule)) throw unauthorized(coordinate, rule);
    return resolve(parent, args, context, info);
  };
}

function guardPersonalField(
  resolve: GraphQLFieldResolver<unknown, AccessContext>,
  typeName: string,
  coordinate: string,
  rule: AccessRule,
): GraphQLFieldResolver<unknown, AccessContext> {
  // Defined once per field, not per call: this runs for every guarded field of every person.
  const proceed = (grant: ConsentGrant | null, parent: unknown, args: Record<string, unknown>, context: AccessContext, info: GraphQLResolveInfo) => {
    if (!grant) throw unauthorized(coordinate, rule);
    const value = resolve(parent, args, context, info);
    if (!isPromiseLike(value)) {
      if (value !== null && value !== undefined) context.access.record(grant, coordinate);
      return value;
    }
    return Promise.resolve(value).then((resolved) => {
      if (resolved !== null && resolved !== undefined) context.access.record(grant, coordinate);
      return resolved;
    });
  };
  return (parent, args, context, info) => {
    const verdict = context.access.authorise(subjectOf(typeName, parent), rule);
    return isPromiseLike(verdict) ? verdict.then((grant) => proceed(grant, parent, args, context, info)) : proceed(verdict, parent, args, context, info);
  };
}

interface ArgumentRule {
  name: string;
  rule: AccessRule;
}

/**
 * An argument that carries a value (its default included) needs its `@argumentRequiresScopes`,
 * as the gateway decides it: on a root field the token's scopes, on a person's field that
 * person's consent. A refused argument refuses the whole field, with the field's error code.
 * `typeName` is undefined on a root field.
 */
function guardArguments(
  resolve: GraphQLFieldResolver<unknown, AccessContext>,
  typeName: string | undefined,
  coordinate: string,
  rules: readonly ArgumentRule[],
): GraphQLFieldResolver<unknown, AccessContext> {
  return (parent, args: Record<string, unknown>, context, info) => {
    const passed = rules.filter(({ name }) => args[name] !== null && args[name] !== undefined);
    if (passed.length === 0) return resolve(parent, args, context, info);
    const { access } = context;
    const verdicts = passed.map(({ rule }) => (typeName === undefined ? access.tokenCovers(rule) : access.authorise(subjectOf(typeName, parent), rule)));
    const decide = (allowed: readonly unknown[]) => {
      const refused = allowed.findIndex((verdict) => !verdict);
      if (refused !== -1) throw notAuthorised(`pass ${argumentCoordinate(coordinate, passed[refused]!.name)}`, passed[refused]!.rule);
      return resolve(parent, args, context, info);
    };
    return verdicts.some(isPromiseLike) ? Promise.all(verdicts).then(decide) : decide(verdicts);
  };
}

/** The field's arguments that state an `@argumentRequiresScopes`, from the SDL. */
export function argumentRulesOf(field: GraphQLField<unknown, unknown>): ArgumentRule[] {
  const rules: ArgumentRule[] = [];
  for (const argument of field.args) {
    const rule = argumentRuleOf(argument.astNode?.directives, [ARGUMENT_SCOPES_DIRECTIVE]);
    if (rule) rules.push({ name: argument.name, rule });
  }
  return rules;
}

type ReferenceResolver = (reference: unknown, context: AccessContext, info: unknown) => unknown;

/**
 * An entity with a type-level rule can also be reached by `_entities`, past every field that
 * returns it: its `__resolveReference` applies the type's rule to the person the entity belongs to.
 */
function guardEntity(type: GraphQLObjectType): void {
  const rule = typeRuleOf(type);
  const extensions = type.extensions as { apollo?: { subgraph?: { resolveReference?: ReferenceResolver } } };
  const resolveReference = extensions.apollo?.subgraph?.resolveReference;
  if (!rule || !resolveReference) return;
  const coordinate = type.name;
  const guarded: ReferenceResolver = async (reference, context, info) => {
    const entity = await resolveReference(reference, context, info);
    if (entity === null || entity === undefined) return entity;
    const grant = await context.access.authorise(subjectOf(type.name, entity), rule);
    if (!grant) throw unauthorized(coordinate, rule);
    return entity;
  };
  // @apollo/subgraph keeps the reference resolver in the type's extensions and reads it from there.
  (type as unknown as { extensions: unknown }).extensions = {
    ...type.extensions,
    apollo: { ...extensions.apollo, subgraph: { ...extensions.apollo?.subgraph, resolveReference: guarded } },
  };
}

/** What a field needs, from the SDL: its own directives AND its return type's; undefined when neither states any. */
export function fieldRuleOf(field: GraphQLField<unknown, unknown>): AccessRule | undefined {
  return combineRules(ruleOf(field.astNode?.directives, SUBGRAPH_DIRECTIVE_NAMES), typeRuleOf(getNamedType(field.type)));
}

function typeRuleOf(type: GraphQLNamedType): AccessRule | undefined {
  const directives: ConstDirectiveNode[] = [...(type.astNode?.directives ?? []), ...type.extensionASTNodes.flatMap((node) => node.directives ?? [])];
  return ruleOf(directives, SUBGRAPH_DIRECTIVE_NAMES);
}

/** Puts what this request returned, per consent, in the response's extensions for the gateway's receipt. */
export function receiptsPlugin(): ApolloServerPlugin<AccessContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue, response }) {
          if (response.body.kind !== "single") return;
          const result = response.body.singleResult;
          result.extensions = withReceipts(result.extensions, contextValue?.access);
        },
      };
    },
  };
}

/** A response's extensions with what the request returned per consent, when it returned anything. */
export function withReceipts(extensions: Record<string, unknown> | undefined, access: FieldAccess | undefined): Record<string, unknown> | undefined {
  const receipts = access?.receiptsExtension();
  return receipts ? { ...extensions, [receipts[0]]: receipts[1] } : extensions;
}
