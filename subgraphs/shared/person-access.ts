// A mutation changes one person's data, so beyond the token's scopes (checked at the door by
// scope-enforcement.ts) it needs that person's consent for the field. The rule is the one the
// field itself states in the SDL (`@requiresScopes`/`@authenticated`, with its return type's),
// read from the schema like every other field's: never written again in TypeScript beside it.
import type { GraphQLError, GraphQLField, GraphQLResolveInfo } from "graphql";
import { describeRule, type AccessRule } from "../../platform/auth/access-rules.ts";
import type { ConsentGrant } from "../../platform/auth/consent-grants.ts";
import type { FieldAccess } from "../../platform/auth/field-access.ts";
import { argumentRulesOf, fieldRuleOf, notAuthorised } from "./scope-enforcement.ts";

/** The per-person check of the field being resolved, for one call. */
export interface PersonAccess {
  /** The field, as the consent receipt lists it (`Mutation.runDiagnosis`). */
  readonly coordinate: string;
  /** The field's rule, from its SDL. */
  readonly rule: AccessRule;
  /** What the rule needs, for messages ("alerts.read"). */
  readonly needs: string;
  /** The consent of `userId` that covers the field for the caller, or null (a consent token: its own person only). */
  authorise(userId: string): Promise<ConsentGrant | null>;
  /** Whether the caller can see `userId` at all: any authorised consent of theirs for this client, whatever it grants. */
  sees(userId: string): Promise<boolean>;
  /** UNAUTHORIZED_FIELD_OR_TYPE for `action` ("run USR_1's diagnosis"), naming what the rule needs. */
  refusal(action: string): GraphQLError;
  /** Lists the field in the receipt of `grant`'s consent; call it once the change is made. */
  record(grant: ConsentGrant): void;
}

/** Any authorised consent of the person for this client: seeing them, not reading any field. */
const ANY_CONSENT: AccessRule = { authenticated: true, scopes: [] };

interface FieldRule {
  rule: AccessRule;
  needs: string;
}

/** Read from the SDL once per field of the built schema. */
const fieldRules = new WeakMap<GraphQLField<unknown, unknown>, FieldRule>();

/** The per-person check of the field `info` resolves, under this request's `access`. */
export function personAccess(info: GraphQLResolveInfo, access: FieldAccess): PersonAccess {
  const coordinate = `${info.parentType.name}.${info.fieldName}`;
  const { rule, needs } = fieldRule(info.parentType.getFields()[info.fieldName], coordinate);
  return {
    coordinate,
    rule,
    needs,
    authorise: async (userId) => access.authorise(userId, rule),
    sees: async (userId) => (await access.authorise(userId, ANY_CONSENT)) !== null,
    refusal: (action) => notAuthorised(action, rule),
    record: (grant) => access.record(grant, coordinate),
  };
}

function fieldRule(field: GraphQLField<unknown, unknown> | undefined, coordinate: string): FieldRule {
  if (!field) throw new Error(`${coordinate} is not in the schema`);
  let known = fieldRules.get(field);
  if (!known) {
    const rule = fieldRuleOf(field);
    // Fail closed: a field acting on a person's data says in its SDL what that takes.
    if (!rule) throw new Error(`${coordinate} acts on a person's data but states no @requiresScopes or @authenticated`);
    known = { rule, needs: describeRule(rule) };
    fieldRules.set(field, known);
  }
  return known;
}

/** Read from the SDL once per argument of the built schema. */
const argumentRules = new WeakMap<GraphQLField<unknown, unknown>, Map<string, AccessRule>>();

/**
 * What passing `argument` to the field `info` resolves takes, from its `@argumentRequiresScopes`:
 * for a filter over many people, which each person's consent must cover for the filter to
 * match them (scope-enforcement.ts checks the token's scopes already; a person's consent can
 * only be checked per row, in the query).
 */
export function argumentRule(info: GraphQLResolveInfo, argument: string): AccessRule {
  const field = info.parentType.getFields()[info.fieldName];
  const coordinate = `${info.parentType.name}.${info.fieldName}(${argument}:)`;
  if (!field) throw new Error(`${coordinate} is not in the schema`);
  let known = argumentRules.get(field);
  if (!known) {
    known = new Map(argumentRulesOf(field).map(({ name, rule }) => [name, rule]));
    argumentRules.set(field, known);
  }
  const rule = known.get(argument);
  // Fail closed: a filter over people's data says in its SDL what it reveals.
  if (!rule) throw new Error(`${coordinate} filters by a person's data but states no @argumentRequiresScopes`);
  return rule;
}
