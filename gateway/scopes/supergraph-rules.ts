import {
  Kind,
  parse,
  print,
  visit,
  type ConstDirectiveNode,
  type DefinitionNode,
  type DocumentNode,
  type FieldDefinitionNode,
  type TypeNode,
} from "graphql";
import {
  ARGUMENT_SCOPES_DIRECTIVE,
  ARGUMENT_SCOPES_SPEC,
  argumentRuleOf,
  combineRules,
  ruleOf,
  type AccessDirectiveNames,
  type AccessRule,
} from "../../platform/auth/access-rules.ts";

const REQUIRES_SCOPES_SPEC = "https://specs.apollo.dev/requiresScopes/";
const AUTHENTICATED_SPEC = "https://specs.apollo.dev/authenticated/";

/** Every field that needs something, by coordinate (`User.debts`): its own rule AND its return type's. */
export type FieldRules = ReadonlyMap<string, AccessRule>;

/**
 * Every argument that needs something, by field coordinate (`Query.users`) and then argument
 * name (`band`): the `@argumentRequiresScopes` on it, from every subgraph that defines the field.
 */
export type ArgumentRules = ReadonlyMap<string, ReadonlyMap<string, AccessRule>>;

export interface SupergraphSecurity {
  /**
   * The supergraph as `@apollo/gateway` accepts it: the `for: SECURITY` purpose dropped from
   * the `@link`s of the two security features, which it refuses to load otherwise (it does not
   * enforce them; `gateway/scopes` does).
   */
  gatewaySdl: string;
  fieldRules: FieldRules;
  argumentRules: ArgumentRules;
  /** Type-level rules, by type name (also folded into `fieldRules` of the fields returning them). */
  typeRules: ReadonlyMap<string, AccessRule>;
}

/**
 * Reads the scope requirements out of the composed supergraph. Composition already ANDs the
 * requirements of a field several subgraphs define into one `@requiresScopes`; reading every
 * application on an element and ANDing them keeps that true whatever the composer emits.
 */
export function readSupergraphSecurity(supergraphSdl: string): SupergraphSecurity {
  const document = parse(supergraphSdl);
  const names = directiveNames(document);
  const typeRules = new Map<string, AccessRule>();
  const fieldsByType = new Map<string, FieldDefinitionNode[]>();
  for (const definition of document.definitions) {
    if (!hasName(definition)) continue;
    const rule = ruleOf("directives" in definition ? (definition.directives as readonly ConstDirectiveNode[] | undefined) : undefined, names);
    const name = definition.name.value;
    if (rule) typeRules.set(name, combineRules(typeRules.get(name), rule)!);
    if (
      definition.kind === Kind.OBJECT_TYPE_DEFINITION ||
      definition.kind === Kind.OBJECT_TYPE_EXTENSION ||
      definition.kind === Kind.INTERFACE_TYPE_DEFINITION ||
      definition.kind === Kind.INTERFACE_TYPE_EXTENSION
    ) {
      fieldsByType.set(name, [...(fieldsByType.get(name) ?? []), ...(definition.fields ?? [])]);
    }
  }
  const fieldRules = new Map<string, AccessRule>();
  const argumentRules = new Map<string, Map<string, AccessRule>>();
  for (const [typeName, fields] of fieldsByType) {
    for (const field of fields) {
      for (const argument of field.arguments ?? []) {
        const argumentRule = argumentRuleOf(argument.directives, names.argumentRequiresScopes);
        if (!argumentRule) continue;
        const coordinate = `${typeName}.${field.name.value}`;
        let byName = argumentRules.get(coordinate);
        if (!byName) argumentRules.set(coordinate, (byName = new Map()));
        byName.set(argument.name.value, combineRules(byName.get(argument.name.value), argumentRule)!);
      }
      const rule = combineRules(ruleOf(field.directives, names), typeRules.get(namedType(field.type)));
      if (rule) {
        const coordinate = `${typeName}.${field.name.value}`;
        fieldRules.set(coordinate, combineRules(fieldRules.get(coordinate), rule)!);
      }
    }
  }
  return { gatewaySdl: withoutSecurityPurpose(document), fieldRules, argumentRules, typeRules };
}

/** The local names of the three directives, from the supergraph's `@link`s (`as:` renames them). */
function directiveNames(document: DocumentNode): AccessDirectiveNames & { argumentRequiresScopes: string[] } {
  const names = { requiresScopes: [] as string[], authenticated: [] as string[], argumentRequiresScopes: [] as string[] };
  for (const link of securityLinks(document)) {
    if (link.url.startsWith(REQUIRES_SCOPES_SPEC)) names.requiresScopes.push(link.as ?? "requiresScopes");
    if (link.url.startsWith(AUTHENTICATED_SPEC)) names.authenticated.push(link.as ?? "authenticated");
    // A composed directive keeps the name its subgraphs imported it under.
    if (link.url.startsWith(ARGUMENT_SCOPES_SPEC)) names.argumentRequiresScopes.push(link.as ?? ARGUMENT_SCOPES_DIRECTIVE);
  }
  return names;
}

const SECURITY_SPECS = [REQUIRES_SCOPES_SPEC, AUTHENTICATED_SPEC, ARGUMENT_SCOPES_SPEC];

function securityLinks(document: DocumentNode): { url: string; as: string | undefined }[] {
  const links: { url: string; as: string | undefined }[] = [];
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.SCHEMA_DEFINITION && definition.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const directive of definition.directives ?? []) {
      if (directive.name.value !== "link") continue;
      const argument = (name: string) => {
        const value = directive.arguments?.find((candidate) => candidate.name.value === name)?.value;
        return value?.kind === Kind.STRING ? value.value : undefined;
      };
      const url = argument("url");
      if (url && SECURITY_SPECS.some((spec) => url.startsWith(spec))) links.push({ url, as: argument("as") });
    }
  }
  return links;
}

function withoutSecurityPurpose(document: DocumentNode): string {
  const stripped = visit(document, {
    Directive(node) {
      if (node.name.value !== "link") return undefined;
      const purpose = node.arguments?.find((argument) => argument.name.value === "for");
      if (purpose?.value.kind !== Kind.ENUM || purpose.value.value !== "SECURITY") return undefined;
      return { ...node, arguments: node.arguments!.filter((argument) => argument !== purpose) };
    },
  });
  return print(stripped);
}

function hasName(definition: DefinitionNode): definition is Extract<DefinitionNode, { name: { value: string } }> {
  return "name" in definition && definition.name !== undefined && definition.kind !== Kind.DIRECTIVE_DEFINITION;
}

function namedType(type: TypeNode): string {
  return type.kind === Kind.NAMED_TYPE ? type.name.value : namedType(type.type);
}
