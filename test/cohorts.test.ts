// Behavioural cohort tags (issue 21, item 2): for every tag, a hand-built household made to
// carry it gets it and one just outside its line does not; then, on a real database and real
// servers, the tags are stored by each evaluation (keeping `since` while held), change after a
// write through the Kamina app's path and after a re-diagnosis, are read under cohorts.read
// only (GraphQL and REST), and appear in, and filter, the wellness export.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { cohortTags, COHORTS, parseCohorts } from "../domain/cohorts/cohorts.ts";
import { diagnose } from "../domain/diagnosis/diagnose.ts";
import type { Household } from "../domain/household/household.ts";
import { computeVariables, variable } from "../domain/prevention/variables.ts";
import { PairwiseIds } from "../platform/auth/pairwise-ids.ts";
import { partnerIdsOver } from "../platform/partner-ids/partner-ids.ts";
import { USER_SCOPES } from "../platform/auth/scopes.ts";
import type { PrismaClient } from "../platform/database/database.ts";
import { wellnessExportRows, type WellnessExportRow } from "../realtime/exports/wellness-export.ts";
import { evaluateUser, evaluateUsers, firingsFor } from "../subgraphs/alerts/prevention/evaluate.ts";
import { calmHousehold, debt, informalEarnerHousehold, insertHousehold, instalments, NOW, TODAY } from "../testkit/households.ts";
import { bearer, clientToken, consentToken, DEMO_CLIENT } from "../testkit/tokens.ts";
import { postGraphQL } from "./support/kamina.ts";
import { startSeededKamina, stopSeededKamina, type SeededKamina } from "./support/seeded-kamina.ts";
import { assertEnvelope, rest } from "./support/rest.ts";

const tagsOf = (household: Household): string[] => firingsFor(household, TODAY).cohorts;

/** A month's rent on each of the last three 30-day steps (a fixed bill, by MCC). */
const rent = (amount: number): Household["expenses"] => [1, 31, 61].map((ago) => ({ day: TODAY - ago, category: "housing", fixed: true, amount, count: 1, max: amount }));
const coach = (days: number[]): Household["coach"] => days.map((ago) => ({ day: TODAY - ago, intent: "budgeting_help", sentiment: 0.2, messages: 5 }));
const calmScore = diagnose(calmHousehold(), TODAY).score;
/** The calm household's monthly outgoings, in cents, as the liquidity buffer measures them (variables are in major units). */
const calmOutgoings = (() => {
  const household = calmHousehold();
  const values = computeVariables(household, diagnose(household, TODAY));
  return (100 * variable(values, "goal.liquid_savings")!) / variable(values, "goal.liquid_months")!;
})();
const savedGoal = (saved: number): Household["goals"] => [{ kind: "emergency_fund", status: "ACTIVE", target: 400_000, saved, targetDay: TODAY + 200, createdDay: TODAY - 500 }];

/** Per tag: a household inside its line, and one just outside it. Calm: 1,000.00 of salary, a 100.00 instalment, about 283.00 of outgoings a month. */
const CASES: Record<string, { inside: Household; outside: Household }> = {
  informal_earner: {
    inside: informalEarnerHousehold(),
    outside: calmHousehold({
      income: [
        { kind: "RECURRING", monthly: 50_000, startedDay: TODAY - 700, endedDay: null },
        { kind: "VARIABLE", monthly: 50_000, startedDay: TODAY - 700, endedDay: null },
      ],
    }),
  },
  revolving_credit_user: {
    inside: calmHousehold({ debts: [debt({ id: "dbt_loan" }), debt({ id: "dbt_card", type: "CREDIT_CARD", balance: 30_000, creditLimit: 100_000, minimumPayment: 1_500, apr: 0.3 })] }),
    outside: calmHousehold({ debts: [debt({ id: "dbt_loan" }), debt({ id: "dbt_card", type: "CREDIT_CARD", balance: 29_000, creditLimit: 100_000, minimumPayment: 1_500, apr: 0.3 })] }),
  },
  high_essential_burden: {
    // Three rents of R in 90 days read as R x 3 x 30.4375 / 90 a month: 40.58 % and 39.57 % of income.
    inside: calmHousehold({ expenses: [...calmHousehold().expenses, ...rent(40_000)] }),
    outside: calmHousehold({ expenses: [...calmHousehold().expenses, ...rent(39_000)] }),
  },
  savings_builder: {
    inside: calmHousehold(),
    outside: calmHousehold({ goals: savedGoal(0) }),
  },
  thin_buffer: {
    inside: calmHousehold({ goals: savedGoal(Math.floor(calmOutgoings * 0.99)) }),
    outside: calmHousehold({ goals: savedGoal(Math.ceil(calmOutgoings * 1.01)) }),
  },
  over_indebted: {
    // Debt service 100.00 + 501.00 = 60.1 % of income, against exactly 60 % (and two debts, none missed).
    inside: calmHousehold({ debts: [debt({ id: "dbt_loan" }), debt({ id: "dbt_big", balance: 2_000_000, minimumPayment: 50_100 })] }),
    outside: calmHousehold({ debts: [debt({ id: "dbt_loan" }), debt({ id: "dbt_big", balance: 2_000_000, minimumPayment: 50_000 })] }),
  },
  high_cost_borrower: {
    inside: calmHousehold({ debts: [debt({ id: "dbt_loan" }), debt({ id: "dbt_payday", type: "PAYDAY", balance: 10_000, minimumPayment: 2_000, apr: 3 })] }),
    // Most of the debt at 49 % APR: dear, but under the high-cost line.
    outside: calmHousehold({ debts: [debt({ id: "dbt_loan" }), debt({ id: "dbt_dear", type: "PERSONAL_LOAN", balance: 200_000, minimumPayment: 2_000, apr: 0.49 })] }),
  },
  reliable_payer: {
    inside: calmHousehold({ payments: instalments(6, "ON_TIME") }),
    outside: calmHousehold({ payments: instalments(5, "ON_TIME") }),
  },
  debt_free: {
    inside: calmHousehold({ debts: [debt({ status: "PAID_OFF", balance: 0 })] }),
    outside: calmHousehold({ debts: [debt({ balance: 1 })] }),
  },
  improving_trend: {
    inside: calmHousehold({ history: [{ day: TODAY - 30, score: calmScore - 5 }] }),
    outside: calmHousehold({ history: [{ day: TODAY - 30, score: calmScore - 4 }] }),
  },
  worsening_trend: {
    inside: calmHousehold({ history: [{ day: TODAY - 30, score: calmScore + 5 }] }),
    outside: calmHousehold({ history: [{ day: TODAY - 30, score: calmScore + 4 }] }),
  },
  coach_engaged: {
    inside: calmHousehold({ coach: coach([5, 40, 89]) }),
    outside: calmHousehold({ coach: coach([5, 40, 90]) }),
  },
};

describe("behavioural cohort tags on hand-built households", () => {
  test("every tag in the rule file has a case here, and says what it rests on", () => {
    assert.deepEqual(Object.keys(CASES).sort(), cohortTags().sort());
    assert.ok(COHORTS.cohorts.length >= 10);
    for (const { definition, variables } of COHORTS.cohorts) {
      assert.ok(definition.basis.note.length >= 20, definition.tag);
      assert.ok(variables.length >= 1, definition.tag);
    }
  });

  for (const [tag, { inside, outside }] of Object.entries(CASES)) {
    test(`${tag}: the household made to carry it gets it, the one just outside does not`, () => {
      assert.ok(tagsOf(inside).includes(tag), `inside: ${tagsOf(inside).join(", ")}`);
      assert.ok(!tagsOf(outside).includes(tag), `outside: ${tagsOf(outside).join(", ")}`);
    });
  }

  test("the calm household is a reliable payer building savings, and nothing else", () => {
    assert.deepEqual(tagsOf(calmHousehold()), ["savings_builder", "reliable_payer"]);
  });

  test("a cohort file naming an unknown variable, or a tag twice, is refused when it loads", () => {
    const tag = { tag: "t", title: "T", definition: "d", basis: { kind: "calibration", note: "a note of twenty chars or more" }, when: { var: "inc.monthly", op: ">", value: 0 } };
    assert.equal(parseCohorts({ version: "x", tags: [tag] }).cohorts.length, 1);
    assert.throws(() => parseCohorts({ version: "x", tags: [{ ...tag, when: { var: "inc.monthlyy", op: ">", value: 0 } }] }), /unknown variable "inc.monthlyy"/);
    assert.throws(() => parseCohorts({ version: "x", tags: [tag, tag] }), /duplicate cohort tag t/);
    assert.throws(() => parseCohorts({ version: "x", tags: [{ ...tag, basis: undefined }] }));
  });
});

describe("cohort tags stored and served", () => {
  let seeded: SeededKamina;
  let kamina: SeededKamina["kamina"];
  let prisma: PrismaClient;
  let counter = 0;
  const DAY = 86_400_000;
  const ago = (days: number) => new Date(Date.now() - days * DAY);
  const storedTags = async (userId: string) =>
    (await prisma.cohortMembership.findMany({ where: { userId }, orderBy: { tag: "asc" } })).map((row) => ({ tag: row.tag, since: row.since.toISOString() }));
  const restTags = async (token: string) => {
    const answer = await rest(kamina.gateway!.origin, "GET", "/v1/cohorts", { headers: bearer(token) });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return (answer.body.items as { tag: string }[]).map((item) => item.tag);
  };
  /** Waits for the outbox consumers (household changes, prevention) to have run: asks until `done` or 20 s pass. */
  const eventually = async (what: string, done: () => Promise<boolean>) => {
    const deadline = Date.now() + 20_000;
    while (!(await done())) {
      if (Date.now() > deadline) assert.fail(`${what}: not within 20 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  /** A person with 1,000.00 of salary for a year and no debt, as the app would have written them. */
  const newPerson = async (): Promise<string> => {
    const id = `USR_COH_${process.pid}_${++counter}`;
    await prisma.user.create({ data: { id, country: "EC", createdAt: ago(400) } });
    await prisma.incomeStream.create({ data: { id: `inc_${id}`, userId: id, country: "EC", source: "Salario", kind: "RECURRING", monthlyAmount: "1000.00", currency: "USD", startedAt: ago(380) } });
    return id;
  };

  before(async () => {
    seeded = await startSeededKamina({ users: 2, seed: 11, poolSize: 6, env: { RELAY_POLL_MS: "200" } });
    ({ kamina } = seeded);
    prisma = kamina.gateway!.auth.prisma;
  });
  after(() => stopSeededKamina(seeded));

  test("each evaluation stores the person's tags: a tag still held keeps its `since`, one no longer held is removed", async () => {
    const household = calmHousehold({ userId: `USR_COH_CALM_${process.pid}` });
    await insertHousehold(prisma, household);
    await evaluateUser(prisma, household.userId, NOW);
    const first = NOW.toISOString();
    assert.deepEqual(await storedTags(household.userId), [
      { tag: "reliable_payer", since: first },
      { tag: "savings_builder", since: first },
    ]);
    await evaluateUser(prisma, household.userId, new Date(NOW.getTime() + DAY));
    assert.deepEqual(await storedTags(household.userId), [
      { tag: "reliable_payer", since: first },
      { tag: "savings_builder", since: first },
    ]);
    // The savings are spent: no longer a savings builder, and now a thin buffer.
    await prisma.savingsGoal.updateMany({ where: { userId: household.userId }, data: { currentAmount: "0.00" } });
    const third = new Date(NOW.getTime() + 2 * DAY);
    await evaluateUser(prisma, household.userId, third);
    assert.deepEqual(await storedTags(household.userId), [
      { tag: "reliable_payer", since: first },
      { tag: "thin_buffer", since: third.toISOString() },
    ]);
  });

  test("tags change after a write through the app's path, and after a re-diagnosis", async () => {
    const person = await newPerson();
    const token = await consentToken(kamina, person, ["wellness.read", "cohorts.read"]);
    await evaluateUser(prisma, person);
    assert.deepEqual(await restTags(token), ["debt_free"]);

    // The app records a loan: the household-change consumer diagnoses and evaluates the person again.
    const loan = await rest(kamina.gateway!.origin, "POST", `/v1/app/users/${person}/debts`, {
      headers: { "x-kamina-app-key": kamina.gateway!.auth.config.appApiKey, "idempotency-key": `coh-${process.pid}-${++counter}` },
      json: { issuer: "Cooperativa JEP", type: "PERSONAL_LOAN", principal: "2000.00", balance: "1800.00", currency: "USD", minimum_payment: "700.00", apr: 0.18, due_date: ago(-10).toISOString().slice(0, 10), opened_at: ago(20).toISOString().slice(0, 10) },
    });
    assert.equal(loan.status, 201, JSON.stringify(loan.body));
    await eventually("the app's write re-evaluates the person", async () => !(await restTags(token)).includes("debt_free"));
    assert.deepEqual(await restTags(token), ["thin_buffer", "over_indebted"], "700.00 of debt service on 1,000.00 of income, and no savings");

    // The salary becomes day work (a change no write announced); runDiagnosis re-evaluates.
    await prisma.incomeStream.updateMany({ where: { userId: person }, data: { kind: "VARIABLE" } });
    const run = await rest(kamina.gateway!.origin, "POST", "/v1/diagnosis/run", { headers: bearer(token) });
    assert.equal(run.status, 200, JSON.stringify(run.body));
    await eventually("runDiagnosis re-evaluates the person", async () => (await restTags(token)).includes("informal_earner"));
    assert.deepEqual(await restTags(token), ["informal_earner", "thin_buffer", "over_indebted"]);
  });

  test("User.cohorts needs cohorts.read: without it the field is null with UNAUTHORIZED_FIELD_OR_TYPE, and so is GET /v1/cohorts", async () => {
    const person = await newPerson();
    await evaluateUser(prisma, person);
    const query = "{ me { id cohorts { tag title since } } }";

    const granted = await postGraphQL(kamina.graphqlUrl, query, {}, bearer(await consentToken(kamina, person, ["cohorts.read"])));
    assert.equal(granted.body.errors, undefined, JSON.stringify(granted.body.errors));
    const [tag] = granted.body.data!.me.cohorts as { tag: string; title: string; since: string }[];
    assert.equal(tag?.tag, "debt_free");
    assert.equal(tag?.title, "Debt free");
    assert.equal(tag?.since, (await prisma.cohortMembership.findFirstOrThrow({ where: { userId: person } })).since.toISOString());

    const without = await consentToken(kamina, person, ["wellness.read", "alerts.read"]);
    const refused = await postGraphQL(kamina.graphqlUrl, query, {}, bearer(without));
    assert.equal(refused.body.data!.me.cohorts, null);
    assert.equal(refused.body.errors?.[0]?.extensions?.code, "UNAUTHORIZED_FIELD_OR_TYPE");
    assert.deepEqual(refused.body.errors?.[0]?.path, ["me", "cohorts"]);
    assertEnvelope(await rest(kamina.gateway!.origin, "GET", "/v1/cohorts", { headers: bearer(without) }), 403, "UNAUTHORIZED_FIELD_OR_TYPE");
  });

  test("the wellness export carries each person's tags under cohorts.read, and `cohort` keeps only that tag's people", async () => {
    const debtFree = await newPerson();
    const informal = await newPerson();
    await prisma.incomeStream.updateMany({ where: { userId: informal }, data: { kind: "VARIABLE" } });
    const unconsented = await newPerson();
    await evaluateUsers(prisma, [debtFree, informal, unconsented], new Date());
    await consentToken(kamina, debtFree, ["wellness.read", "cohorts.read"]);
    await consentToken(kamina, informal, ["wellness.read", "cohorts.read"]);
    await consentToken(kamina, unconsented, ["wellness.read"]);
    const job = { id: `exp_cohorts_${process.pid}`, clientId: DEMO_CLIENT, countries: ["EC"] as const, scopes: [...USER_SCOPES], environment: "sandbox" as const };
    const people = new PairwiseIds(kamina.gateway!.auth.config.tokens.pairwiseIdKey);
    const partnerIds = partnerIdsOver(prisma, kamina.gateway!.auth.config.tokens);
    const rowsOf = async (cohort?: string) => {
      const rows: WellnessExportRow[] = [];
      for await (const row of wellnessExportRows(prisma, people, partnerIds, { ...job, cohort: cohort ?? null })) rows.push(row);
      return new Map(rows.map((row) => [String(row.user_id), row.cohort_tags === null ? null : String(row.cohort_tags)]));
    };
    const all = await rowsOf();
    assert.equal(all.get(people.external(DEMO_CLIENT, "sandbox", debtFree)), "debt_free");
    assert.equal(all.get(people.external(DEMO_CLIENT, "sandbox", informal)), "informal_earner;debt_free");
    assert.equal(all.get(people.external(DEMO_CLIENT, "sandbox", unconsented)), null, "no cohorts.read in that person's consent");
    const mine = new Set([debtFree, informal, unconsented].map((id) => people.external(DEMO_CLIENT, "sandbox", id)));
    const informalOnly = await rowsOf("informal_earner");
    assert.deepEqual([...informalOnly.keys()].filter((id) => mine.has(id)), [people.external(DEMO_CLIENT, "sandbox", informal)]);
    assert.ok([...informalOnly.values()].every((tags) => tags?.split(";").includes("informal_earner")), "every row selected carries the tag");
    const debtFreeOnly = await rowsOf("debt_free");
    assert.ok(!debtFreeOnly.has(people.external(DEMO_CLIENT, "sandbox", unconsented)), "a person whose consent has no cohorts.read is never selected by tag");

    const partner = bearer(await clientToken(kamina));
    assertEnvelope(await rest(kamina.gateway!.origin, "POST", "/v1/exports/wellness", { headers: partner, json: { cohort: "big_spender" } }), 400, "BAD_USER_INPUT", /informal_earner/);
    const queued = await rest(kamina.gateway!.origin, "POST", "/v1/exports/wellness", { headers: partner, json: { cohort: "informal_earner" } });
    assert.equal(queued.status, 202, JSON.stringify(queued.body));
    assert.equal((await prisma.exportJob.findUniqueOrThrow({ where: { id: queued.body.id as string } })).cohort, "informal_earner");
    // Run to its end before the suite stops the workers: a stop while it was being written once
    // ended a CI run with an uncaught AbortError after every test had passed (not reproduced alone).
    const deadline = Date.now() + 20_000;
    let status = "queued";
    while (status === "queued" || status === "running") {
      if (Date.now() > deadline) assert.fail(`the export is still ${status}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const answer = await rest(kamina.gateway!.origin, "GET", `/v1/exports/wellness/${queued.body.id as string}`, { headers: partner });
      status = String(answer.body.status);
    }
    assert.equal(status, "succeeded");
  });
});
