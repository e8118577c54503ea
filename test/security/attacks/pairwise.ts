// Correlating people across clients (issue 16, item 6): a client's ids are its own; our ids and
// other clients' ids for the same person name nobody for it, and nothing it reads shows ours.
import { bearer } from "../../../testkit/tokens.ts";
import { PairwiseIds } from "../../../platform/auth/pairwise-ids.ts";
import { dataOf, type Attack, type Outcome } from "../attack.ts";
import type { SecurityContext } from "../context.ts";

const idsOf = (ctx: SecurityContext) => new PairwiseIds(ctx.kamina.gateway!.auth.config.tokens.pairwiseIdKey);
const userIsNull = (outcome: Outcome) => ((dataOf(outcome) as { user?: unknown } | null)?.user == null ? undefined : `user came back: ${JSON.stringify(dataOf(outcome)).slice(0, 200)}`);
const USER = "query ($id: ID!) { user(id: $id) { id debts { balance } } }";

export const attacks: Attack[] = [
  {
    id: "pairwise/our-id-shown",
    class: "pairwise",
    description: "the live client's consent token for person B reads me { id } and the token's sub, looking for our id",
    run: async (ctx) => {
      const outcome = await ctx.gql(ctx.graphqlUrl, "{ me { id } }", {}, bearer(ctx.tokens.liveConsent));
      const sub = JSON.parse(Buffer.from(ctx.tokens.liveConsent.split(".")[1]!, "base64url").toString("utf8")).sub as string;
      return { ...outcome, note: sub };
    },
    expect: {
      status: 200,
      code: null,
      means: "200, the client's own id (usr_…), never ours, in the answer and in the token",
      check: (o) => {
        const id = (dataOf(o) as { me?: { id?: string } } | null)?.me?.id;
        return id?.startsWith("usr_") && o.note === id ? undefined : `me.id ${id}, sub ${o.note}`;
      },
    },
  },
  {
    id: "pairwise/another-clients-id",
    class: "pairwise",
    description: "the second sandbox client reads user(id:) with the doomed client's id for person A",
    run: (ctx) => ctx.gql(ctx.graphqlUrl, USER, { id: idsOf(ctx).external(ctx.clients.doomed.id, "sandbox", ctx.people.a) }, bearer(ctx.tokens.second)),
    expect: { status: 200, code: null, means: "200, user null: another client's id names nobody", check: userIsNull },
  },
  {
    id: "pairwise/other-environment-id",
    class: "pairwise",
    description: "the live client reads user(id:) with its own id for person B as computed for the sandbox",
    run: (ctx) => ctx.gql(ctx.graphqlUrl, USER, { id: idsOf(ctx).external(ctx.clients.live.id, "sandbox", ctx.people.b) }, bearer(ctx.tokens.live)),
    expect: { status: 200, code: null, means: "200, user null: ids are per environment", check: userIsNull },
  },
  {
    id: "pairwise/our-id-as-argument",
    class: "pairwise",
    description: "the live client reads user(id:) with our own id for person B (whom it has a consent of)",
    run: (ctx) => ctx.gql(ctx.graphqlUrl, USER, { id: ctx.people.b }, bearer(ctx.tokens.live)),
    expect: { status: 200, code: null, means: "200, user null: only the client's own id names the person", check: userIsNull },
  },
  {
    id: "pairwise/forged-id",
    class: "pairwise",
    description: "the live client reads user(id:) with its id for person B with one character changed",
    run: (ctx) => {
      const id = idsOf(ctx).external(ctx.clients.live.id, "live", ctx.people.b);
      return ctx.gql(ctx.graphqlUrl, USER, { id: id.slice(0, -1) + (id.endsWith("A") ? "B" : "A") }, bearer(ctx.tokens.live));
    },
    expect: { status: 200, code: null, means: "200, user null: a changed id decrypts to nobody", check: userIsNull },
  },
  {
    id: "pairwise/literal-forged-id",
    class: "pairwise",
    description: "the live client reads user(id:) with a made-up usr_ id as a literal",
    run: (ctx) => ctx.gql(ctx.graphqlUrl, `{ user(id: "usr_AAAAAAAAAAAAAAAAAAAAAAAAAAAA") { id } }`, undefined, bearer(ctx.tokens.live)),
    expect: { status: 200, code: null, means: "200, user null", check: userIsNull },
  },
];
