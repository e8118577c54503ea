// A page of scores and bands reads each person's latest snapshot without its two large JSON
// columns (factors, action plan). Whatever then asks for them in the same request gets them:
// the summary the page primed is completed from the database, never answered as empty.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { GraphQLResolveInfo } from "graphql";
import { seedDatabase } from "../prisma/seed/index.ts";
import { allTenants } from "../platform/database/database-access.ts";
import { createPrismaClient, type PrismaClient } from "../platform/database/database.ts";
import { partnerIdsOver } from "../platform/partner-ids/partner-ids.ts";
import type { Viewer } from "../platform/auth/viewer.ts";
import { createLoaders } from "../subgraphs/wellness/loaders.ts";
import { resolvers } from "../subgraphs/wellness/resolvers.ts";
import { WellnessService } from "../subgraphs/wellness/service.ts";
import { createTestDatabase, type TestDatabase } from "../testkit/postgres.ts";

type FieldResolver = (source: unknown, args: unknown, context: unknown, info: GraphQLResolveInfo) => Promise<unknown>;

describe("wellness snapshot details", () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let statements: string[];

  before(async () => {
    database = await createTestDatabase();
    await seedDatabase({ kind: "postgres", url: database.url, poolSize: 2 }, { users: 20, seed: 11, sandboxClientSecret: "kamina-sandbox-secret" });
    statements = [];
    prisma = createPrismaClient({ kind: "postgres", url: database.url, poolSize: 2 }, { access: allTenants("snapshot-details-test"), onStatement: (sql) => statements.push(sql) });
  });

  after(async () => {
    await prisma?.$disconnect();
    await database?.drop();
  });

  const serviceFor = async (): Promise<WellnessService> => {
    const countries = (await prisma.user.findMany({ select: { country: true }, distinct: ["country"] })).map((row) => row.country);
    const viewer: Viewer = { kind: "client", clientId: "of_lab_demo", countries, consentVersion: "test", environment: "sandbox", scopes: new Set(["wellness.read"]), tokenId: "test" };
    return new WellnessService(prisma, viewer, partnerIdsOver(prisma, { keyEncryptionKey: randomBytes(32) }));
  };

  test("a summary the page primed answers factors and action plan from the database, as the full snapshot has them", async () => {
    const service = await serviceFor();
    const people = await prisma.user.findMany({ select: { id: true }, orderBy: { id: "asc" } });
    const full = new Map((await service.latestSnapshots(people.map((person) => person.id))).map((row) => [row.userId, row]));
    const withFactors = [...full.values()].filter((row) => Array.isArray(row.factors) && row.factors.length > 0);
    assert.ok(withFactors.length >= 2, "the seed gave people snapshots with factors");

    const loaders = createLoaders(service);
    statements.length = 0;
    const summaries = withFactors.map(({ factors: _factors, actionPlan: _actionPlan, ...summary }) => summary);
    for (const summary of summaries) loaders.latestSnapshot.prime(summary.userId, undefined, [summary]);
    const index = resolvers.WellnessIndex as Record<"factors" | "actionPlan", FieldResolver>;
    const context = { loaders };
    const answers = await Promise.all(
      summaries.map(async (summary) => ({
        userId: summary.userId,
        factors: await index.factors(await loaders.latestSnapshot.loadOne(summary.userId, undefined), {}, context, {} as GraphQLResolveInfo),
        actionPlan: await index.actionPlan(summary, {}, context, {} as GraphQLResolveInfo),
      })),
    );
    for (const answer of answers) {
      const snapshot = full.get(answer.userId)!;
      assert.deepEqual(answer.factors, snapshot.factors);
      assert.deepEqual(answer.actionPlan, snapshot.actionPlan ?? []);
    }
    // Every summary's details in one statement, whatever the number of people.
    assert.equal(statements.length, 1, statements.join("\n---\n"));
    assert.match(statements[0]!, /s\.factors/);
  });

  test("a page that asks only for scores and bands does not read the factors or the action plan", async () => {
    const service = await serviceFor();
    statements.length = 0;
    const page = await service.pageOfUsersWithLatestSnapshot({ limit: 10, details: false });
    assert.ok(page.some((row) => row.latest !== null));
    for (const row of page) if (row.latest) assert.ok(!("factors" in row.latest) && !("actionPlan" in row.latest));
    assert.doesNotMatch(statements.join("\n"), /factors|action_plan/);
    const detailed = await service.pageOfUsersWithLatestSnapshot({ limit: 10, details: true });
    assert.ok(detailed.some((row) => row.latest !== null && "factors" in row.latest));
  });
});
