import { Kind, type ConstDirectiveNode, type ConstValueNode } from "graphql";
import { satisfies, type ScopeRequirement } from "./scopes.ts";

/**
 * What reading one field takes, from the standard Federation 2.5 directives on the field, on
 * its return type and (in the supergraph) on every subgraph that defines it: `@authenticated`
 * and any number of `@requiresScopes`, all of which must hold.
 */
export interface AccessRule {
  authenticated: boolean;
  /** Each entry is one `@requiresScopes(scopes:)`: OR of ANDs. Every entry must be satisfied. */
  scopes: readonly ScopeRequirement[];
}

/** How the two directives are spelled in a schema (a supergraph `@link` may rename them). */
export interface AccessDirectiveNames {
  requiresScopes: readonly string[];
  authenticated: readonly string[];
}

/** Names in a subgraph schema: imported (`@requiresScopes`) or namespaced (`@federation__requiresScopes`). */
export const SUBGRAPH_DIRECTIVE_NAMES: AccessDirectiveNames = {
  requiresScopes: ["requiresScopes", "federation__requiresScopes"],
  authenticated: ["authenticated", "federation__authenticated"],
};

/** The rule the directives in `directives` state, or undefined when they state none. */
export function ruleOf(directives: readonly ConstDirectiveNode[] | undefined, names: AccessDirectiveNames): AccessRule | undefined {
  let rule: AccessRule | undefined;
  for (const directive of directives ?? []) {
    const name = directive.name.value;
    if (names.authenticated.includes(name)) rule = combineRules(rule, { authenticated: true, scopes: [] });
    else if (names.requiresScopes.includes(name)) {
      const argument = directive.arguments?.find((candidate) => candidate.name.value === "scopes");
      if (!argument) throw new Error(`@${name} without a scopes argument`);
      rule = combineRules(rule, { authenticated: true, scopes: [scopeRequirementOf(argument.value)] });
    }
  }
  return rule;
}

/**
 * `@argumentRequiresScopes(scopes: [[...]])` on an ARGUMENT_DEFINITION: what passing that argument
 * takes, because the argument filters by (or otherwise reveals) a value whose field needs those
 * scopes (`users(band:)` reveals `WellnessIndex.band`). Federation's `@requiresScopes` cannot sit
 * on an argument, so this is our own directive, linked from this spec and carried into the
 * supergraph by `@composeDirective`; same `scopes:` format, same OR-of-ANDs semantics.
 */
export const ARGUMENT_SCOPES_SPEC = "https://kamina-graph.invalid/argumentRequiresScopes/";
export const ARGUMENT_SCOPES_DIRECTIVE = "argumentRequiresScopes";

/** The rule the argument directive(s) named `names` state, or undefined when there is none. */
export function argumentRuleOf(directives: readonly ConstDirectiveNode[] | undefined, names: readonly string[]): AccessRule | undefined {
  return ruleOf(directives, { requiresScopes: names, authenticated: [] });
}

/** `Query.users(band:)`: the schema coordinate of an argument, as errors and docs name it. */
export function argumentCoordinate(fieldCoordinate: string, argument: string): string {
  return `${fieldCoordinate}(${argument}:)`;
}

/** All of the rules must hold (field and return type; several subgraphs). */
export function combineRules(...rules: (AccessRule | undefined)[]): AccessRule | undefined {
  const present = rules.filter((rule): rule is AccessRule => rule !== undefined);
  if (present.length === 0) return undefined;
  if (present.length === 1) return present[0];
  // The same requirement stated twice (on a field and on its return type) is one requirement.
  const scopes = new Map(present.flatMap((rule) => rule.scopes).map((requirement) => [JSON.stringify(requirement), requirement]));
  return { authenticated: present.some((rule) => rule.authenticated), scopes: [...scopes.values()] };
}

/**
 * Whether `granted` covers the rule's scopes. `@authenticated` holds for every request that
 * got this far: a request without a valid token was already answered 401.
 */
export function grants(granted: ReadonlySet<string>, rule: AccessRule): boolean {
  return rule.scopes.length === 0 || satisfies(granted, rule.scopes);
}

/** "debts.read", "coach.read and coach.transcripts.read", "(a and b) or c", ... for messages and docs. */
export function describeRule(rule: AccessRule): string {
  if (rule.scopes.length === 0) return "a valid token";
  const alternatives = (requirement: ScopeRequirement) => {
    const parts = requirement.map((all) => all.join(" and "));
    return parts.length === 1 ? parts[0]! : parts.map((part) => (part.includes(" and ") ? `(${part})` : part)).join(" or ");
  };
  return rule.scopes.map(alternatives).join("; and ");
}

function scopeRequirementOf(value: ConstValueNode): ScopeRequirement {
  // Input coercion lets a single value stand for a one-element list at either level.
  const outer = value.kind === Kind.LIST ? value.values : [value];
  return outer.map((inner) => (inner.kind === Kind.LIST ? inner.values : [inner]).map(scopeName));
}

function scopeName(value: ConstValueNode): string {
  if (value.kind !== Kind.STRING) throw new Error(`@requiresScopes takes scope names as strings, got ${value.kind}`);
  return value.value;
}
