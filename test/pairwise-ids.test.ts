// Pairwise pseudonymous ids (issue 16, item 6): each client sees its own id for a person, in
// every payload; the brief's demo client keeps our ids in the sandbox.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { decodeJwt } from "jose";
import { getNamedType, isObjectType, type GraphQLSchema } from "graphql";
import { readSupergraph } from "../gateway/server.ts";
import { SubscriptionPlanner } from "../gateway/subscriptions/subscription-planner.ts";
import { CLIENT_SCOPES, USER_READ_SCOPES } from "../platform/auth/scopes.ts";
import { PairwiseIds, PAIRWISE_PREFIX } from "../platform/auth/pairwise-ids.ts";
import { PERSON_ID_ARGUMENTS } from "../gateway/pairwise/graphql-person-ids.ts";
import { hashSecret } from "../platform/secret-hash.ts";
import { basic, bearer, CONSENT_TEXT_VERSION, consentToken } from "../testkit/tokens.ts";
import { postGraphQL } from "./support/kamina.ts";
import { startSeededKamina, stopSeededKamina, type SeededKamina } from "./support/seeded-kamina.ts";

const DEMO_PERSON = "USR_42891";

describe("pairwise ids, unit", () => {
  const ids = new PairwiseIds(randomBytes(32));

  test("one id per person, client and environment; reversible by us alone; the demo client keeps ours in the sandbox", () => {
    const a = ids.external("bank_a", "live", DEMO_PERSON);
    assert.ok(a.startsWith(PAIRWISE_PREFIX) && /^[\w-]{1,64}$/.test(a), a);
    assert.equal(ids.external("bank_a", "live", DEMO_PERSON), a, "stable");
    assert.notEqual(ids.external("bank_b", "live", DEMO_PERSON), a, "another client");
    assert.notEqual(ids.external("bank_a", "sandbox", DEMO_PERSON), a, "another environment");
    assert.notEqual(ids.external("bank_a", "live", "USR_42892"), a, "another person");
    assert.equal(ids.internal("bank_a", "live", a), DEMO_PERSON);
    assert.equal(ids.internal("bank_b", "live", a), undefined, "another client's id names nobody");
    assert.equal(ids.internal("bank_a", "sandbox", a), undefined);
    assert.equal(ids.external("of_lab_demo", "sandbox", DEMO_PERSON), DEMO_PERSON);
    assert.notEqual(ids.external("of_lab_demo", "live", DEMO_PERSON), DEMO_PERSON, "the exception is the sandbox only");
    assert.equal(new PairwiseIds(randomBytes(32)).internal("bank_a", "live", a), undefined, "another deployment's key");
  });

  test("a changed, truncated or made-up id is nobody", () => {
    const a = ids.external("bank_a", "live", DEMO_PERSON);
    const flipped = a.slice(0, -1) + (a.endsWith("A") ? "B" : "A");
    for (const bad of [flipped, a.slice(0, -2), `${PAIRWISE_PREFIX}`, `${PAIRWISE_PREFIX}AAAA`, "usr_!!", DEMO_PERSON, "x".repeat(200)]) {
      assert.equal(ids.internal("bank_a", "live", bad), undefined, bad);
    }
  });

  test("every argument that names a person is translated (a new one cannot be forgotten)", () => {
    const schema: GraphQLSchema = new SubscriptionPlanner(readSupergraph(), true).apiSchema;
    const found: string[] = [];
    for (const root of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
      for (const field of Object.values(root?.getFields() ?? {})) {
        for (const argument of field.args) {
          const returnsPerson = isObjectType(getNamedType(field.type)) && getNamedType(field.type).name === "User";
          if (getNamedType(argument.type).name === "ID" && (/user/i.test(argument.name) || (returnsPerson && argument.name === "id"))) found.push(`${root!.name}.${field.name}(${argument.name}:)`);
        }
      }
    }
    assert.deepEqual(found.sort(), [...PERSON_ID_ARGUMENTS].sort());
  });
});

describe("pairwise ids through the API", () => {
  let seeded: SeededKamina;
  let ids: PairwiseIds;
  let second: Record<string, string>;
  let secondToken: string;
  let secondPerson: string;

  before(async () => {
    seeded = await startSeededKamina({ users: 40, seed: 31, poolSize: 2 });
    ids = new PairwiseIds(seeded.kamina.gateway!.auth.config.tokens.pairwiseIdKey);
    const secret = randomBytes(12).toString("hex");
    await seeded.kamina.gateway!.auth.prisma.partnerClient.create({
      data: { id: "pw_second", name: "second", secretHash: await hashSecret(secret), countries: ["MX"], allowedScopes: [...USER_READ_SCOPES], clientScopes: [...CLIENT_SCOPES], sandbox: true },
    });
    second = basic("pw_second", secret);
    const answer = await fetch(`${seeded.kamina.gateway!.origin}/v1/auth/consent`, {
      method: "POST",
      headers: { ...second, "content-type": "application/json" },
      body: JSON.stringify({ client_id: "pw_second", user_external_id: DEMO_PERSON, scopes: ["wellness.read", "debts.read", "alerts.read"], country: "MX", consent_text_version: CONSENT_TEXT_VERSION }),
    });
    assert.equal(answer.status, 200);
    const body = (await answer.json()) as { access_token: string; consent_id: string };
    secondToken = body.access_token;
    secondPerson = ids.external("pw_second", "sandbox", DEMO_PERSON);
    const consent = await fetch(`${seeded.kamina.gateway!.origin}/v1/consents/${body.consent_id}`, { headers: second });
    assert.equal(((await consent.json()) as { user_external_id: string }).user_external_id, secondPerson, "the consent shows the client's id");
  });

  after(async () => {
    await stopSeededKamina(seeded);
  });

  test("the brief's demo client still reads USR_42891 as USR_42891 in the sandbox", async () => {
    const token = await consentToken(seeded.kamina, DEMO_PERSON);
    assert.equal(decodeJwt(token).sub, DEMO_PERSON);
    const { body } = await postGraphQL(seeded.kamina.graphqlUrl, "{ me { id } }", {}, bearer(token));
    assert.equal(body.data!.me.id, DEMO_PERSON);
  });

  test("another client sees its own id everywhere: token sub, me, aliases and fragments, user(id:), REST", async () => {
    assert.equal(decodeJwt(secondToken).sub, secondPerson, "the token's sub is pairwise (OpenID Connect's pairwise subject)");
    const { body } = await postGraphQL(
      seeded.kamina.graphqlUrl,
      "query { me { id other: id ...F } } fragment F on User { again: id alerts { user { id } } }",
      {},
      bearer(secondToken),
    );
    assert.equal(body.data!.me.id, secondPerson);
    assert.equal(body.data!.me.other, secondPerson);
    assert.equal(body.data!.me.again, secondPerson);
    for (const alert of body.data!.me.alerts) assert.equal(alert.user.id, secondPerson);
    assert.ok(!JSON.stringify(body).includes(DEMO_PERSON), "our id never appears");

    const clientToken = await fetch(`${seeded.kamina.gateway!.origin}/v1/auth/token`, {
      method: "POST",
      headers: { ...second, "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=client_credentials",
    });
    const partner = bearer(((await clientToken.json()) as { access_token: string }).access_token);
    const byVariable = await postGraphQL(seeded.kamina.graphqlUrl, "query ($id: ID!) { user(id: $id) { id wellness { score } } }", { id: secondPerson }, partner);
    assert.equal(byVariable.body.data!.user.id, secondPerson);
    const byLiteral = await postGraphQL(seeded.kamina.graphqlUrl, `{ user(id: "${secondPerson}") { id } }`, {}, partner);
    assert.equal(byLiteral.body.data!.user.id, secondPerson);
    const listed = await postGraphQL(seeded.kamina.graphqlUrl, "{ users(first: 50) { edges { node { id } } } }", {}, partner);
    assert.deepEqual(listed.body.data!.users.edges.map((edge: { node: { id: string } }) => edge.node.id), [secondPerson]);
    const debts = await fetch(`${seeded.kamina.gateway!.origin}/v1/debts?user_id=${secondPerson}`, { headers: partner });
    assert.equal(debts.status, 200);
    assert.ok(!(await debts.text()).includes(DEMO_PERSON));
  });

  test("our id, or another client's id for the same person, names nobody for this client", async () => {
    const clientToken = await fetch(`${seeded.kamina.gateway!.origin}/v1/auth/token`, {
      method: "POST",
      headers: { ...second, "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=client_credentials",
    });
    const partner = bearer(((await clientToken.json()) as { access_token: string }).access_token);
    for (const id of [DEMO_PERSON, ids.external("someone_else", "sandbox", DEMO_PERSON), ids.external("pw_second", "live", DEMO_PERSON)]) {
      const { body } = await postGraphQL(seeded.kamina.graphqlUrl, "query ($id: ID!) { user(id: $id) { id } }", { id }, partner);
      assert.equal(body.data?.user ?? null, null, id);
    }
    const forged = await postGraphQL(seeded.kamina.graphqlUrl, "{ me { id } }", {}, bearer(secondToken.replace(/\.[^.]+\./, ".e30.")));
    assert.equal(forged.status, 401);
  });
});
