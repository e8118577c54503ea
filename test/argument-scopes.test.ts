import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { composeServices } from "@apollo/composition";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { buildSchema, execute, Kind, parse, print, type DocumentNode } from "graphql";
import { OperationFilter } from "../gateway/scopes/operation-filter.ts";
import { readSupergraphSecurity } from "../gateway/scopes/supergraph-rules.ts";
import { ARGUMENT_SCOPES_DIRECTIVE, argumentRuleOf } from "../platform/auth/access-rules.ts";
import type { ConsentGrants } from "../platform/auth/consent-grants.ts";
import { FieldAccess } from "../platform/auth/field-access.ts";
import { isScope } from "../platform/auth/scopes.ts";
import { committedSupergraph } from "../schema/composition.ts";
import { SUBGRAPHS } from "../subgraphs/index.ts";
import { enforceScopes } from "../subgraphs/shared/scope-enforcement.ts";
import type { TestDatabase } from "../testkit/postgres.ts";
import { bearer, consentToken, sandboxCredentials } from "../testkit/tokens.ts";
import { countStatements, postGraphQL, type GraphQLResponse, type startTestKamina } from "./support/kamina.ts";
import { startSeededKamina, stopSeededKamina } from "./support/seeded-kamina.ts";
import type pg from "pg";
import { postAsGateway } from "../testkit/gateway-signature.ts";

const DEMO_USER = "USR_42891";
const UNAUTHORIZED = "UNAUTHORIZED_FIELD_OR_TYPE";

/**
 * The only arguments that need no `@argumentRequiresScopes`, by name and type wherever they sit.
 * Keep this list short: anything that selects rows by a value of a person's data is not on it.
 */
const HARMLESS_ARGUMENTS: readonly { name: string; type: string; why: string }[] = [
  { name: "first", type: "Int", why: "pagination: how many rows, never which ones" },
  { name: "after", type: "String", why: "an opaque cursor a previous answer handed out: where to resume, keyed by ids the caller was already shown" },
  { name: "id", type: "ID!", why: "names the person or row to read or act on; the field's own rule and the person's consent decide what comes back" },
  { name: "country", type: "Country", why: "filters by tenant, which `User.country` shows any authenticated caller (no scope); a country the caller does not serve matches nobody" },
  { name: "userId", type: "ID", why: "names the person to act on; a person the caller cannot see answers as one who does not exist" },
];

const isHarmless = (name: string, type: string) => HARMLESS_ARGUMENTS.some((harmless) => harmless.name === name && harmless.type === type);

/** `Type.field(argument:)` of every argument in the SDL's object and interface fields that neither declares its scopes nor is harmless. */
function undeclaredArguments(document: DocumentNode): string[] {
  const missing: string[] = [];
  for (const definition of document.definitions) {
    if (
      definition.kind !== Kind.OBJECT_TYPE_DEFINITION &&
      definition.kind !== Kind.OBJECT_TYPE_EXTENSION &&
      definition.kind !== Kind.INTERFACE_TYPE_DEFINITION &&
      definition.kind !== Kind.INTERFACE_TYPE_EXTENSION
    ) {
      continue;
    }
    for (const field of definition.fields ?? []) {
      for (const argument of field.arguments ?? []) {
        if (isHarmless(argument.name.value, print(argument.type))) continue;
        if (!argumentRuleOf(argument.directives, [ARGUMENT_SCOPES_DIRECTIVE])) missing.push(`${definition.name.value}.${field.name.value}(${argument.name.value}:)`);
      }
    }
  }
  return missing.sort();
}

describe("every argument states what passing it takes", () => {
  test("each subgraph's SDL: every argument but pagination and named ids carries @argumentRequiresScopes", () => {
    for (const [name, subgraph] of Object.entries(SUBGRAPHS)) {
      assert.deepEqual(undeclaredArguments(subgraph.typeDefs), [], `subgraphs/${name}/schema.graphql: declare @argumentRequiresScopes on these arguments (see docs/scopes.md, "Arguments")`);
    }
  });

  test("the supergraph the gateway enforces carries every declaration, and reads each one", () => {
    const supergraph = parse(committedSupergraph());
    assert.deepEqual(undeclaredArguments(supergraph), []);
    const { argumentRules } = readSupergraphSecurity(committedSupergraph());
    let declared = 0;
    for (const definition of supergraph.definitions) {
      if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION) continue;
      for (const field of definition.fields ?? []) {
        for (const argument of field.arguments ?? []) {
          if (isHarmless(argument.name.value, print(argument.type))) continue;
          declared++;
          assert.ok(argumentRules.get(`${definition.name.value}.${field.name.value}`)?.has(argument.name.value), `${definition.name.value}.${field.name.value}(${argument.name.value}:)`);
        }
      }
    }
    assert.ok(declared >= 12, `the walk reached the declared arguments (${declared})`);
  });

  test("the walk names an argument that forgets, and every harmless kind is still in use", () => {
    const sdl = parse(`
      directive @argumentRequiresScopes(scopes: [[String!]!]!) on ARGUMENT_DEFINITION
      type Query { people(first: Int, after: String, risk: String, score: Int @argumentRequiresScopes(scopes: [["wellness.read"]])): [Person!]! }
      type Person { id: ID! history(months: Int): [Int!]! }`);
    assert.deepEqual(undeclaredArguments(sdl), ["Person.history(months:)", "Query.people(risk:)"]);
    const everyArgument = Object.values(SUBGRAPHS).flatMap((subgraph) =>
      subgraph.typeDefs.definitions.flatMap((definition) =>
        "fields" in definition ? (definition.fields ?? []).flatMap((field) => ("arguments" in field ? (field.arguments ?? []) : [])) : [],
      ),
    );
    for (const harmless of HARMLESS_ARGUMENTS) {
      assert.ok(everyArgument.some((argument) => argument.name.value === harmless.name && print(argument.type) === harmless.type), `${harmless.name}: ${harmless.type} is unused: drop it from the list`);
    }
  });

  test("every scope an argument names is one the catalogue knows", () => {
    const { argumentRules } = readSupergraphSecurity(committedSupergraph());
    for (const [coordinate, byName] of argumentRules) {
      for (const [name, rule] of byName) {
        for (const scope of rule.scopes.flat(2)) assert.ok(isScope(scope), `${coordinate}(${name}:) names ${scope}, which platform/auth/scopes.ts does not know`);
      }
    }
  });

  test("the band filter needs wellness.read: the scope of the value it reveals", () => {
    const { argumentRules } = readSupergraphSecurity(committedSupergraph());
    assert.deepEqual(argumentRules.get("Query.users")?.get("band")?.scopes, [[["wellness.read"]]]);
  });
});

describe("argument scopes at the gateway's filter", () => {
  const link = `extend schema
    @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@requiresScopes", "@composeDirective"])
    @link(url: "https://kamina-graph.invalid/argumentRequiresScopes/v0.1", import: ["@argumentRequiresScopes"])
    @composeDirective(name: "@argumentRequiresScopes")
    directive @argumentRequiresScopes(scopes: [[String!]!]!) on ARGUMENT_DEFINITION`;
  const composed = composeServices([
    {
      name: "one",
      url: "http://one.invalid",
      typeDefs: parse(`${link}
        enum Tier { LOW HIGH }
        type Query {
          people(first: Int, tier: Tier @argumentRequiresScopes(scopes: [["tier.read"]])): [Person!]
          count(tier: Tier = HIGH @argumentRequiresScopes(scopes: [["tier.read"]])): Int!
        }
        type Person @key(fields: "id") {
          id: ID!
          notes(tag: String @argumentRequiresScopes(scopes: [["a"], ["b", "c"]])): [String!] @requiresScopes(scopes: [["notes.read"]])
        }`),
    },
  ]);
  assert.equal(composed.errors, undefined);
  const security = readSupergraphSecurity(composed.supergraphSdl!);
  const filter = new OperationFilter(buildSchema(security.gatewaySdl), security.fieldRules, security.argumentRules);
  const refused = (query: string, scopes: string[], variables: Record<string, unknown> | "unknown" = {}) =>
    filter.filter(parse(query), null, new Set(scopes), variables === "unknown" ? undefined : variables).removals.map((removal) => `${removal.path.join(".")} ${removal.coordinate} needs ${removal.needs}`);

  test("an argument passed with a value removes its field unless the scopes cover it", () => {
    assert.deepEqual(refused(`{ people(tier: HIGH) { id } }`, []), ["people Query.people(tier:) needs tier.read"]);
    assert.deepEqual(refused(`{ people(tier: HIGH) { id } }`, ["tier.read"]), []);
    assert.deepEqual(refused(`{ people(first: 3) { id } }`, []), [], "an argument left out is no filter");
    assert.deepEqual(refused(`{ people(tier: null) { id } }`, []), [], "null is no filter");
  });

  test("variables: the value decides, and without the variables a variable counts as a value", () => {
    const query = `query($t: Tier) { people(tier: $t) { id } }`;
    assert.deepEqual(refused(query, [], { t: "LOW" }), ["people Query.people(tier:) needs tier.read"]);
    assert.deepEqual(refused(query, [], { t: null }), []);
    assert.deepEqual(refused(query, [], {}), []);
    assert.deepEqual(refused(query, [], "unknown"), ["people Query.people(tier:) needs tier.read"]);
    assert.deepEqual(refused(`query($t: Tier = LOW) { people(tier: $t) { id } }`, [], {}), ["people Query.people(tier:) needs tier.read"]);
  });

  test("a default in the schema is a value: the resolver filters by it", () => {
    assert.deepEqual(refused(`{ count }`, []), ["count Query.count(tier:) needs tier.read"]);
    assert.deepEqual(refused(`{ count(tier: null) }`, []), []);
  });

  test("OR of ANDs, and a field's own rule comes first", () => {
    const query = `{ people { notes(tag: "x") } }`;
    assert.deepEqual(refused(query, ["notes.read", "a"]), []);
    assert.deepEqual(refused(query, ["notes.read", "b", "c"]), []);
    assert.deepEqual(refused(query, ["notes.read", "b"]), ["people.@.notes Person.notes(tag:) needs a or (b and c)"]);
    assert.deepEqual(refused(query, ["a"]), ["people.@.notes Person.notes needs notes.read"]);
  });

  test("aliases, named and inline fragments are filtered like any selection", () => {
    const query = `{ a: people(tier: HIGH) { id } b: people { id } ...F ... on Query { c: people(tier: LOW) { id } } } fragment F on Query { d: people(tier: HIGH) { id } }`;
    const result = filter.filter(parse(query), null, new Set(), {});
    assert.deepEqual(result.removals.map((removal) => removal.path.join(".")).sort(), ["a", "c", "d"]);
    assert.doesNotMatch(print(result.document), /tier/);
  });
});

describe("argument scopes in a subgraph reached directly", () => {
  const typeDefs = parse(`
    extend schema
      @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@requiresScopes", "@composeDirective"])
      @link(url: "https://kamina-graph.invalid/argumentRequiresScopes/v0.1", import: ["@argumentRequiresScopes"])
      @composeDirective(name: "@argumentRequiresScopes")
    directive @argumentRequiresScopes(scopes: [[String!]!]!) on ARGUMENT_DEFINITION
    type Query { count(tier: String @argumentRequiresScopes(scopes: [["tier.read"]])): Int }
    type User @key(fields: "id") {
      id: ID!
      notes(tag: String @argumentRequiresScopes(scopes: [["tier.read"]])): [String!] @requiresScopes(scopes: [["notes.read"]])
    }`);
  const schema = enforceScopes(
    buildSubgraphSchema([
      {
        typeDefs,
        resolvers: {
          Query: { count: (_root: unknown, { tier }: { tier?: string }) => (tier ? 1 : 5) },
          User: { __resolveReference: (reference: { id: string }) => reference, notes: (_user: unknown, { tag }: { tag?: string }) => [tag ?? "all"] },
        } as never,
      },
    ]),
  );
  const viewer = (scopes: string[]) => ({
    kind: "consent" as const, environment: "live" as const,
    clientId: "of_test",
    userId: "USR_1",
    consentId: "CNS_1",
    country: "MX" as const,
    scopes: new Set(scopes),
    tokenId: "t",
  });
  const run = async (query: string, scopes: string[], variables: Record<string, unknown> = {}) => {
    const result = await execute({ schema, document: parse(query), variableValues: variables, contextValue: { access: new FieldAccess(viewer(scopes), {} as ConsentGrants) } });
    return { data: JSON.parse(JSON.stringify(result.data)) as unknown, errors: (result.errors ?? []).map((error) => `${error.path?.join(".")} ${String(error.extensions.code)} ${error.message}`) };
  };

  test("a root field's argument needs the token's scopes", async () => {
    assert.deepEqual(await run(`{ count(tier: "HIGH") }`, []), {
      data: { count: null },
      errors: [`count ${UNAUTHORIZED} Not authorised to pass Query.count(tier:): it needs tier.read, granted by this person to this client`],
    });
    assert.deepEqual(await run(`query($t: String) { count(tier: $t) }`, [], { t: null }), { data: { count: 5 }, errors: [] });
    assert.deepEqual(await run(`{ count(tier: "HIGH") }`, ["tier.read"]), { data: { count: 1 }, errors: [] });
  });

  test("through _entities, a person's field with a filter needs that person's consent for the argument too", async () => {
    const query = `query($r: [_Any!]!, $tag: String) { _entities(representations: $r) { ... on User { notes(tag: $tag) } } }`;
    const me = [{ __typename: "User", id: "USR_1" }];
    const refused = await run(query, ["notes.read"], { r: me, tag: "x" });
    assert.deepEqual(refused.data, { _entities: [{ notes: null }] });
    assert.deepEqual(refused.errors, [`_entities.0.notes ${UNAUTHORIZED} Not authorised to pass User.notes(tag:): it needs tier.read, granted by this person to this client`]);
    assert.deepEqual((await run(query, ["notes.read"], { r: me })).data, { _entities: [{ notes: ["all"] }] });
    assert.deepEqual((await run(query, ["notes.read", "tier.read"], { r: me, tag: "x" })).data, { _entities: [{ notes: ["x"] }] });
    const other = await run(query, ["notes.read", "tier.read"], { r: [{ __typename: "User", id: "USR_2" }], tag: "x" });
    assert.deepEqual(other.data, { _entities: [{ notes: null }] }, "another person's data stays closed");
  });
});

describe("the band filter through the running gateway", () => {
  let database: TestDatabase;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  let sql: pg.Client;
  let demoBand: string;
  let debtsOnly: Record<string, string>;
  let debtsAndWellness: Record<string, string>;

  const partnerToken = async (scope: string): Promise<Record<string, string>> => {
    const response = await fetch(`${kamina.gateway!.origin}/v1/auth/token`, {
      method: "POST",
      headers: { "content-type": "application/json", ...sandboxCredentials(kamina) },
      body: JSON.stringify({ grant_type: "client_credentials", scope }),
    });
    assert.equal(response.status, 200);
    return bearer(((await response.json()) as { access_token: string }).access_token);
  };

  const assertRefused = (response: GraphQLResponse, path: string[]) => {
    assert.equal(response.status, 200);
    assert.equal(response.body.data, null, "users is non-null: refusing it nulls data, as a refused non-null field does");
    const errors = response.body.errors ?? [];
    assert.deepEqual(errors.map((error) => [error.extensions?.code, error.path]), [[UNAUTHORIZED, path]]);
    assert.equal(errors[0]!.message, "Unauthorized field or type: Query.users(band:) needs wellness.read");
  };

  before(async () => {
    ({ database, kamina, sql } = await startSeededKamina({ users: 40, seed: 11, poolSize: 2 }));
    const latest = await sql.query<{ band: string }>("SELECT band::text AS band FROM wellness_snapshot WHERE user_id = $1 ORDER BY snapshot_date DESC LIMIT 1", [DEMO_USER]);
    demoBand = latest.rows[0]!.band;
    debtsOnly = bearer(await consentToken(kamina, DEMO_USER, ["debts.read"]));
    debtsAndWellness = bearer(await consentToken(kamina, DEMO_USER, ["debts.read", "wellness.read"]));
  });

  after(async () => {
    await stopSeededKamina({ database, kamina, sql });
  });

  test("users(band:) { totalCount } with debts.read alone is refused with the field-scope code; with wellness.read it is served", async () => {
    assertRefused(await postGraphQL(kamina.graphqlUrl, `{ users(band: ${demoBand}) { totalCount } }`, {}, debtsOnly), ["users"]);
    const served = await postGraphQL(kamina.graphqlUrl, `{ users(band: ${demoBand}) { totalCount } other: users(band: ${demoBand === "RED" ? "GREEN" : "RED"}) { totalCount } }`, {}, debtsAndWellness);
    assert.equal(served.body.errors, undefined);
    assert.deepEqual(served.body.data, { users: { totalCount: 1 }, other: { totalCount: 0 } });
    const unfiltered = await postGraphQL(kamina.graphqlUrl, `{ users { totalCount edges { node { id debts { id } } } } }`, {}, debtsOnly);
    assert.equal(unfiltered.body.errors, undefined, "without the filter, debts.read lists and reads as before");
    assert.equal(unfiltered.body.data!.users.totalCount, 1);
  });

  test("a partner token: debts.read alone is refused, and no subgraph is asked", async () => {
    const debtsPartner = await partnerToken("debts.read");
    const statements = await countStatements(kamina, async () => {
      assertRefused(await postGraphQL(kamina.graphqlUrl, `{ users(band: RED) { totalCount } }`, {}, debtsPartner), ["users"]);
    });
    assert.deepEqual(Object.values(statements).filter((count) => count > 0), [], "the refused field is never sent to the wellness subgraph");
    const wellnessPartner = await partnerToken("debts.read wellness.read");
    const served = await postGraphQL(kamina.graphqlUrl, `{ users(band: RED) { totalCount } }`, {}, wellnessPartner);
    assert.equal(served.body.errors, undefined);
    assert.equal(typeof served.body.data!.users.totalCount, "number");
  });

  test("a partner token with wellness.read: the band matches only people whose own consent grants wellness.read", async () => {
    const partner = await partnerToken("debts.read wellness.read");
    const picked = await sql.query<{ id: string; band: string; consent: string; scopes: string[] }>(`
      SELECT u.id, latest.band::text AS band, c.id AS consent, c.scopes
      FROM app_user u
      JOIN consent c ON c.user_id = u.id AND c.client_id = 'of_lab_demo' AND c.status = 'AUTHORISED'
      JOIN LATERAL (SELECT s.band FROM wellness_snapshot s WHERE s.user_id = u.id ORDER BY s.snapshot_date DESC LIMIT 1) latest ON true
      WHERE u.id <> $1 AND (SELECT count(*) FROM consent o WHERE o.user_id = u.id AND o.client_id = 'of_lab_demo') = 1
      ORDER BY u.id LIMIT 1`, [DEMO_USER]);
    const person = picked.rows[0]!;
    const query = `query($band: WellnessBand) { users(first: 100, band: $band) { totalCount edges { node { id } } } }`;
    const ids = (body: GraphQLResponse["body"]) => (body.data!.users.edges as { node: { id: string } }[]).map((edge) => edge.node.id);

    const before = await postGraphQL(kamina.graphqlUrl, query, { band: person.band }, partner);
    assert.ok(ids(before.body).includes(person.id), "their consent grants wellness.read: their band matches");
    await sql.query("UPDATE consent SET scopes = ARRAY['debts.read'] WHERE id = $1", [person.consent]);
    try {
      const after = await postGraphQL(kamina.graphqlUrl, query, { band: person.band }, partner);
      assert.equal(after.body.errors, undefined);
      assert.ok(!ids(after.body).includes(person.id), "a person who granted debts.read alone is never matched by their band");
      assert.equal(after.body.data!.users.totalCount, before.body.data!.users.totalCount - 1, "nor counted");
      const unfiltered = await postGraphQL(kamina.graphqlUrl, query, {}, partner);
      assert.ok(ids(unfiltered.body).includes(person.id), "they are still listed: debts.read is theirs to read");
    } finally {
      await sql.query("UPDATE consent SET scopes = $2 WHERE id = $1", [person.consent, person.scopes]);
    }
  });

  test("through an alias, a named fragment and an inline fragment", async () => {
    assertRefused(await postGraphQL(kamina.graphqlUrl, `{ who: users(band: RED) { totalCount } }`, {}, debtsOnly), ["who"]);
    assertRefused(await postGraphQL(kamina.graphqlUrl, `{ ...Count } fragment Count on Query { users(band: RED) { totalCount } }`, {}, debtsOnly), ["users"]);
    assertRefused(await postGraphQL(kamina.graphqlUrl, `{ ... on Query { users(band: RED) { n: totalCount } } }`, {}, debtsOnly), ["users"]);
  });

  test("through variables: a value (or a default) is refused, none is served, whatever was asked before", async () => {
    const query = `query Band($band: WellnessBand) { users(band: $band) { totalCount } }`;
    const served = await postGraphQL(kamina.graphqlUrl, query, { band: null }, debtsOnly);
    assert.deepEqual(served.body, { data: { users: { totalCount: 1 } } });
    assert.deepEqual((await postGraphQL(kamina.graphqlUrl, query, {}, debtsOnly)).body, { data: { users: { totalCount: 1 } } });
    assertRefused(await postGraphQL(kamina.graphqlUrl, query, { band: "RED" }, debtsOnly), ["users"]);
    assert.deepEqual((await postGraphQL(kamina.graphqlUrl, query, { band: null }, debtsOnly)).body, { data: { users: { totalCount: 1 } } }, "the refusal is not cached for the null shape");
    assertRefused(await postGraphQL(kamina.graphqlUrl, `query($band: WellnessBand = RED) { users(band: $band) { totalCount } }`, {}, debtsOnly), ["users"]);
  });

  test("the wellness subgraph reached directly refuses the filter too", async () => {
    const direct = await postAsGateway(kamina, kamina.subgraphs.wellness!.url, `{ users(band: RED) { totalCount } }`, {}, debtsOnly);
    assert.equal(direct.body.data, null);
    assert.deepEqual(direct.body.errors!.map((error) => [error.extensions?.code, error.path]), [[UNAUTHORIZED, ["users"]]]);
    assert.match(direct.body.errors![0]!.message, /Query\.users\(band:\).*wellness\.read/);
    const served = await postAsGateway(kamina, kamina.subgraphs.wellness!.url, `{ users(band: ${demoBand}) { totalCount } }`, {}, debtsAndWellness);
    assert.deepEqual(served.body.data, { users: { totalCount: 1 } });
  });
});
