import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { allTenants, createPrismaClient, type PrismaClient } from "../platform/database/database.ts";
import { addMonths, DAY_MS, type Household } from "../domain/household/household.ts";
import { LOAD_STATEMENTS } from "../subgraphs/shared/household/load-households.ts";
import { toDiagnosisJson } from "../domain/diagnosis/diagnosis-json.ts";
import { diagnose } from "../domain/diagnosis/diagnose.ts";
import { measureFactors } from "../domain/diagnosis/measure.ts";
import { bandOf, FACTOR_NAMES, FACTORS, type FactorValues, scoreOf, subScore } from "../domain/diagnosis/model.ts";
import { diagnoseUser, diagnoseUsers, latestSnapshot } from "../subgraphs/wellness/diagnosis/service.ts";
import { calmHousehold, debt, informalEarnerHousehold, insertHousehold, instalments, NOW, TODAY } from "../testkit/households.ts";
import { postGraphQL, startTestKamina } from "./support/kamina.ts";
import { startSeededKamina, stopSeededKamina } from "./support/seeded-kamina.ts";
import { createTestDatabase, type TestDatabase } from "../testkit/postgres.ts";
import { bearer, clientToken, consentToken } from "../testkit/tokens.ts";

const values = (household: Household) => measureFactors(household, TODAY).values;

/** Day-to-day purchases: one per entry of `fortnights`, each in its own 14-day period (oldest first). */
function fortnightly(amounts: number[], fixed = false): Household["expenses"] {
  return amounts.map((amount, i) => ({ day: TODAY - 14 * (amounts.length - 1 - i) - 3, category: fixed ? "housing" : "groceries", fixed, amount, count: 1, max: amount }));
}

/** A household whose every factor sits exactly at its "prudent" anchor (the GREEN threshold). */
function prudentHousehold(): Household {
  // Income 1,000.00, all of it variable and none lost (income stability 0.75); debt service
  // 360.00 (DTI 0.36): a loan's 300.00 and a card's 60.00 minimum on 300.00 used of a 1,000.00
  // limit (30 %) at 20 % APR, of which only the 5.00 of interest is an outgoing beside spending.
  // Spending 595.00 a month leaves 10 % of income (1,000 - 595 - 300 - 5); savings of 3 months
  // of those outgoings. 1,759.35 spent in 90 days is 595.00 a month: six fortnights of
  // day-to-day spending alternating 70.00 / 130.00 (CV 0.30) and three rents of 386.45.
  const discretionary = [7_000, 13_000, 7_000, 13_000, 7_000, 13_000];
  const rent = (175_935 - 60_000) / 3;
  return calmHousehold({
    userId: "USR_PRUDENT",
    income: [
      { kind: "VARIABLE", monthly: 50_000, startedDay: TODAY - 700, endedDay: null },
      { kind: "VARIABLE", monthly: 50_000, startedDay: TODAY - 700, endedDay: null },
    ],
    debts: [
      debt({ id: "loan", minimumPayment: 30_000 }),
      debt({ id: "card", type: "CREDIT_CARD", balance: 30_000, creditLimit: 100_000, minimumPayment: 6_000, apr: 0.2 }),
    ],
    payments: instalments(20, (i) => (i === 7 ? "LATE" : "ON_TIME")).map((p, i) => ({ ...p, dueDay: TODAY - 1 - 18 * i })),
    expenses: [...fortnightly(discretionary), ...[5, 35, 65].map((ago) => ({ day: TODAY - ago, category: "housing", fixed: true, amount: rent, count: 1, max: rent }))],
    goals: [{ kind: "emergency_fund", status: "ACTIVE", target: 540_000, saved: 270_000, targetDay: null, createdDay: TODAY - 300 }],
  });
}

describe("the wellness diagnosis on hand-built households", () => {
  test("debt_to_income is monthly minimum payments of open debts over monthly income", () => {
    const household = calmHousehold({
      debts: [debt({ minimumPayment: 25_000 }), debt({ minimumPayment: 11_000 }), debt({ status: "PAID_OFF", balance: 0, minimumPayment: 50_000 })],
    });
    assert.equal(values(household).debt_to_income, 0.36);
    assert.equal(subScore("debt_to_income", 0.36), 70, "36 % (the conventional back-end limit) is the GREEN edge");
    assert.equal(subScore("debt_to_income", 0.43), 40, "43 % (our calibration of the hard limit) is the RED edge");
    assert.equal(values(calmHousehold({ income: [] })).debt_to_income, 3, "debts and no income: the worst value");
    assert.equal(values(calmHousehold({ income: [], debts: [] })).debt_to_income, 0);
  });

  test("on_time_payment_rate counts instalments due in the 365 days before today", () => {
    const payments = [
      ...instalments(10, "ON_TIME"),
      ...instalments(1, "LATE").map((p) => ({ ...p, dueDay: TODAY - 100 })),
      ...instalments(1, "MISSED").map((p) => ({ ...p, dueDay: TODAY - 200 })),
      // Ignored: older than a year, due today, due later.
      ...instalments(1, "MISSED").map((p) => ({ ...p, dueDay: TODAY - 366 })),
      ...instalments(1, "PENDING").map((p) => ({ ...p, dueDay: TODAY })),
      ...instalments(1, "PENDING").map((p) => ({ ...p, dueDay: TODAY + 9 })),
    ];
    assert.equal(values(calmHousehold({ payments })).on_time_payment_rate, 0.83); // 10 of 12
    const overdue = [...instalments(3, "ON_TIME"), ...instalments(1, "PENDING").map((p) => ({ ...p, dueDay: TODAY - 2 }))];
    assert.equal(values(calmHousehold({ payments: overdue })).on_time_payment_rate, 0.75, "a pending instalment past its due day is not on time");
    assert.equal(values(calmHousehold({ payments: [] })).on_time_payment_rate, 1, "nothing due: nothing missed");
  });

  test("savings_ratio is what is left of monthly income after spending and debt service", () => {
    // 3,000.00 spent in 90 days = 1,014.58 a month; income 2,000.00; debt service 200.00.
    const household = calmHousehold({
      income: [{ kind: "RECURRING", monthly: 200_000, startedDay: TODAY - 700, endedDay: null }],
      debts: [debt({ minimumPayment: 20_000 })],
      expenses: [10, 40, 70].map((ago) => ({ day: TODAY - ago, category: "groceries", fixed: false, amount: 100_000, count: 1, max: 100_000 })),
    });
    assert.equal(values(household).savings_ratio, 0.39);
    // A household registered 45 days ago is measured over 45 days, not 90.
    const newer = calmHousehold({ ...household, createdDay: TODAY - 44, expenses: [{ day: TODAY - 10, category: "food", fixed: false, amount: 45_000, count: 1, max: 45_000 }] });
    assert.equal(measureFactors(newer, TODAY).measurements.monthlySpending, (45_000 * 30.4375) / 45);
  });

  test("liquidity_buffer is months of outgoings covered by liquid savings (retirement and abandoned goals excluded)", () => {
    const household = calmHousehold({
      debts: [debt({ minimumPayment: 40_000 })],
      expenses: [10, 40, 70].map((ago) => ({ day: TODAY - ago, category: "groceries", fixed: false, amount: (60_000 * 90) / 30.4375 / 3, count: 1, max: 0 })),
      goals: [
        { kind: "emergency_fund", status: "ACTIVE", target: 500_000, saved: 300_000, targetDay: null, createdDay: TODAY - 90 },
        { kind: "retirement", status: "ACTIVE", target: 9_000_000, saved: 1_000_000, targetDay: null, createdDay: TODAY - 90 },
        { kind: "travel", status: "ABANDONED", target: 100_000, saved: 50_000, targetDay: null, createdDay: TODAY - 90 },
      ],
    });
    assert.equal(values(household).liquidity_buffer, 3); // 3,000.00 / (600.00 + 400.00)
    assert.equal(subScore("liquidity_buffer", 3), 70);
  });

  test("credit_utilisation is revolving balances over their limits", () => {
    const household = calmHousehold({
      debts: [
        debt({ type: "CREDIT_CARD", balance: 30_000, creditLimit: 100_000 }),
        debt({ type: "CREDIT_CARD", balance: 20_000, creditLimit: 100_000 }),
        debt({ type: "CREDIT_CARD", status: "PAID_OFF", balance: 0, creditLimit: 500_000 }),
        debt({ type: "INSTALLMENT", balance: 900_000 }),
      ],
    });
    assert.equal(values(household).credit_utilisation, 0.25);
    assert.equal(values(calmHousehold()).credit_utilisation, 0, "no revolving credit");
  });

  test("income_stability is income kept over 90 days times (0.75 + 0.25 x recurring share)", () => {
    const household = calmHousehold({
      income: [
        { kind: "RECURRING", monthly: 100_000, startedDay: TODAY - 700, endedDay: null },
        { kind: "VARIABLE", monthly: 50_000, startedDay: TODAY - 700, endedDay: null },
        { kind: "VARIABLE", monthly: 50_000, startedDay: TODAY - 700, endedDay: TODAY - 30 },
      ],
    });
    // Kept 1,500 of 2,000 (0.75); recurring share 1,000 / 1,500.
    assert.equal(values(household).income_stability, 0.69); // 0.75 x (0.75 + 0.25 x 0.667) = 0.6875
  });

  test("a steady earner paid only variable income sits at the prudent line, not the hard one; losing income is what costs", () => {
    const informal = informalEarnerHousehold();
    assert.equal(values(informal).income_stability, 0.75);
    assert.equal(subScore("income_stability", 0.75), 70, "all variable, none lost: the GREEN edge");
    const diagnosis = diagnose(informal, TODAY);
    assert.equal(diagnosis.band, "GREEN", "the calm household paid informally stays GREEN");
    assert.equal(diagnosis.score, diagnose(calmHousehold(), TODAY).score - 3, "only income_stability differs: 0.10 x (100 - 70) points");
    // The hard line (40 points): a third of variable income lost, or half of a salary.
    const lostAThird = informalEarnerHousehold({
      income: [
        { kind: "VARIABLE", monthly: 60_000, startedDay: TODAY - 730, endedDay: null },
        { kind: "VARIABLE", monthly: 30_000, startedDay: TODAY - 700, endedDay: TODAY - 20 },
      ],
    });
    assert.equal(values(lostAThird).income_stability, 0.5);
    const halfASalary = calmHousehold({
      income: [
        { kind: "RECURRING", monthly: 50_000, startedDay: TODAY - 700, endedDay: null },
        { kind: "RECURRING", monthly: 50_000, startedDay: TODAY - 700, endedDay: TODAY - 20 },
      ],
    });
    assert.equal(values(halfASalary).income_stability, 0.5);
  });

  test("card purchases count once: spending, plus the card's interest, not its minimum payment again", () => {
    // 3,000.00 spent in 90 days = 1,014.58 a month; income 2,000.00. A card with 1,200.00 used at
    // 30 % APR: 60.00 minimum, 30.00 of it interest. A loan's 100.00 instalment counts in full.
    const household = calmHousehold({
      income: [{ kind: "RECURRING", monthly: 200_000, startedDay: TODAY - 700, endedDay: null }],
      debts: [debt({ minimumPayment: 10_000 }), debt({ id: "card", type: "CREDIT_CARD", balance: 120_000, creditLimit: 400_000, minimumPayment: 6_000, apr: 0.3 })],
      expenses: [10, 40, 70].map((ago) => ({ day: TODAY - ago, category: "groceries", fixed: false, amount: 100_000, count: 1, max: 100_000 })),
    });
    const { values: measured, measurements } = measureFactors(household, TODAY);
    assert.equal(measurements.debtService, 16_000, "debt_to_income keeps every minimum payment: it is the obligation");
    assert.equal(measurements.debtOutgoings, 13_000, "the loan's 100.00 and the card's 30.00 of interest");
    assert.equal(measured.debt_to_income, 0.08);
    assert.equal(measured.savings_ratio, 0.43); // (2,000 - 1,014.58 - 130) / 2,000 = 0.4277
    // A card whose interest exceeds its minimum payment counts its minimum payment, never more.
    const interestOnly = calmHousehold({ debts: [debt({ type: "CREDIT_CARD", balance: 100_000, creditLimit: 100_000, minimumPayment: 1_000, apr: 0.6 })] });
    assert.equal(measureFactors(interestOnly, TODAY).measurements.debtOutgoings, 1_000);
  });

  test("expense_volatility is the coefficient of variation of six fortnights of day-to-day spending", () => {
    assert.equal(values(calmHousehold({ expenses: fortnightly([100, 100, 100, 100, 100, 100].map((x) => x * 100)) })).expense_volatility, 0);
    assert.equal(values(calmHousehold({ expenses: fortnightly([50, 150, 50, 150, 50, 150].map((x) => x * 100)) })).expense_volatility, 0.5);
    const withRent = [...fortnightly([50, 150, 50, 150, 50, 150].map((x) => x * 100)), ...fortnightly([90_000, 0, 90_000, 0, 90_000, 0], true)];
    assert.equal(values(calmHousehold({ expenses: withRent })).expense_volatility, 0.5, "fixed bills are left out");
  });

  test("goal_progress is the mean share saved over goals not abandoned", () => {
    const goals: Household["goals"] = [
      { kind: "home", status: "ACTIVE", target: 1_000_000, saved: 500_000, targetDay: null, createdDay: TODAY - 90 },
      { kind: "travel", status: "ACHIEVED", target: 200_000, saved: 200_000, targetDay: null, createdDay: TODAY - 90 },
      { kind: "education", status: "ABANDONED", target: 300_000, saved: 0, targetDay: null, createdDay: TODAY - 90 },
    ];
    assert.equal(values(calmHousehold({ goals })).goal_progress, 0.75);
    assert.equal(values(calmHousehold({ goals: [] })).goal_progress, 0);
  });

  test("weights sum to 1 and every curve is monotonic in the factor's better direction", () => {
    const total = FACTOR_NAMES.reduce((sum, name) => sum + FACTORS[name].weight, 0);
    assert.ok(Math.abs(total - 1) < 1e-12, `weights sum to ${total}`);
    for (const name of FACTOR_NAMES) {
      const points = FACTORS[name].curve.map(([, p]) => p);
      const sorted = FACTORS[name].better === "lower" ? [...points].sort((a, b) => b - a) : [...points].sort((a, b) => a - b);
      assert.deepEqual(points, sorted, name);
    }
  });

  test("a household at every prudent limit scores exactly 70 (GREEN); a step worse is AMBER", () => {
    const household = prudentHousehold();
    const measured = values(household);
    assert.deepEqual(measured, {
      debt_to_income: 0.36,
      on_time_payment_rate: 0.95,
      savings_ratio: 0.1,
      liquidity_buffer: 3,
      credit_utilisation: 0.3,
      income_stability: 0.75,
      expense_volatility: 0.3,
      goal_progress: 0.5,
    });
    const diagnosis = diagnose(household, TODAY);
    assert.equal(diagnosis.score, 70);
    assert.equal(diagnosis.band, "GREEN");
    const worse = diagnose({ ...household, debts: household.debts.map((d) => (d.id === "loan" ? { ...d, minimumPayment: 31_000 } : d)) }, TODAY);
    assert.equal(worse.values.debt_to_income, 0.37);
    assert.equal(worse.score, 69);
    assert.equal(worse.band, "AMBER");
  });

  test("band thresholds: GREEN from 70, AMBER 40-69, RED below 40; the hard limits score exactly 40", () => {
    assert.deepEqual([100, 70, 69, 40, 39, 0].map(bandOf), ["GREEN", "GREEN", "AMBER", "AMBER", "RED", "RED"]);
    const hardLimits: FactorValues = {
      debt_to_income: 0.43,
      on_time_payment_rate: 0.85,
      savings_ratio: 0,
      liquidity_buffer: 1,
      credit_utilisation: 0.5,
      income_stability: 0.5,
      expense_volatility: 0.6,
      goal_progress: 0.25,
    };
    assert.equal(scoreOf(hardLimits), 40);
    assert.equal(scoreOf({ ...hardLimits, debt_to_income: 0.45 }), 39);
    assert.equal(bandOf(scoreOf({ ...hardLimits, debt_to_income: 0.45 })), "RED");
  });

  test("the same data gives the same diagnosis, whatever the order of the rows", () => {
    const household = prudentHousehold();
    const shuffled: Household = {
      ...household,
      expenses: [...household.expenses].reverse(),
      payments: [...household.payments].reverse(),
      debts: [...household.debts].reverse(),
      goals: [...household.goals].reverse(),
      income: [...household.income].reverse(),
    };
    assert.deepEqual(diagnose(shuffled, TODAY), diagnose(household, TODAY));
    assert.deepEqual(diagnose(household, TODAY), diagnose(structuredClone(household), TODAY));
  });

  test("trend_30d compares with the latest diagnosis on or before 30 days ago", () => {
    const base = prudentHousehold();
    const history = [
      { day: TODAY - 45, score: 50 },
      { day: TODAY - 30, score: 61 },
      { day: TODAY - 29, score: 90 },
    ];
    assert.equal(diagnose({ ...base, history }, TODAY).trend30d, 70 - 61);
    assert.equal(diagnose({ ...base, history: [{ day: TODAY - 10, score: 10 }] }, TODAY).trend30d, 0, "no diagnosis old enough");
  });

  test("next review: RED in 14 days, AMBER in a month, GREEN in three months", () => {
    assert.equal(diagnose(prudentHousehold(), TODAY).nextReviewDay, addMonths(TODAY, 3));
    const amber = diagnose(calmHousehold({ goals: [], debts: [debt({ minimumPayment: 45_000 })] }), TODAY);
    assert.equal(amber.band, "AMBER");
    assert.equal(amber.nextReviewDay, addMonths(TODAY, 1));
    assert.equal(new Date(amber.nextReviewDay * DAY_MS).toISOString().slice(0, 10), "2026-06-08", "the brief's example: reviewed 2026-05-08, next 2026-06-08");
    const red = diagnose(calmHousehold({ income: [], goals: [] }), TODAY);
    assert.equal(red.band, "RED");
    assert.equal(red.nextReviewDay, TODAY + 14);
  });

  test("the action plan ranks steps by the score they add, each computed by re-scoring with that factor improved", () => {
    const household = calmHousehold({
      debts: [debt({ minimumPayment: 51_000 }), debt({ type: "CREDIT_CARD", balance: 80_000, creditLimit: 100_000, minimumPayment: 4_000 })],
      goals: [],
    });
    const diagnosis = diagnose(household, TODAY);
    assert.ok(diagnosis.actionPlan.length > 0 && diagnosis.actionPlan.length <= 3);
    const deltas = diagnosis.actionPlan.map((step) => step.expectedScoreDelta);
    assert.deepEqual(deltas, [...deltas].sort((a, b) => b - a));
    for (const step of diagnosis.actionPlan) {
      assert.equal(step.expectedScoreDelta, scoreOf({ ...diagnosis.values, [step.factor]: step.targetValue }) - diagnosis.score, step.code);
      assert.ok(step.expectedScoreDelta >= 1);
    }
    const debtStep = diagnosis.actionPlan.find((step) => step.factor === "debt_to_income");
    assert.ok(debtStep, JSON.stringify(diagnosis.actionPlan));
    assert.equal(debtStep.targetValue, 0.43, "DTI 0.55: the next milestone is 43 %");
    assert.match(debtStep.title, /120 USD/, "550.00 a month down to 430.00");
  });

  test("toDiagnosisJson gives the brief's shape with a lowercase band", () => {
    const diagnosis = diagnose(prudentHousehold(), TODAY);
    const json = toDiagnosisJson({
      userId: "USR_PRUDENT",
      score: diagnosis.score,
      band: diagnosis.band,
      trend30d: diagnosis.trend30d,
      factors: diagnosis.factors,
      nextReviewAt: new Date(diagnosis.nextReviewDay * DAY_MS),
    });
    assert.deepEqual(Object.keys(json), ["user_id", "score", "band", "trend_30d", "factors", "next_review_at"]);
    assert.equal(json.band, "green");
    assert.equal(json.next_review_at, "2026-08-08");
    assert.deepEqual(Object.keys(json.factors[0]!), ["name", "weight", "value"]);
    assert.deepEqual(json.factors[0], { name: "debt_to_income", weight: 0.2, value: 0.36 });
  });
});

describe("the diagnosis against PostgreSQL", () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let statements = 0;

  before(async () => {
    database = await createTestDatabase();
    prisma = createPrismaClient({ kind: "postgres", url: database.url, poolSize: 4 }, { access: allTenants("test"), onStatement: () => void statements++ });
    await insertHousehold(prisma, prudentHousehold());
    await insertHousehold(prisma, informalEarnerHousehold());
    for (let i = 0; i < 30; i++) await insertHousehold(prisma, calmHousehold({ userId: `USR_CALM_${String(i).padStart(2, "0")}`, history: [{ day: TODAY - 31, score: 60 + i }] }));
  });

  after(async () => {
    await prisma?.$disconnect();
    await database?.drop();
  });

  test("the database path gives the same diagnosis as the household built by hand", async () => {
    const stored = await diagnoseUser(prisma, "USR_PRUDENT", NOW);
    assert.ok(stored);
    const expected = diagnose(prudentHousehold(), TODAY);
    assert.deepEqual({ ...stored.diagnosis, measurements: undefined }, { ...expected, measurements: undefined });
    assert.equal(stored.snapshot.score, 70);
    const informal = await diagnoseUser(prisma, "USR_INFORMAL", NOW);
    assert.equal(informal?.diagnosis.values.income_stability, 0.75, "variable streams read from the database as the hand-built household");
    assert.equal(informal?.diagnosis.score, diagnose(informalEarnerHousehold(), TODAY).score);
  });

  test("a batch costs the same statements for 3 users as for 30", async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `USR_CALM_${String(i).padStart(2, "0")}`);
    statements = 0;
    await diagnoseUsers(prisma, ids.slice(0, 3), NOW);
    const few = statements;
    statements = 0;
    await diagnoseUsers(prisma, ids, NOW);
    assert.equal(statements, few);
    assert.ok(few <= LOAD_STATEMENTS + 1, `${few} statements`);
  });

  test("re-running on the same day replaces the day's snapshot with the same result; trend_30d uses the stored history", async () => {
    const first = await diagnoseUser(prisma, "USR_CALM_05", NOW);
    const again = await diagnoseUser(prisma, "USR_CALM_05", new Date(NOW.getTime() + 3_600_000));
    assert.ok(first && again);
    assert.deepEqual(again.diagnosis, first.diagnosis);
    const rows = await prisma.$queryRaw<{ count: number; trend: number }[]>`
      SELECT count(*)::int AS count, max(trend_30d) AS trend FROM wellness_snapshot
      WHERE user_id = 'USR_CALM_05' AND snapshot_date = ${NOW.toISOString().slice(0, 10)}::date`;
    assert.equal(rows[0]!.count, 1);
    assert.equal(rows[0]!.trend, first.diagnosis.score - 65);
    const latest = await latestSnapshot(prisma, "USR_CALM_05");
    assert.equal(latest?.score, first.diagnosis.score);
    assert.equal(toDiagnosisJson(latest!).trend_30d, first.diagnosis.score - 65);
  });

  test("a user that does not exist is not diagnosed", async () => {
    assert.equal(await diagnoseUser(prisma, "USR_NOBODY", NOW), null);
  });
});

describe("runDiagnosis through the gateway", () => {
  let database: TestDatabase;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  let sql: pg.Client;
  const RUN = /* GraphQL */ `
    mutation Run($userId: ID) {
      runDiagnosis(userId: $userId) { score band trend30d factors { name weight value } actionPlan { code title expectedScoreDelta } computedAt nextReviewAt }
    }`;

  before(async () => {
    ({ database, kamina, sql } = await startSeededKamina({ users: 30, seed: 11, poolSize: 4 }));
  });

  after(async () => {
    await stopSeededKamina({ database, kamina, sql });
  });

  test("a consent token runs its own person's diagnosis and stores today's snapshot", async () => {
    const token = bearer(await consentToken(kamina, "USR_42891", ["wellness.read"]));
    const { status, body } = await postGraphQL(kamina.graphqlUrl, RUN, {}, token);
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    const index = body.data!.runDiagnosis;
    // The demo person's seeded records give the brief's diagnosis, run after run.
    assert.deepEqual([index.score, index.band, index.trend30d], [64, "AMBER", -3]);
    assert.equal(index.band, bandOf(index.score));
    const weights = index.factors.reduce((sum: number, factor: { weight: number }) => sum + factor.weight, 0);
    assert.ok(Math.abs(weights - 1) < 1e-9);
    assert.equal(index.factors.length, 8);

    const today = new Date().toISOString().slice(0, 10);
    const { rows } = await sql.query<{ score: number; band: string }>("SELECT score, band::text FROM wellness_snapshot WHERE user_id = 'USR_42891' AND snapshot_date = $1", [today]);
    assert.deepEqual(rows, [{ score: index.score, band: index.band }]);

    // The same token reads it back as its wellness; the argument may name its own person too.
    const read = await postGraphQL(kamina.graphqlUrl, "{ me { wellness { score band } } }", {}, token);
    assert.deepEqual(read.body.data?.me?.wellness, { score: index.score, band: index.band });
    const again = await postGraphQL(kamina.graphqlUrl, RUN, { userId: "USR_42891" }, token);
    assert.equal(again.body.data?.runDiagnosis.score, 64);
  });

  test("runDiagnosis writes only that day's snapshot: nothing the person entered, no earlier snapshot", async () => {
    const person = "USR_42891";
    const fingerprint = async () =>
      (
        await sql.query(
          `SELECT (SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM debt t WHERE user_id = $1) AS debts,
                  (SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM debt_payment t WHERE user_id = $1) AS payments,
                  (SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM expense t WHERE user_id = $1) AS expenses,
                  (SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM income_stream t WHERE user_id = $1) AS income,
                  (SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM savings_goal t WHERE user_id = $1) AS goals,
                  (SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM app_user t WHERE id = $1) AS person,
                  (SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM wellness_snapshot t WHERE user_id = $1 AND snapshot_date < CURRENT_DATE) AS earlier`,
          [person],
        )
      ).rows[0];
    const token = bearer(await consentToken(kamina, person, ["wellness.read"]));
    const before = await fingerprint();
    const run = await postGraphQL(kamina.graphqlUrl, RUN, {}, token);
    assert.equal(run.body.errors, undefined, JSON.stringify(run.body.errors));
    assert.deepEqual(await fingerprint(), before);
    const { rows } = await sql.query<{ snapshots: number }>("SELECT count(*)::int AS snapshots FROM wellness_snapshot WHERE user_id = $1 AND snapshot_date = CURRENT_DATE", [person]);
    assert.deepEqual(rows, [{ snapshots: 1 }], "one snapshot for the day, replaced on a re-run");
  });

  test("a consent token cannot run another person's diagnosis, nor without wellness.read", async () => {
    const [other] = (await sql.query<{ id: string }>("SELECT id FROM app_user WHERE id <> 'USR_42891' ORDER BY id LIMIT 1")).rows;
    const token = bearer(await consentToken(kamina, "USR_42891", ["wellness.read"]));
    const foreign = await postGraphQL(kamina.graphqlUrl, RUN, { userId: other!.id }, token);
    assert.equal(foreign.body.errors?.[0]?.extensions?.code, "NOT_FOUND", JSON.stringify(foreign.body));
    const unscoped = bearer(await consentToken(kamina, "USR_42891", ["debts.read"]));
    const refused = await postGraphQL(kamina.graphqlUrl, RUN, {}, unscoped);
    assert.equal(refused.body.errors?.[0]?.extensions?.code, "UNAUTHORIZED_FIELD_OR_TYPE", JSON.stringify(refused.body));
  });

  test("a partner token names a consented person, and must name one", async () => {
    const partner = bearer(await clientToken(kamina));
    const named = await postGraphQL(kamina.graphqlUrl, RUN, { userId: "USR_42891" }, partner);
    assert.equal(named.body.errors, undefined, JSON.stringify(named.body.errors));
    assert.equal(typeof named.body.data?.runDiagnosis.score, "number");
    const unnamed = await postGraphQL(kamina.graphqlUrl, RUN, {}, partner);
    assert.equal(unnamed.body.errors?.[0]?.extensions?.code, "BAD_USER_INPUT", JSON.stringify(unnamed.body));
  });
});
