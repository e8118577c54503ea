// What one operation may cost (issue 16, cause 7 and item 2): depth, aliases, root fields,
// directives, lexical tokens, fragment fan-out and estimated cost, each refused before anything
// runs, at the gateway and at the subgraph ports, with the limit named.
import { bearer } from "../../../testkit/tokens.ts";
import { refused, type Attack, type Expectation, type Outcome } from "../attack.ts";
import type { SecurityContext } from "../context.ts";

const repeat = (count: number, item: (index: number) => string) => Array.from({ length: count }, (_, index) => item(index)).join(" ");

function nested(levels: number): string {
  let inner = "id";
  for (let level = 0; level < levels; level++) inner = level % 2 === 0 ? `user { ${inner} }` : `alerts { ${inner} }`;
  return levels % 2 === 1 ? `alerts { ${inner} }` : inner;
}

const FAN_OUT = [...Array.from({ length: 7 }, (_, index) => `fragment F${index} on User { id ${repeat(4, () => `...F${index + 1}`)} }`), "fragment F7 on User { id __typename }"].join("\n");

interface Target {
  name: string;
  url: (ctx: SecurityContext) => string;
  onPerson(inner: string, fragments?: string): string;
  rootFields(count: number): string;
  room: number;
  variables?: (ctx: SecurityContext) => Record<string, unknown>;
}

const entitiesOf = (inner: string, fragments = "") => `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { ${inner} } } } ${fragments}`;
const representations = (ctx: SecurityContext) => ({ r: [{ __typename: "User", id: ctx.people.a }] });

const TARGETS: Target[] = [
  { name: "gateway", url: (ctx) => ctx.graphqlUrl, onPerson: (inner, fragments = "") => `query { me { ${inner} } } ${fragments}`, rootFields: (count) => `query { ${repeat(count, () => "me { id }")} }`, room: 1 },
  ...(["alerts", "wellness", "debts"] as const).map((subgraph): Target => ({
    name: `${subgraph}-port`,
    url: (ctx) => ctx.subgraphUrls[subgraph]!,
    onPerson: entitiesOf,
    rootFields: (count) => `query($r: [_Any!]!) { ${repeat(count, () => "_entities(representations: $r) { __typename }")} }`,
    room: 4,
    variables: representations,
  })),
];

const LIMITS: { limit: string; operation: (target: Target) => string; alertsOnly?: boolean }[] = [
  { limit: "tokens", operation: (target) => target.onPerson(repeat(20_000, (index) => `a${index}: id`)) },
  { limit: "depth", operation: (target) => target.onPerson(nested(22)), alertsOnly: true },
  { limit: "aliases", operation: (target) => target.onPerson(repeat(200, (index) => `e${index}: id`)) },
  { limit: "rootFields", operation: (target) => target.rootFields(20 * target.room + 1) },
  { limit: "directives", operation: (target) => target.onPerson(repeat(51, () => "id @include(if: true)")) },
  { limit: "selections", operation: (target) => target.onPerson("...F0", FAN_OUT) },
  { limit: "cost", operation: (target) => target.onPerson("alerts(first: 100) { user { alerts(first: 100) { user { alerts(first: 100) { id type } } } } }"), alertsOnly: true },
];

const quick = (ms: number) => (outcome: Outcome) => (Number.parseFloat(outcome.note ?? "0") < ms ? undefined : `refused only after ${outcome.note}`);
const limitRefusal = (limit: string, ms = 1_000): Expectation => ({ ...refused.tooComplex(limit), check: (o) => refused.tooComplex(limit).check!(o) ?? quick(ms)(o) });

async function timed(run: () => Promise<Outcome>): Promise<Outcome> {
  const started = performance.now();
  const outcome = await run();
  return { ...outcome, note: `${(performance.now() - started).toFixed(0)} ms` };
}

const perTarget: Attack[] = TARGETS.flatMap((target) =>
  LIMITS.filter((item) => !item.alertsOnly || target.name === "gateway" || target.name === "alerts-port").map(
    (item): Attack => ({
      id: `limits/${item.limit}@${target.name}`,
      class: "operation-limits",
      description: `an operation over the ${item.limit} limit at the ${target.name}`,
      run: (ctx) => timed(() => ctx.gql(target.url(ctx), item.operation(target), target.variables?.(ctx), bearer(ctx.tokens.a))),
      expect: limitRefusal(item.limit),
      subgraphPort: target.name !== "gateway",
    }),
  ),
);

const extras: Attack[] = [
  {
    id: "limits/20000-aliases-fast",
    class: "operation-limits",
    description: "20,000 aliases of me { id }, sent alone: refused within 500 ms end to end (issue 16 asks under 50 ms of server time; this allows for a loaded machine)",
    phase: "serial",
    run: async (ctx) => {
      const attack = `query { ${repeat(20_000, (index) => `a${index}: me { id }`)} }`;
      await ctx.gql(ctx.graphqlUrl, "{ __typename }", undefined, bearer(ctx.tokens.a));
      return timed(() => ctx.gql(ctx.graphqlUrl, attack, undefined, bearer(ctx.tokens.a)));
    },
    expect: limitRefusal("tokens", 500),
  },
  {
    id: "limits/500-expenses-aliases",
    class: "operation-limits",
    description: "500 aliased expenses fields (the issue's ~1,000 SQL statements)",
    run: (ctx) => timed(() => ctx.gql(ctx.graphqlUrl, `{ me { ${repeat(500, (index) => `e${index}: expenses(first: 1) { totalCount }`)} } }`, undefined, bearer(ctx.tokens.a))),
    expect: limitRefusal("tokens"),
  },
  {
    id: "limits/100-expenses-aliases",
    class: "operation-limits",
    description: "100 aliased expenses fields (within the token limit)",
    run: (ctx) => timed(() => ctx.gql(ctx.graphqlUrl, `{ me { ${repeat(100, (index) => `e${index}: expenses(first: 1) { totalCount }`)} } }`, undefined, bearer(ctx.tokens.a))),
    expect: limitRefusal("aliases"),
  },
  {
    id: "limits/typename-aliases",
    class: "operation-limits",
    description: "5,000 aliases of __typename",
    run: (ctx) => timed(() => ctx.gql(ctx.graphqlUrl, `{ ${repeat(5_000, (index) => `t${index}: __typename`)} }`, undefined, bearer(ctx.tokens.a))),
    expect: limitRefusal("tokens"),
  },
  {
    id: "limits/introspection-fan-out",
    class: "operation-limits",
    description: "introspection walking types -> fields -> type -> fields six times (exponential answer)",
    run: (ctx) => {
      let selection = "name";
      for (let level = 0; level < 6; level++) selection = `name fields { name type { ${selection} } }`;
      return timed(() => ctx.gql(ctx.graphqlUrl, `{ __schema { types { ${selection} } } }`, undefined, bearer(ctx.tokens.a)));
    },
    expect: { status: 400, code: "GRAPHQL_VALIDATION_FAILED", means: "400: maximum introspection depth exceeded", check: quick(1_000) },
  },
  {
    id: "limits/fragment-cycle",
    class: "operation-limits",
    description: "two fragments spreading each other",
    run: (ctx) => ctx.gql(ctx.graphqlUrl, "{ me { ...A } } fragment A on User { id ...B } fragment B on User { id ...A }", undefined, bearer(ctx.tokens.a)),
    expect: { status: 400, code: "GRAPHQL_VALIDATION_FAILED" },
  },
  {
    id: "limits/cost-from-variables",
    class: "operation-limits",
    description: "the cost estimate reads `first` from the variables",
    run: (ctx) => timed(() => ctx.gql(ctx.graphqlUrl, "query($n: Int) { me { alerts(first: $n) { user { alerts(first: $n) { user { alerts(first: $n) { id } } } } } } }", { n: 100 }, bearer(ctx.tokens.a))),
    expect: limitRefusal("cost"),
  },
  {
    id: "limits/unauthenticated-tokens",
    class: "operation-limits",
    description: "20,000 aliases without a token: no work before the refusal",
    run: (ctx) => timed(() => ctx.gql(ctx.graphqlUrl, `query { ${repeat(20_000, (index) => `a${index}: me { id }`)} }`)),
    expect: { ...refused.unauthenticated, check: quick(1_000) },
  },
  {
    id: "limits/healthz-during-attack",
    class: "operation-limits",
    description: "/healthz answers in under 500 ms while ten 20,000-alias operations are sent",
    run: async (ctx) => {
      const attack = `query { ${repeat(20_000, (index) => `a${index}: me { id }`)} }`;
      const sent = Array.from({ length: 10 }, () => ctx.gql(ctx.graphqlUrl, attack, undefined, bearer(ctx.tokens.a)));
      let slowest = 0;
      let status = 200;
      for (let round = 0; round < 5; round++) {
        const asked = performance.now();
        const health = await fetch(`${ctx.origin}/healthz`);
        await health.arrayBuffer();
        if (health.status !== 200) status = health.status;
        slowest = Math.max(slowest, performance.now() - asked);
      }
      const answers = await Promise.all(sent);
      return { status, code: answers.every((answer) => answer.code === "OPERATION_TOO_COMPLEX") ? "OPERATION_TOO_COMPLEX" : "mixed", note: `${slowest.toFixed(0)} ms` };
    },
    phase: "serial",
    expect: { status: 200, code: "OPERATION_TOO_COMPLEX", means: "healthz 200 within 500 ms, every attack refused", check: quick(500) },
  },
];

export const attacks: Attack[] = [...perTarget, ...extras];
