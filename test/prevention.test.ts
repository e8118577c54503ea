import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { firingsFor, evaluateUser, evaluateUsers } from "../subgraphs/alerts/prevention/evaluate.ts";
import { parseRules, RULES } from "../domain/prevention/rules.ts";
import { computeVariables, variable, VARIABLES } from "../domain/prevention/variables.ts";
import { allTenants, createPrismaClient, type PrismaClient } from "../platform/database/database.ts";
import { DAY_MS, type Household } from "../domain/household/household.ts";
import { LOAD_STATEMENTS } from "../subgraphs/shared/household/load-households.ts";
import { diagnose } from "../domain/diagnosis/diagnose.ts";
import { calmHousehold, debt, insertHousehold, instalments, NOW, TODAY } from "../testkit/households.ts";
import { postGraphQL, startTestKamina } from "./support/kamina.ts";
import { startSeededKamina, stopSeededKamina } from "./support/seeded-kamina.ts";
import { createTestDatabase, type TestDatabase } from "../testkit/postgres.ts";
import { bearer, clientToken, consentToken } from "../testkit/tokens.ts";

function variablesOf(household: Household) {
  const values = computeVariables(household, diagnose(household, TODAY));
  return (name: string) => variable(values, name);
}

/** Equal up to binary rounding. */
function near(actual: number | null, expected: number): void {
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-9, `${actual} is not ${expected}`);
}

const typesFor = (household: Household) => firingsFor(household, TODAY).firings.map((firing) => firing.type).sort();
const firingOf = (household: Household, type: string) => firingsFor(household, TODAY).firings.find((firing) => firing.type === type);
const purchase = (daysAgo: number, category: string, amount: number, fixed = false) => ({ day: TODAY - daysAgo, category, fixed, amount, count: 1, max: amount });

/** The calm household's spending with extra purchases. */
const withPurchases = (...extra: Household["expenses"]) => calmHousehold({ expenses: [...calmHousehold().expenses, ...extra] });

describe("the prevention variables", () => {
  test("the catalogue holds over a thousand uniquely named, documented variables, and its document is current", () => {
    assert.ok(VARIABLES.length >= 1000, `${VARIABLES.length} variables`);
    assert.equal(new Set(VARIABLES.map((v) => v.name)).size, VARIABLES.length);
    for (const definition of VARIABLES) {
      assert.match(definition.name, /^[a-z]+\.[a-z0-9_.]+$/);
      assert.ok(definition.description.length > 20, definition.name);
    }
    execFileSync(process.execPath, ["--import", "tsx", "scripts/prevention-variables-doc.ts", "--check"], { stdio: "pipe" });
  });

  test("expense windows, statistics, shares, changes and spikes on a hand-built week", () => {
    const household = calmHousehold({
      createdDay: TODAY - 400,
      expenses: [
        purchase(0, "food", 2_000),
        purchase(3, "food", 3_000),
        purchase(3, "food", 1_000),
        purchase(10, "food", 5_000),
        purchase(1, "groceries", 4_000),
        purchase(2, "pets", 500),
        purchase(20, "housing", 30_000, true),
      ],
    });
    const v = variablesOf(household);
    assert.equal(v("exp.food.sum.7d"), 60);
    assert.equal(v("exp.food.count.7d"), 3);
    assert.equal(v("exp.food.mean.7d"), 20);
    assert.equal(v("exp.food.max.7d"), 30);
    assert.equal(v("exp.food.days_active.7d"), 2);
    near(v("exp.food.share.7d"), 60 / 105);
    assert.equal(v("exp.other.sum.7d"), 5, "categories outside the catalogue count as other");
    assert.equal(v("exp.food.chg.7d"), (60 - 50) / 50, "against days 7-13");
    assert.equal(v("exp.food.sum.30d"), 110);
    assert.equal(v("exp.total.sum.30d"), 455);
    assert.equal(v("exp.fixed.sum.30d"), 300);
    assert.equal(v("exp.discretionary.sum.30d"), 155);
    near(v("exp.food.to_income.30d"), (110 * 30.4375) / 30 / 1000);
    // Recording started 20 days ago: the 7-day spike compares with the 14 days before the window.
    near(v("exp.food.spike.7d"), 60 / 7 / (50 / 14));
    assert.equal(v("exp.clothing.mean.7d"), null, "a mean over nothing is undefined");
    assert.equal(v("exp.clothing.chg.30d"), null, "a change against nothing is undefined");
    assert.equal(v("exp.clothing.sum.365d"), 0);
  });

  test("weekly trend: a steady rise of 10.00 a week over twelve weeks", () => {
    const expenses = Array.from({ length: 12 }, (_, x) => purchase(7 * (11 - x) + 1, "transport", 10_000 + 1_000 * x));
    const v = variablesOf(calmHousehold({ expenses }));
    near(v("trend.exp.transport.slope_12w"), 10 / 155);
  });

  test("payment behaviour per window and debt type", () => {
    const payments = [
      ...instalments(1, "MISSED").map((p) => ({ ...p, dueDay: TODAY - 3 })),
      ...instalments(1, "LATE").map((p) => ({ ...p, dueDay: TODAY - 20, paidDay: TODAY - 12 })),
      ...instalments(1, "ON_TIME").map((p) => ({ ...p, dueDay: TODAY - 25 })),
      ...instalments(1, "PENDING").map((p) => ({ ...p, dueDay: TODAY - 1 })),
      ...instalments(1, "LATE").map((p) => ({ ...p, dueDay: TODAY - 60, paidDay: TODAY - 56, debtType: "CREDIT_CARD" as const })),
      ...instalments(1, "PENDING").map((p) => ({ ...p, dueDay: TODAY + 3 })),
    ];
    const v = variablesOf(calmHousehold({ payments, debts: [debt(), debt({ type: "CREDIT_CARD", creditLimit: 100_000, dueDay: TODAY + 3, minimumPayment: 2_500 })] }));
    assert.equal(v("pay.all.count.7d"), 2);
    assert.equal(v("pay.all.missed.7d"), 1);
    assert.equal(v("pay.all.overdue.7d"), 1);
    assert.equal(v("pay.all.count.30d"), 4);
    assert.equal(v("pay.all.late.30d"), 1);
    assert.equal(v("pay.all.on_time_rate.30d"), 0.25);
    assert.equal(v("pay.all.amount_due.30d"), 400);
    assert.equal(v("pay.all.amount_paid.30d"), 200);
    assert.equal(v("pay.all.paid_ratio.30d"), 0.5);
    assert.equal(v("pay.all.max_days_late.30d"), 8);
    assert.equal(v("pay.all.mean_days_late.90d"), 6, "(8 + 4) / 2");
    assert.equal(v("pay.credit_card.late.90d"), 1);
    assert.equal(v("pay.installment.late.90d"), 1);
    assert.equal(v("pay.mortgage.on_time_rate.90d"), null);
    assert.equal(v("pay.all.upcoming_count.7d"), 1);
    assert.equal(v("pay.all.upcoming_amount.7d"), 25);
    assert.equal(v("pay.all.upcoming_amount.30d"), 125);
  });

  test("debt portfolio, income, goals, coach and ratios", () => {
    const household = calmHousehold({
      debts: [
        debt({ type: "CREDIT_CARD", balance: 60_000, principal: 60_000, creditLimit: 100_000, apr: 0.4, dueDay: TODAY + 4 }),
        debt({ type: "PAYDAY", balance: 20_000, principal: 25_000, apr: 3, status: "LATE", dueDay: TODAY + 12 }),
        debt({ type: "MORTGAGE", balance: 0, status: "PAID_OFF" }),
        debt({ type: "PERSONAL_LOAN", balance: 20_000, principal: 40_000, apr: 0.2, status: "DEFAULTED", dueDay: TODAY - 100 }),
      ],
      income: [
        { kind: "RECURRING", monthly: 100_000, startedDay: TODAY - 700, endedDay: null },
        { kind: "VARIABLE", monthly: 60_000, startedDay: TODAY - 700, endedDay: TODAY - 10 },
        { kind: "VARIABLE", monthly: 20_000, startedDay: TODAY - 5, endedDay: null },
      ],
      goals: [
        { kind: "emergency_fund", status: "ACTIVE", target: 300_000, saved: 60_000, targetDay: TODAY + 100, createdDay: TODAY - 100 },
        { kind: "retirement", status: "ACTIVE", target: 1_000_000, saved: 500_000, targetDay: null, createdDay: TODAY - 100 },
        { kind: "travel", status: "ABANDONED", target: 50_000, saved: 10_000, targetDay: null, createdDay: TODAY - 100 },
      ],
      coach: [
        { day: TODAY - 2, intent: "debt_stress", sentiment: -0.6, messages: 12 },
        { day: TODAY - 15, intent: "income_loss", sentiment: -0.2, messages: 6 },
        { day: TODAY - 40, intent: "savings_plan", sentiment: 0.4, messages: 4 },
      ],
    });
    const v = variablesOf(household);
    assert.equal(v("debt.all.open_count"), 3);
    assert.equal(v("debt.all.balance"), 1_000);
    near(v("debt.all.apr_mean"), (0.4 * 600 + 3 * 200 + 0.2 * 200) / 1_000);
    assert.equal(v("debt.all.apr_max"), 3);
    assert.equal(v("debt.all.utilisation"), 0.6);
    near(v("debt.payday.paydown"), 0.2);
    assert.equal(v("debt.all.delinquent_count"), 2);
    assert.equal(v("debt.all.defaulted_count"), 1);
    assert.equal(v("debt.all.days_to_next_due"), 4);
    assert.equal(v("debt.mortgage.open_count"), 0);
    near(v("ratio.high_cost_debt_share"), 0.2);
    assert.equal(v("inc.monthly"), 1_200);
    assert.equal(v("inc.monthly_30d_ago"), 1_600);
    assert.equal(v("inc.chg.30d"), -0.25);
    assert.equal(v("inc.streams_ended.30d"), 1);
    assert.equal(v("inc.streams_started.7d"), 1);
    near(v("inc.recurring_share"), 1_000 / 1_200);
    assert.equal(v("goal.liquid_savings"), 600, "retirement and abandoned goals are not liquid");
    assert.equal(v("goal.behind_schedule_count"), 1, "20 % saved with half the time gone");
    near(v("goal.emergency_fund.progress"), 0.2);
    assert.equal(v("coach.sessions.30d"), 2);
    assert.equal(v("coach.negative_sessions.30d"), 1);
    assert.equal(v("coach.sentiment_min.7d"), -0.6);
    assert.equal(v("coach.intent.debt_stress.7d"), 1);
    assert.equal(v("coach.days_since_last"), 2);
    near(v("coach.sentiment_chg.30d"), (-0.6 - 0.2) / 2 - 0.4);
  });
});

describe("the prevention rules on hand-built households", () => {
  test("the calm household raises nothing", () => {
    assert.deepEqual(typesFor(calmHousehold()), []);
  });

  test("missed_due_date: a missed instalment in the last 30 days; escalates to CRITICAL with a default", () => {
    const missed = calmHousehold({ payments: instalments(12, (i) => (i === 0 ? "MISSED" : "ON_TIME")) });
    assert.deepEqual(typesFor(missed), ["missed_due_date"]);
    assert.deepEqual(
      { ...firingOf(missed, "missed_due_date"), evidence: undefined },
      {
        ruleId: "pv_missed_due_date_v4",
        type: "missed_due_date",
        severity: "HIGH",
        riskBand: "AMBER",
        contributingFactors: ["missed_due_date"],
        suggestedAction: "payment_reminder_nudge",
        coolDownDays: 14,
        evidence: undefined,
      },
    );
    const older = calmHousehold({ payments: instalments(12, (i) => (i === 1 ? "MISSED" : "ON_TIME")) });
    assert.ok(!typesFor(older).includes("missed_due_date"), "missed 35 days ago is outside the window");
    const defaulted = calmHousehold({ payments: missed.payments, debts: [...missed.debts, debt({ type: "PERSONAL_LOAN", status: "DEFAULTED", minimumPayment: 1_000 })] });
    const escalated = firingOf(defaulted, "missed_due_date");
    assert.deepEqual([escalated?.severity, escalated?.riskBand, escalated?.suggestedAction], ["CRITICAL", "RED", "payment_plan_offer"]);
  });

  test("late_payment_pattern: two late instalments in 90 days", () => {
    assert.deepEqual(typesFor(calmHousehold({ payments: instalments(12, (i) => (i < 2 ? "LATE" : "ON_TIME")) })), ["late_payment_pattern"]);
    assert.deepEqual(typesFor(calmHousehold({ payments: instalments(12, (i) => (i === 0 ? "LATE" : "ON_TIME")) })), []);
  });

  test("expense_spike_food: a week of food at several times its usual pace", () => {
    const spike = withPurchases(...[0, 1, 1, 2].map((ago) => purchase(ago, "food", 6_000)));
    assert.deepEqual(typesFor(spike), ["expense_spike_food"]);
    assert.deepEqual(typesFor(withPurchases(purchase(1, "food", 6_000))), [], "one dinner out is not a spike");
  });

  test("expense_spike: a month of day-to-day spending at 1.5 times its pace and half of income", () => {
    const spike = withPurchases(...Array.from({ length: 10 }, (_, i) => purchase(2 + 3 * i, "transport", 5_000)));
    assert.deepEqual(typesFor(spike), ["expense_spike"]);
    assert.deepEqual(typesFor(withPurchases(...Array.from({ length: 3 }, (_, i) => purchase(2 + 3 * i, "transport", 5_000)))), []);
  });

  test("dti_above_limit: debt service above 43 % of income; above 60 % escalates", () => {
    assert.deepEqual(typesFor(calmHousehold({ debts: [debt({ minimumPayment: 45_000 })] })), ["dti_above_limit"]);
    assert.deepEqual(typesFor(calmHousehold({ debts: [debt({ minimumPayment: 43_000 })] })), [], "exactly 43 % is not above the limit");
    const high = firingOf(calmHousehold({ debts: [debt({ minimumPayment: 65_000 })] }), "dti_above_limit");
    assert.deepEqual([high?.severity, high?.riskBand, high?.suggestedAction], ["HIGH", "RED", "debt_restructuring_offer"]);
  });

  test("income_drop: a fifth of income gone against 90 days ago; half escalates", () => {
    const income = (lost: number): Household["income"] => [
      { kind: "RECURRING", monthly: 100_000, startedDay: TODAY - 700, endedDay: null },
      { kind: "VARIABLE", monthly: lost, startedDay: TODAY - 700, endedDay: TODAY - 20 },
    ];
    assert.deepEqual(typesFor(calmHousehold({ income: income(50_000) })), ["income_drop"]);
    assert.deepEqual(typesFor(calmHousehold({ income: income(20_000) })), [], "a 17 % drop");
    assert.equal(firingOf(calmHousehold({ income: income(150_000) }), "income_drop")?.severity, "CRITICAL");
  });

  test("savings_depleted: under half a month of savings while outgoings exceed income", () => {
    const rent = [5, 35, 65].map((ago) => purchase(ago, "housing", 90_000, true));
    const goals: Household["goals"] = [{ kind: "emergency_fund", status: "ACTIVE", target: 100_000, saved: 5_000, targetDay: null, createdDay: TODAY - 300 }];
    assert.deepEqual(typesFor(calmHousehold({ expenses: [...calmHousehold().expenses, ...rent], goals })), ["savings_depleted"]);
    assert.deepEqual(typesFor(calmHousehold({ goals })), [], "little saved, but spending within income");
  });

  test("credit_maxed: revolving balances at 90 % of their limits", () => {
    assert.deepEqual(typesFor(calmHousehold({ debts: [debt(), debt({ type: "CREDIT_CARD", balance: 95_000, creditLimit: 100_000, minimumPayment: 5_000 })] })), ["credit_maxed"]);
    assert.deepEqual(typesFor(calmHousehold({ debts: [debt(), debt({ type: "CREDIT_CARD", balance: 85_000, creditLimit: 100_000, minimumPayment: 5_000 })] })), []);
  });

  test("high_cost_debt: an open payday loan", () => {
    assert.deepEqual(typesFor(calmHousehold({ debts: [debt(), debt({ type: "PAYDAY", balance: 20_000, apr: 3, minimumPayment: 5_000 })] })), ["high_cost_debt"]);
    assert.deepEqual(typesFor(calmHousehold({ debts: [debt(), debt({ type: "PAYDAY", status: "PAID_OFF", balance: 0 })] })), []);
  });

  test("coach_distress: two distressed sessions in 30 days", () => {
    const coach = [
      { day: TODAY - 3, intent: "debt_stress", sentiment: -0.5, messages: 10 },
      { day: TODAY - 12, intent: "income_loss", sentiment: -0.4, messages: 7 },
    ];
    assert.deepEqual(typesFor(calmHousehold({ coach })), ["coach_distress"]);
    assert.deepEqual(typesFor(calmHousehold({ coach: coach.slice(0, 1) })), []);
  });

  test("wellness_entered_red: RED today after a diagnosis that was not RED", () => {
    const red = calmHousehold({ income: [], goals: [] });
    assert.equal(diagnose(red, TODAY).band, "RED");
    assert.ok(typesFor({ ...red, history: [{ day: TODAY - 31, score: 45 }] }).includes("wellness_entered_red"));
    assert.ok(!typesFor({ ...red, history: [{ day: TODAY - 31, score: 35 }] }).includes("wellness_entered_red"), "already RED");
    assert.ok(!typesFor(red).includes("wellness_entered_red"), "no earlier diagnosis");
  });

  test("a person in the RED band gets the soft outreach, with the other signals as contributing factors", () => {
    // The brief's webhook: a missed due date for someone in the RED band, with a food spike.
    const household = calmHousehold({
      income: [{ kind: "VARIABLE", monthly: 100_000, startedDay: TODAY - 700, endedDay: null }],
      debts: [debt({ minimumPayment: 40_000 }), debt({ type: "CREDIT_CARD", balance: 100_000, creditLimit: 100_000, minimumPayment: 5_000 })],
      payments: instalments(12, (i) => (i === 0 ? "MISSED" : i % 2 ? "LATE" : "ON_TIME")),
      goals: [],
      expenses: [...calmHousehold().expenses, ...[0, 1, 1, 2].map((ago) => purchase(ago, "food", 6_000))],
    });
    assert.equal(diagnose(household, TODAY).band, "RED");
    const firing = firingOf(household, "missed_due_date");
    assert.equal(firing?.riskBand, "RED");
    assert.equal(firing?.suggestedAction, "soft_outreach_v2");
    assert.deepEqual(firing?.contributingFactors.slice(0, 1), ["missed_due_date"]);
    assert.ok(firing?.contributingFactors.includes("expense_spike_food"), JSON.stringify(firing?.contributingFactors));
  });

  test("rules are validated against the catalogue when they load", () => {
    const file = JSON.parse(JSON.stringify({ version: "x", policy: { red_band_action: "soft_outreach_v2", max_contributing_factors: 5 }, rules: [] }));
    const rule = {
      id: "pv_test_v1",
      type: "test",
      description: "test",
      basis: { kind: "calibration", note: "Our calibration, for this test only." },
      when: { var: "exp.food.sum.7d", op: ">", value: 1 },
      severity: "LOW",
      risk_band: "amber",
      contributing_factors: ["test"],
      suggested_action: "nothing",
      escalations: [],
      evidence: [],
      cool_down_days: 1,
    };
    assert.equal(parseRules({ ...file, rules: [rule] }).rules.length, 1);
    assert.throws(() => parseRules({ ...file, rules: [{ ...rule, when: { var: "exp.food.summ.7d", op: ">", value: 1 } }] }), /unknown variable "exp.food.summ.7d"/);
    assert.throws(() => parseRules({ ...file, rules: [rule, { ...rule, id: "pv_test_v2" }] }), /two rules raise test/);
    assert.throws(() => parseRules({ ...file, rules: [{ ...rule, op: "~" }] }));
    const { basis: _basis, ...unexplained } = rule;
    assert.throws(() => parseRules({ ...file, rules: [unexplained] }), /basis/, "a rule must say what its thresholds rest on");
    assert.ok(RULES.rules.length >= 5);
  });

  test("every rule cites its source or says plainly that it is our calibration, and docs/prevention.md says the same", async () => {
    const doc = await readFile(new URL("../docs/prevention.md", import.meta.url), "utf8");
    for (const { definition } of RULES.rules) {
      const { kind, note } = definition.basis;
      if (kind === "calibration") assert.match(note, /^Our calibration/, `${definition.id} says it is our calibration first`);
      else assert.doesNotMatch(note, /^Our calibration/, definition.id);
      const row = doc.split("\n").find((line) => line.startsWith(`| \`${definition.type}\``));
      assert.ok(row, `docs/prevention.md has a row for ${definition.type}`);
      assert.match(row, kind === "calibration" ? /our calibration/ : /FinHealth/, `docs/prevention.md gives ${definition.type}'s basis`);
    }
  });
});

describe("raising alerts against PostgreSQL", () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let sql: pg.Client;
  let statements = 0;
  const missedHousehold = (userId: string) => calmHousehold({ userId, payments: instalments(12, (i) => (i === 0 ? "MISSED" : "ON_TIME")) });

  before(async () => {
    database = await createTestDatabase();
    prisma = createPrismaClient({ kind: "postgres", url: database.url, poolSize: 4 }, { access: allTenants("test"), onStatement: () => void statements++ });
    sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
    for (const id of ["USR_A", "USR_B", "USR_C", "USR_D", "USR_E"]) await insertHousehold(prisma, missedHousehold(id));
    await insertHousehold(prisma, calmHousehold({ userId: "USR_CALM" }));
  });

  after(async () => {
    await sql?.end();
    await prisma?.$disconnect();
    await database?.drop();
  });

  const alertsOf = async (userId: string) =>
    (await sql.query<{ id: string; type: string; created_at: Date }>("SELECT id, type, created_at FROM alert WHERE user_id = $1 ORDER BY created_at", [userId])).rows;

  test("an alert is written with its alert.created event, in the brief's webhook shape", async () => {
    const report = await evaluateUser(prisma, "USR_A", NOW);
    assert.deepEqual(report.raised.map((alert) => alert.type), ["missed_due_date"]);
    const [alert] = report.raised;
    const { rows } = await sql.query("SELECT topic, aggregate_id, country::text, payload FROM outbox_event WHERE aggregate_id = $1", [alert!.id]);
    assert.equal(rows.length, 1);
    assert.deepEqual(rows[0], {
      topic: "alert.created",
      aggregate_id: alert!.id,
      country: "EC",
      payload: {
        event: "alert.created",
        alert_id: alert!.id,
        user_id: "USR_A",
        type: "missed_due_date",
        severity: "high",
        risk_band: "amber",
        contributing_factors: ["missed_due_date"],
        suggested_action: "payment_reminder_nudge",
        created_at: NOW.toISOString(),
      },
    });
    const stored = await sql.query("SELECT status::text, rule_id, risk_band::text, contributing_factors FROM alert WHERE id = $1", [alert!.id]);
    assert.deepEqual(stored.rows[0], { status: "OPEN", rule_id: "pv_missed_due_date_v4", risk_band: "AMBER", contributing_factors: ["missed_due_date"] });
    assert.deepEqual((await evaluateUser(prisma, "USR_CALM", NOW)).raised, []);
  });

  test("the same type is not raised again within its cool-down, and is after it", async () => {
    await evaluateUser(prisma, "USR_B", NOW);
    const nextDay = await evaluateUser(prisma, "USR_B", new Date(NOW.getTime() + DAY_MS));
    assert.deepEqual(nextDay.raised, []);
    assert.deepEqual(nextDay.suppressed.map((s) => s.type), ["missed_due_date"]);
    const day13 = await evaluateUser(prisma, "USR_B", new Date(NOW.getTime() + 13 * DAY_MS));
    assert.deepEqual(day13.raised, []);
    const day14 = await evaluateUser(prisma, "USR_B", new Date(NOW.getTime() + 14 * DAY_MS));
    assert.deepEqual(day14.raised.map((alert) => alert.type), ["missed_due_date"], "the 14-day cool-down is over");
    assert.equal((await alertsOf("USR_B")).length, 2);
  });

  test("concurrent evaluations of one person raise each type once", async () => {
    const reports = await Promise.all([evaluateUser(prisma, "USR_C", NOW), evaluateUser(prisma, "USR_C", NOW), evaluateUser(prisma, "USR_C", NOW)]);
    assert.equal(reports.flatMap((report) => report.raised).length, 1);
    assert.equal((await alertsOf("USR_C")).length, 1);
  });

  test("an alert is never stored without its outbox event: a failing outbox write leaves neither", async () => {
    await sql.query(`
      CREATE FUNCTION test_refuse_outbox() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'outbox unavailable'; END $$;
      CREATE TRIGGER test_refuse_outbox BEFORE INSERT ON outbox_event FOR EACH ROW EXECUTE FUNCTION test_refuse_outbox();`);
    try {
      await assert.rejects(evaluateUser(prisma, "USR_D", NOW), /outbox unavailable/);
      assert.deepEqual(await alertsOf("USR_D"), []);
    } finally {
      await sql.query("DROP TRIGGER test_refuse_outbox ON outbox_event; DROP FUNCTION test_refuse_outbox();");
    }
    const retried = await evaluateUser(prisma, "USR_D", NOW);
    assert.equal(retried.raised.length, 1, "once the outbox accepts writes again, the alert is raised");
    const orphans = await sql.query(`
      SELECT (SELECT count(*)::int FROM alert a WHERE NOT EXISTS (SELECT 1 FROM outbox_event o WHERE o.aggregate_id = a.id)) AS alerts_without_event,
             (SELECT count(*)::int FROM outbox_event o WHERE NOT EXISTS (SELECT 1 FROM alert a WHERE a.id = o.aggregate_id)) AS events_without_alert`);
    assert.deepEqual(orphans.rows[0], { alerts_without_event: 0, events_without_alert: 0 });
  });

  test("a batch costs a bounded number of statements however many people it holds", async () => {
    statements = 0;
    await evaluateUsers(prisma, ["USR_CALM"], NOW);
    const one = statements;
    statements = 0;
    await evaluateUsers(prisma, ["USR_A", "USR_B", "USR_C", "USR_D", "USR_E", "USR_CALM"], new Date(NOW.getTime() + 2 * DAY_MS));
    assert.equal(one, LOAD_STATEMENTS + 1, "the loads, then the cohort tags");
    assert.ok(statements <= LOAD_STATEMENTS + 9, `${statements} statements (loads, the cohort tags, then one transaction: begin, lock, recent alerts, two inserts, commit)`);
  });
});

describe("alert status through the gateway", () => {
  let database: TestDatabase;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  let sql: pg.Client;
  const ACK = `mutation Ack($id: ID!) { acknowledgeAlert(id: $id) { id status } }`;
  const RESOLVE = `mutation Resolve($id: ID!) { resolveAlert(id: $id) { id status } }`;

  before(async () => {
    ({ database, kamina, sql } = await startSeededKamina({ users: 30, seed: 5, poolSize: 4 }));
  });

  after(async () => {
    await stopSeededKamina({ database, kamina, sql });
  });

  async function openAlert(userId: string): Promise<string> {
    const id = `alr_test_${Math.random().toString(16).slice(2, 10)}`;
    await sql.query(
      `INSERT INTO alert (id, user_id, country, type, risk_band, severity, contributing_factors, suggested_action, status)
       SELECT $1, id, country, 'missed_due_date', 'AMBER', 'HIGH', ARRAY['missed_due_date'], 'payment_reminder_nudge', 'OPEN' FROM app_user WHERE id = $2`,
      [id, userId],
    );
    return id;
  }

  test("open -> acknowledged -> resolved; other moves are conflicts", async () => {
    const token = bearer(await consentToken(kamina, "USR_42891", ["alerts.read", "alerts.write"]));
    const id = await openAlert("USR_42891");
    const acknowledged = await postGraphQL(kamina.graphqlUrl, ACK, { id }, token);
    assert.deepEqual(acknowledged.body, { data: { acknowledgeAlert: { id, status: "ACKNOWLEDGED" } } });
    const twice = await postGraphQL(kamina.graphqlUrl, ACK, { id }, token);
    assert.equal(twice.body.errors?.[0]?.extensions?.code, "CONFLICT", JSON.stringify(twice.body));
    const resolved = await postGraphQL(kamina.graphqlUrl, RESOLVE, { id }, token);
    assert.deepEqual(resolved.body, { data: { resolveAlert: { id, status: "RESOLVED" } } });
    const reopened = await postGraphQL(kamina.graphqlUrl, ACK, { id }, token);
    assert.equal(reopened.body.errors?.[0]?.extensions?.code, "CONFLICT");
    const again = await postGraphQL(kamina.graphqlUrl, RESOLVE, { id }, token);
    assert.equal(again.body.errors?.[0]?.extensions?.code, "CONFLICT");
    const { rows } = await sql.query("SELECT status::text, acknowledged_at IS NOT NULL AS acked, resolved_at IS NOT NULL AS resolved FROM alert WHERE id = $1", [id]);
    assert.deepEqual(rows[0], { status: "RESOLVED", acked: true, resolved: true });
  });

  test("a consent to read alerts changes nothing: acknowledging and resolving need alerts.write", async () => {
    const reader = bearer(await consentToken(kamina, "USR_42891", ["alerts.read"]));
    const id = await openAlert("USR_42891");
    for (const mutation of [ACK, RESOLVE]) {
      const refused = await postGraphQL(kamina.graphqlUrl, mutation, { id }, reader);
      assert.equal(refused.body.errors?.[0]?.extensions?.code, "UNAUTHORIZED_FIELD_OR_TYPE", JSON.stringify(refused.body));
      assert.match(refused.body.errors?.[0]?.message ?? "", /alerts\.write/);
    }
    const writerWithoutRead = bearer(await consentToken(kamina, "USR_42891", ["alerts.write"]));
    const blind = await postGraphQL(kamina.graphqlUrl, ACK, { id }, writerWithoutRead);
    assert.equal(blind.body.errors?.[0]?.extensions?.code, "UNAUTHORIZED_FIELD_OR_TYPE", "the returned Alert needs alerts.read too");
    const { rows } = await sql.query("SELECT status::text, acknowledged_at, resolved_at FROM alert WHERE id = $1", [id]);
    assert.deepEqual(rows[0], { status: "OPEN", acknowledged_at: null, resolved_at: null });
  });

  test("a partner token acts only for a person whose own consent grants alerts.write", async () => {
    const partner = bearer(await clientToken(kamina));
    const [reader] = (await sql.query<{ id: string }>("SELECT id FROM app_user WHERE id <> 'USR_42891' ORDER BY id LIMIT 1 OFFSET 1")).rows;
    await consentToken(kamina, reader!.id, ["alerts.read"]);
    await sql.query("UPDATE consent SET status = 'REVOKED', revoked_at = now() WHERE user_id = $1 AND 'alerts.write' = ANY(scopes)", [reader!.id]);
    const id = await openAlert(reader!.id);
    const refused = await postGraphQL(kamina.graphqlUrl, RESOLVE, { id }, partner);
    assert.ok(refused.body.errors?.[0], JSON.stringify(refused.body));
    assert.equal((await sql.query("SELECT status::text FROM alert WHERE id = $1", [id])).rows[0]?.status, "OPEN");
  });

  test("an open alert may be resolved directly; someone else's alert is not found", async () => {
    const partner = bearer(await clientToken(kamina));
    await consentToken(kamina, "USR_42891", ["alerts.read", "alerts.write"]);
    const id = await openAlert("USR_42891");
    const resolved = await postGraphQL(kamina.graphqlUrl, RESOLVE, { id }, partner);
    assert.deepEqual(resolved.body, { data: { resolveAlert: { id, status: "RESOLVED" } } });
    const [other] = (await sql.query<{ id: string }>("SELECT id FROM app_user WHERE id <> 'USR_42891' ORDER BY id LIMIT 1")).rows;
    const foreign = await openAlert(other!.id);
    const token = bearer(await consentToken(kamina, "USR_42891", ["alerts.read", "alerts.write"]));
    const refused = await postGraphQL(kamina.graphqlUrl, ACK, { id: foreign }, token);
    assert.equal(refused.body.errors?.[0]?.extensions?.code, "NOT_FOUND", JSON.stringify(refused.body));
    const unknown = await postGraphQL(kamina.graphqlUrl, ACK, { id: "alr_nope" }, token);
    assert.equal(unknown.body.errors?.[0]?.extensions?.code, "NOT_FOUND");
  });
});
