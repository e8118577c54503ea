import assert from "node:assert/strict";
import { test } from "node:test";
import { committedSupergraph, composeSupergraph } from "../schema/composition.ts";

test("the committed supergraph is what the subgraph SDLs compose to", () => {
  assert.equal(committedSupergraph(), composeSupergraph(), "schema/supergraph.graphql is stale: run `npm run compose` and commit it");
});

test("every type and field of the public contract carries a description", () => {
  const undocumented: string[] = [];
  const sdl = committedSupergraph();
  for (const type of ["User", "WellnessIndex", "Debt", "Expense", "IncomeStream", "CoachSession", "Alert", "SavingsGoal"]) {
    const block = new RegExp(`"""[^"]+"""\\s*type ${type}\\b|"[^"\\n]+"\\s*type ${type}\\b`).test(sdl);
    if (!block) undocumented.push(type);
  }
  assert.deepEqual(undocumented, []);
});
