// Pairwise ids at the GraphQL edge (issue 16, item 6): inside, `User.id` is our id, the
// federation key every subgraph joins on; a partner sends and reads its own pairwise id for the
// person. The gateway translates the arguments that name a person on the way in, and every
// `User.id` of the answer on the way out, for the request's client and environment.
import {
  getNamedType,
  isCompositeType,
  isObjectType,
  Kind,
  visit,
  type ArgumentNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  type SelectionSetNode,
} from "graphql";
import type { PairwiseIds } from "../../platform/auth/pairwise-ids.ts";
import type { Viewer } from "../../platform/auth/viewer.ts";

/** The arguments that name a person, by coordinate. test/pairwise-ids.test.ts walks the schema so a new one cannot be forgotten. */
export const PERSON_ID_ARGUMENTS: ReadonlySet<string> = new Set(["Query.user(id:)", "Mutation.runDiagnosis(userId:)", "Mutation.raiseSandboxAlert(userId:)", "Subscription.alertCreated(userId:)"]);

/** What an id the client was never given becomes: a person nobody is, so the answer is "not found". */
export const UNKNOWN_PERSON = "USR_unknown";

/** The type whose `id` is a person's id. */
const PERSON_TYPE = "User";

export interface PersonIdTranslation {
  document: DocumentNode;
  variables: Record<string, unknown> | undefined;
  /** True when a literal argument was rewritten (the document differs: plan it under its own hash). */
  documentChanged: boolean;
}

interface PersonArguments {
  /** The variables that stand for a person. */
  variables: string[];
  /** Whether a person is named by a literal (the document is rewritten per viewer). */
  literals: boolean;
}

export class GraphQLPersonIds {
  private readonly found = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, PersonArguments>>();

  constructor(private readonly ids: PairwiseIds) {}

  /** Our id for what the viewer's client sent. */
  inbound(viewer: Viewer, sent: string): string {
    return this.ids.internal(viewer.clientId, viewer.environment, sent) ?? UNKNOWN_PERSON;
  }

  outbound(viewer: Viewer, ours: string): string {
    return this.ids.external(viewer.clientId, viewer.environment, ours);
  }

  /** The operation with every person argument (literal or variable) in our ids. */
  translateArguments(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, viewer: Viewer): PersonIdTranslation {
    const found = this.personArgumentsOf(schema, document);
    const translated = found.literals ? this.rewriteLiterals(schema, document, viewer) : document;
    if (found.variables.length === 0 || !variables) return { document: translated, variables, documentChanged: found.literals };
    const inbound = { ...variables };
    for (const name of found.variables) {
      const value = inbound[name];
      if (typeof value === "string") inbound[name] = this.inbound(viewer, value);
    }
    return { document: translated, variables: inbound, documentChanged: found.literals };
  }

  /**
   * Where `document` names a person, found once per parsed document (Apollo keeps one per query
   * text): a walk of the whole document per request was about a fortieth of the gateway's CPU.
   */
  private personArgumentsOf(schema: GraphQLSchema, document: DocumentNode): PersonArguments {
    let bySchema = this.found.get(schema);
    if (!bySchema) this.found.set(schema, (bySchema = new WeakMap()));
    let found = bySchema.get(document);
    if (!found) {
      const variables = new Set<string>();
      let literals = false;
      forEachPersonArgument(schema, document, (argument) => {
        if (argument.value.kind === Kind.VARIABLE) variables.add(argument.value.name.value);
        else if (argument.value.kind === Kind.STRING) literals = true;
        return undefined;
      });
      bySchema.set(document, (found = { variables: [...variables], literals }));
    }
    return found;
  }

  /** The document with every literal person argument in our id. */
  private rewriteLiterals(schema: GraphQLSchema, document: DocumentNode, viewer: Viewer): DocumentNode {
    return forEachPersonArgument(schema, document, (argument) =>
      argument.value.kind === Kind.STRING ? { ...argument, value: { ...argument.value, value: this.inbound(viewer, argument.value.value) } } : undefined,
    );
  }

  /** Rewrites, in place, every `User.id` of `data` (the answer to `document`'s operation) as the viewer's client sees it. */
  translateResult(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, data: Record<string, unknown>, viewer: Viewer): void {
    if (this.ids.keepsOwnIds(viewer.clientId, viewer.environment)) return;
    const fragments = new Map<string, FragmentDefinitionNode>();
    let operation: Extract<DocumentNode["definitions"][number], { kind: Kind.OPERATION_DEFINITION }> | undefined;
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
      else if (definition.kind === Kind.OPERATION_DEFINITION && (!operationName || definition.name?.value === operationName)) operation ??= definition;
    }
    if (!operation) return;
    const root = operation.operation === "query" ? schema.getQueryType() : operation.operation === "mutation" ? schema.getMutationType() : schema.getSubscriptionType();
    if (!root) return;
    const walk = (selectionSet: SelectionSetNode, type: GraphQLCompositeType, value: unknown, seen: ReadonlySet<string>): void => {
      if (value === null || typeof value !== "object") return;
      if (Array.isArray(value)) {
        for (const item of value) walk(selectionSet, type, item, seen);
        return;
      }
      const record = value as Record<string, unknown>;
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) {
          const key = selection.alias?.value ?? selection.name.value;
          if (!(key in record)) continue;
          if (type.name === PERSON_TYPE && selection.name.value === "id") {
            const id = record[key];
            if (typeof id === "string") record[key] = this.outbound(viewer, id);
            continue;
          }
          if (!selection.selectionSet) continue;
          const field = "getFields" in type ? type.getFields()[selection.name.value] : undefined;
          const fieldType = field ? getNamedType(field.type) : undefined;
          if (fieldType && isCompositeType(fieldType)) walk(selection.selectionSet, fieldType, record[key], seen);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          const on = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : type;
          if (on && isCompositeType(on) && applies(on, record)) walk(selection.selectionSet, on, record, seen);
        } else {
          const name = selection.name.value;
          const fragment = fragments.get(name);
          if (!fragment || seen.has(name)) continue;
          const on = schema.getType(fragment.typeCondition.name.value);
          if (on && isCompositeType(on) && applies(on, record)) walk(fragment.selectionSet, on, record, new Set([...seen, name]));
        }
      }
    };
    walk(operation.selectionSet, root, data, new Set());
  }
}

/**
 * Calls `each` with every argument of a root field that names a person (PERSON_ID_ARGUMENTS);
 * an argument it answers replaces that one in the document returned.
 */
function forEachPersonArgument(schema: GraphQLSchema, document: DocumentNode, each: (argument: ArgumentNode) => ArgumentNode | undefined): DocumentNode {
  const rootTypes: Record<string, string | undefined> = {
    query: schema.getQueryType()?.name,
    mutation: schema.getMutationType()?.name,
    subscription: schema.getSubscriptionType()?.name,
  };
  let root: string | undefined;
  let depth = 0;
  return visit(document, {
    OperationDefinition: {
      enter: (node) => {
        root = rootTypes[node.operation];
        depth = 0;
      },
    },
    SelectionSet: {
      enter: () => void depth++,
      leave: () => void depth--,
    },
    Field: (field) => {
      // Person arguments are all on root fields.
      if (depth !== 1 || !root || !field.arguments?.length) return undefined;
      let changed = false;
      const args = field.arguments.map((argument) => {
        if (!PERSON_ID_ARGUMENTS.has(`${root}.${field.name.value}(${argument.name.value}:)`)) return argument;
        const replaced = each(argument);
        if (replaced === undefined) return argument;
        changed = true;
        return replaced;
      });
      return changed ? { ...field, arguments: args } : undefined;
    },
  });
}

/** A fragment on an object type applies to a value of another type only when it says nothing of its type. */
function applies(on: GraphQLCompositeType, record: Record<string, unknown>): boolean {
  return !isObjectType(on) || typeof record.__typename !== "string" || record.__typename === on.name;
}
