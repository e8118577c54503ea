import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { getIntrospectionQuery } from "graphql";
import { seedDatabase } from "../prisma/seed/index.ts";
import { createTestDatabase, type TestDatabase } from "../testkit/postgres.ts";
import { bearer, consentToken } from "../testkit/tokens.ts";
import { postGraphQL, startTestKamina, type GraphQLResponse } from "./support/kamina.ts";
import { postAsGateway } from "../testkit/gateway-signature.ts";

const PERSON = "USR_42891";
const REPRESENTATIONS = { r: [{ __typename: "User", id: PERSON }] };

/** Where an attack is sent: the gateway (selections under `me`) or the alerts subgraph's port (under `_entities`). */
interface Target {
  name: string;
  /** Posts an operation there: to the gateway as a partner does, to a subgraph's port signed as the gateway does. */
  post(query: string, variables: Record<string, unknown> | undefined, headers: Record<string, string>): Promise<GraphQLResponse>;
  /** The operation with `inner` selected on the person. */
  onPerson(inner: string, fragments?: string): string;
  /** `count` root fields. */
  rootFields(count: number): string;
  /** How much more room than the gateway's limits this target gives counts and cost (subgraphs: what planning adds). */
  room: number;
  variables?: Record<string, unknown>;
}

const repeat = (count: number, item: (index: number) => string) => Array.from({ length: count }, (_, index) => item(index)).join(" ");

/** `levels` fields deep: alerts { user { alerts { user ... { id } } } } */
function nested(levels: number): string {
  let inner = "id";
  for (let level = 0; level < levels; level++) inner = level % 2 === 0 ? `user { ${inner} }` : `alerts { ${inner} }`;
  return levels % 2 === 1 ? `alerts { ${inner} }` : inner;
}

/** Each fragment spreads the next one four times: 4^7 = 16,384 selections from 1.2 KB. */
const FAN_OUT_FRAGMENTS = [
  ...Array.from({ length: 7 }, (_, index) => `fragment F${index} on User { id ${repeat(4, () => `...F${index + 1}`)} }`),
  "fragment F7 on User { id __typename }",
].join("\n");

describe("operation limits: what one request may cost, refused before anything runs", () => {
  let database: TestDatabase;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  let headers: Record<string, string>;

  before(async () => {
    database = await createTestDatabase();
    await seedDatabase({ kind: "postgres", url: database.url, poolSize: 2 }, { users: 20, seed: 5, sandboxClientSecret: "kamina-sandbox-secret" });
    kamina = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 2 });
    headers = bearer(await consentToken(kamina, PERSON));
  });

  after(async () => {
    await kamina?.stop();
    await database?.drop();
  });

  const targets: Target[] = [
    {
      name: "the gateway",
      post: (query, variables, headers) => postGraphQL(kamina.graphqlUrl, query, variables, headers),
      onPerson: (inner, fragments = "") => `query { me { ${inner} } } ${fragments}`,
      rootFields: (count) => `query { ${repeat(count, () => "me { id }")} }`,
      room: 1,
    },
    {
      name: "a subgraph's own port",
      post: (query, variables, headers) => postAsGateway(kamina, kamina.subgraphs.alerts!.url, query, variables, headers),
      onPerson: (inner, fragments = "") => `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { ${inner} } } } ${fragments}`,
      rootFields: (count) => `query($r: [_Any!]!) { ${repeat(count, () => "_entities(representations: $r) { __typename }")} }`,
      variables: REPRESENTATIONS,
      room: 4,
    },
  ];

  const attacks: { limit: string; operation: (target: Target) => string; variables?: Record<string, unknown> }[] = [
    { limit: "tokens", operation: (target) => target.onPerson(repeat(20_000, (index) => `a${index}: id`)) },
    { limit: "depth", operation: (target) => target.onPerson(nested(22)) },
    { limit: "aliases", operation: (target) => target.onPerson(repeat(500, (index) => `e${index}: alerts { id }`)) },
    { limit: "rootFields", operation: (target) => target.rootFields(20 * target.room + 1) },
    { limit: "directives", operation: (target) => target.onPerson(repeat(51, () => "id @include(if: true)")) },
    { limit: "selections", operation: (target) => target.onPerson("...F0", FAN_OUT_FRAGMENTS) },
    { limit: "cost", operation: (target) => target.onPerson("alerts(first: 100) { user { alerts(first: 100) { user { alerts(first: 100) { id type } } } } }") },
  ];

  for (const target of targets) {
    for (const attack of attacks) {
      test(`${target.name} refuses an operation over the ${attack.limit} limit with OPERATION_TOO_COMPLEX naming it`, async () => {
        const { status, body } = await target.post(attack.operation(target), target.variables, headers);
        assert.equal(status, 400, JSON.stringify(body));
        assert.equal(body.data, undefined);
        assert.equal(body.errors?.length, 1, JSON.stringify(body.errors));
        assert.equal(body.errors![0]!.extensions?.code, "OPERATION_TOO_COMPLEX", JSON.stringify(body.errors));
        assert.equal(body.errors![0]!.extensions?.limit, attack.limit);
        assert.match(body.errors![0]!.message, new RegExp(attack.limit));
      });
    }

    test(`${target.name} still serves an ordinary operation`, async () => {
      const { status, body } = await target.post(target.onPerson("id alerts(first: 5) { id type user { id } }"), target.variables, headers);
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    });
  }

  test("a schema explorer's introspection query is within every limit", async () => {
    const { status, body } = await postGraphQL(kamina.graphqlUrl, getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }), undefined, headers);
    assert.equal(status, 200, JSON.stringify(body.errors));
    assert.equal(body.errors, undefined);
    assert.ok(body.data?.__schema);
  });

  test("the cost estimate reads `first` from the variables", async () => {
    const operation = `query($n: Int) { me { alerts(first: $n) { user { alerts(first: $n) { user { alerts(first: $n) { id } } } } } } }`;
    const small = await postGraphQL(kamina.graphqlUrl, operation, { n: 2 }, headers);
    assert.equal(small.body.errors, undefined, JSON.stringify(small.body.errors));
    const large = await postGraphQL(kamina.graphqlUrl, operation, { n: 100 }, headers);
    assert.equal(large.status, 400);
    assert.equal(large.body.errors![0]!.extensions?.limit, "cost");
  });

  test("a subgraph's cost estimate counts the representations of each request to the same document", async () => {
    const operation = `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { alerts(first: 100) { user { alerts(first: 100) { id } } } } } }`;
    const alerts = kamina.subgraphs.alerts!.url;
    const representations = (count: number) => ({ r: Array.from({ length: count }, () => ({ __typename: "User", id: PERSON })) });
    for (const [count, refused] of [[1, false], [50, true], [2, false], [50, true]] as const) {
      const { status, body } = await postAsGateway(kamina, alerts, operation, representations(count), headers);
      if (refused) {
        assert.equal(status, 400, `${count} representations: ${JSON.stringify(body)}`);
        assert.equal(body.errors![0]!.extensions?.limit, "cost");
      } else assert.equal(body.errors, undefined, `${count} representations: ${JSON.stringify(body.errors)}`);
    }
  });

  // How fast it is refused is bench:limits' figure (bench/RESULTS.md), not an assertion here.
  test("the 20,000-alias operation is refused while /healthz and other requests are answered", async () => {
    const attack = `query { ${repeat(20_000, (index) => `a${index}: me { id }`)} }`;
    const attacks: Promise<GraphQLResponse>[] = [];
    for (let round = 0; round < 10; round++) {
      attacks.push(postGraphQL(kamina.graphqlUrl, attack, undefined, headers));
      const health = await fetch(`${kamina.gateway!.origin}/healthz`);
      assert.equal(health.status, 200);
    }
    const ordinary = await postGraphQL(kamina.graphqlUrl, `{ me { id } }`, undefined, headers);
    assert.equal(ordinary.body.data?.me?.id, PERSON);
    for (const { status, body } of await Promise.all(attacks)) {
      assert.equal(status, 400);
      assert.equal(body.errors![0]!.extensions?.limit, "tokens");
    }
  });
});
