// The wellness subgraph reads `User` entities for consent tokens asked at the same moment in one
// statement (subgraphs/wellness/consent-users.ts): each request must still see only its own
// token's person, exactly as with a statement of its own.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { seedDatabase } from "../prisma/seed/index.ts";
import { startTestKamina } from "./support/kamina.ts";
import { createTestDatabase, type TestDatabase } from "../testkit/postgres.ts";
import { bearer, consentToken, TEST_SANDBOX_SECRET } from "../testkit/tokens.ts";
import { postAsGateway } from "../testkit/gateway-signature.ts";

const ENTITIES = `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id wellness { score band } } } }`;

describe("User entities for consent tokens, read together", () => {
  let database: TestDatabase;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  let people: string[];
  let tokens: string[];

  before(async () => {
    database = await createTestDatabase();
    await seedDatabase({ kind: "postgres", url: database.url, poolSize: 2 }, { users: 40, seed: 11, sandboxClientSecret: TEST_SANDBOX_SECRET });
    kamina = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 4 });
    // Four people of one country: their tokens' requests share the tenant's database client, so a statement.
    const rows = await kamina.gateway!.auth.prisma.user.findMany({ where: { country: "MX" }, select: { id: true }, orderBy: { id: "asc" }, take: 4 });
    people = rows.map((row) => row.id);
    tokens = await Promise.all(people.map((id) => consentToken(kamina, id, ["wellness.read"])));
  });

  after(async () => {
    await kamina?.stop();
    await database?.drop();
  });

  test("requests in flight together each get their own person and null for everyone else", async () => {
    const everyone = people.map((id) => ({ __typename: "User", id }));
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(tokens.map((token) => postAsGateway(kamina, kamina.subgraphs.wellness!.url, ENTITIES, { r: everyone }, bearer(token))));
      answers.forEach((answer, index) => {
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        const entities = answer.body.data!._entities as ({ id: string; wellness: { score: number } | null } | null)[];
        assert.equal(entities.length, people.length);
        entities.forEach((entity, position) => {
          if (position === index) {
            assert.equal(entity?.id, people[index]);
            assert.equal(typeof entity?.wellness?.score, "number", "the token's own person, with their latest snapshot");
          } else assert.equal(entity, null, `token ${index} saw person ${position}`);
        });
      });
    }
  });
});
