// The Kamina app's write path, as the app uses it: a food expense written through
// POST /v1/app/users/{id}/expenses raises the person's expense_spike_food alert to a graphql-ws
// subscriber within seconds (outbox -> household-change consumer -> diagnosis and rules ->
// alert outbox -> subscription); debts, payments, income streams and goals are created and
// updated; a retried POST with its Idempotency-Key writes once; bad input gets a coded 4xx; a
// partner token, a wrong key and another person's record get nothing.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { PrismaClient } from "../platform/database/database.ts";
import { bearer, consentToken } from "../testkit/tokens.ts";
import { startSeededKamina, stopSeededKamina, type SeededKamina } from "./support/seeded-kamina.ts";
import { TestSubscription } from "./support/realtime.ts";
import { assertEnvelope, rest, type RestResponse } from "./support/rest.ts";

const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY);
const dayAgo = (days: number) => ago(days).toISOString().slice(0, 10);

describe("the Kamina app's write path", () => {
  let seeded: SeededKamina;
  let kamina: SeededKamina["kamina"];
  let prisma: PrismaClient;
  let counter = 0;
  const appKey = () => ({ "x-kamina-app-key": kamina.gateway!.auth.config.appApiKey });
  const call = (method: string, path: string, json: unknown, headers: Record<string, string> = {}): Promise<RestResponse> =>
    rest(kamina.gateway!.origin, method, path, { headers: { ...appKey(), ...headers }, json });
  const key = () => `key-${process.pid}-${++counter}-${Math.random().toString(36).slice(2)}`;
  const newPerson = async (country: "EC" | "MX" = "EC"): Promise<string> => {
    const id = `USR_APPW_${process.pid}_${++counter}`;
    await prisma.user.create({ data: { id, country, createdAt: ago(200) } });
    return id;
  };
  const expense = (overrides: Record<string, unknown> = {}) => ({
    amount: "40.00", currency: "USD", mcc: "5812", category: "food", merchant: "Picantería La Cuchara", occurred_at: ago(1).toISOString(), ...overrides,
  });

  before(async () => {
    seeded = await startSeededKamina({ users: 2, seed: 11, poolSize: 6, env: { RELAY_POLL_MS: "200" } });
    ({ kamina } = seeded);
    prisma = kamina.gateway!.auth.prisma;
  });
  after(() => stopSeededKamina(seeded));

  test("an expense written by the app raises the matching alert to a subscriber within seconds", async () => {
    const person = await newPerson();
    // A steady earner whose food spending ran at about a dollar a day for three months, then two
    // meals out this week: one more makes it a spike (3 in 7 days, well over twice the pace).
    await prisma.incomeStream.create({ data: { id: `inc_${person}`, userId: person, country: "EC", source: "Salario", kind: "RECURRING", monthlyAmount: "1000.00", currency: "USD", startedAt: ago(400) } });
    await prisma.expense.createMany({
      data: [
        ...Array.from({ length: 9 }, (_, i) => ({ userId: person, country: "EC" as const, amount: "10.00", currency: "USD", mcc: "5812", category: "food", merchant: "Almuerzo", occurredAt: ago(15 + 10 * i) })),
        ...[2, 3].map((days) => ({ userId: person, country: "EC" as const, amount: "40.00", currency: "USD", mcc: "5812", category: "food", merchant: "Cena", occurredAt: ago(days) })),
      ],
    });
    const token = await consentToken(kamina, person, ["alerts.read"]);
    const subscription = new TestSubscription(kamina.graphqlUrl, `Bearer ${token}`, `subscription($u: ID) { alertCreated(userId: $u) { id type severity contributingFactors } }`, { u: person });
    try {
      await subscription.ready();
      const written = await call("POST", `/v1/app/users/${person}/expenses`, expense(), { "idempotency-key": key() });
      assert.equal(written.status, 201, JSON.stringify(written.body));
      const [result] = await subscription.take(1, 15_000);
      const alert = (result?.data as { alertCreated: { type: string; contributingFactors: string[] } }).alertCreated;
      assert.equal(alert.type, "expense_spike_food");
      assert.deepEqual(alert.contributingFactors, ["expense_spike_food"]);
      const snapshot = await prisma.wellnessSnapshot.findFirst({ where: { userId: person } });
      assert.ok(snapshot, "the person's diagnosis ran again too");
    } finally {
      await subscription.dispose();
    }
  });

  test("a retried POST with the same Idempotency-Key writes once and answers the first answer", async () => {
    const person = await newPerson();
    const idempotencyKey = key();
    const body = expense();
    const first = await call("POST", `/v1/app/users/${person}/expenses`, body, { "idempotency-key": idempotencyKey });
    const again = await call("POST", `/v1/app/users/${person}/expenses`, body, { "idempotency-key": idempotencyKey });
    assert.equal(first.status, 201);
    assert.equal(again.status, 201);
    assert.deepEqual(again.body, first.body);
    assert.equal(again.headers.get("idempotent-replayed"), "true");
    // Retries racing each other: still one row for the key.
    const racing = key();
    const racingBody = expense({ amount: "7.25" });
    const answers = await Promise.all(Array.from({ length: 5 }, () => call("POST", `/v1/app/users/${person}/expenses`, racingBody, { "idempotency-key": racing })));
    assert.ok(answers.every((answer) => answer.status === 201));
    assert.equal(new Set(answers.map((answer) => (answer.body as { id: string }).id)).size, 1);
    assert.equal(await prisma.expense.count({ where: { userId: person } }), 2);
    assert.equal(await prisma.outboxEvent.count({ where: { topic: "household.changed", aggregateId: person } }), 2, "one announcement per write");
    const reused = await call("POST", `/v1/app/users/${person}/expenses`, expense({ amount: "99.00" }), { "idempotency-key": idempotencyKey });
    assertEnvelope(reused, 409, "CONFLICT", /another request/);
  });

  test("debts, their payments, income streams and goals are created and updated", async () => {
    const person = await newPerson("MX");
    const headers = () => ({ "idempotency-key": key() });
    const debt = await call("POST", `/v1/app/users/${person}/debts`, {
      issuer: "Banco Azteca", type: "CREDIT_CARD", principal: "20000", balance: "12400.55", credit_limit: "25000", minimum_payment: "900", currency: "MXN", apr: 0.62, due_date: dayAgo(-20), opened_at: "2024-03-01",
    }, headers());
    assert.equal(debt.status, 201, JSON.stringify(debt.body));
    const debtId = (debt.body as { id: string }).id;
    assert.equal((debt.body as { status: string }).status, "CURRENT");
    const updated = await call("PATCH", `/v1/app/users/${person}/debts/${debtId}`, { balance: "11000.00", status: "LATE" });
    assert.equal(updated.status, 200);
    assert.equal((updated.body as { balance: string }).balance, "11000.00");

    const payment = await call("POST", `/v1/app/users/${person}/debts/${debtId}/payments`, { due_date: dayAgo(5), amount_due: "900", amount_paid: "0", status: "MISSED" }, headers());
    assert.equal(payment.status, 201, JSON.stringify(payment.body));
    const paymentId = (payment.body as { id: string }).id;
    const paid = await call("PATCH", `/v1/app/users/${person}/debts/${debtId}/payments/${paymentId}`, { amount_paid: "900", paid_at: dayAgo(1), status: "LATE" });
    assert.equal(paid.status, 200);
    assert.equal((paid.body as { amount_paid: string }).amount_paid, "900.00");

    const income = await call("POST", `/v1/app/users/${person}/income-streams`, { source: "Ventas en mercado", kind: "VARIABLE", monthly_amount: 8500, currency: "MXN", started_at: "2025-01-01" }, headers());
    assert.equal(income.status, 201, JSON.stringify(income.body));
    const incomeId = (income.body as { id: string }).id;
    assert.equal((await call("PATCH", `/v1/app/users/${person}/income-streams/${incomeId}`, { ended_at: dayAgo(1) })).status, 200);
    assertEnvelope(await call("PATCH", `/v1/app/users/${person}/income-streams/${incomeId}`, { ended_at: "2024-01-01" }), 400, "BAD_USER_INPUT", /ended_at/);

    const goal = await call("POST", `/v1/app/users/${person}/goals`, { kind: "emergency_fund", name: "Colchón", target_amount: "30000", currency: "MXN" }, headers());
    assert.equal(goal.status, 201, JSON.stringify(goal.body));
    assert.equal((goal.body as { current_amount: string }).current_amount, "0.00");
    const goalId = (goal.body as { id: string }).id;
    assert.equal((await call("PATCH", `/v1/app/users/${person}/goals/${goalId}`, { current_amount: "1500.50" })).status, 200);
    assert.equal((await prisma.savingsGoal.findUniqueOrThrow({ where: { id: goalId } })).currentAmount.toFixed(2), "1500.50");

    const kinds = (await prisma.outboxEvent.findMany({ where: { topic: "household.changed", aggregateId: person }, orderBy: { id: "asc" } })).map((event) => (event.payload as { kind: string }).kind);
    assert.deepEqual(kinds, ["debt", "debt", "debt_payment", "debt_payment", "income_stream", "income_stream", "savings_goal", "savings_goal"], "each successful write announced once; the refused one not at all");
  });

  test("bad input gets a coded 4xx and writes nothing", async () => {
    const person = await newPerson();
    const post = (body: unknown, headers: Record<string, string> = { "idempotency-key": key() }) => call("POST", `/v1/app/users/${person}/expenses`, body, headers);
    const cases: [unknown, RegExp][] = [
      [expense({ amount: "-5" }), /amount/],
      [expense({ amount: "1.234" }), /amount/],
      [expense({ amount: "abc" }), /amount/],
      [expense({ amount: 1e12 }), /amount/],
      [expense({ amount: "0" }), /more than 0/],
      [expense({ amount: { $gt: 0 } }), /amount/],
      [expense({ currency: "usd" }), /currency/],
      [expense({ currency: "MXN" }), /currency must be one of USD/],
      [expense({ mcc: "58a2" }), /mcc/],
      [expense({ category: "crypto" }), /category/],
      [expense({ merchant: "" }), /merchant/],
      [expense({ merchant: "x".repeat(121) }), /merchant/],
      [expense({ merchant: "bad\u0007bell" }), /control/],
      [expense({ occurred_at: "2026-13-45" }), /occurred_at/],
      [expense({ occurred_at: new Date(Date.now() + 10 * DAY).toISOString() }), /occurred_at/],
      [expense({ occurred_at: "1999-12-31T00:00:00Z" }), /occurred_at/],
      [expense({ user_id: "USR_OTHER" }), /user_id|Unrecognized|unknown/i],
      [{}, /amount|required/i],
    ];
    for (const [body, message] of cases) assertEnvelope(await post(body), 400, "BAD_USER_INPUT", message);
    assertEnvelope(await post(expense(), {}), 400, "BAD_USER_INPUT", /Idempotency-Key/);
    assertEnvelope(await post(expense(), { "idempotency-key": "short" }), 400, "BAD_USER_INPUT", /Idempotency-Key/);
    assertEnvelope(await post(expense({ merchant: "nul\u0000" })), 400, "BAD_USER_INPUT", /NUL/);
    assertEnvelope(await rest(kamina.gateway!.origin, "POST", `/v1/app/users/${person}/expenses`, { headers: { ...appKey(), "idempotency-key": key() }, raw: { contentType: "application/json", body: "{not json" } }), 400, "BAD_REQUEST");
    assertEnvelope(await rest(kamina.gateway!.origin, "POST", `/v1/app/users/${person}/expenses`, { headers: { ...appKey(), "idempotency-key": key() }, raw: { contentType: "text/plain", body: "amount=1" } }), 415, "UNSUPPORTED_MEDIA_TYPE");
    assertEnvelope(await post({ ...expense(), merchant: "x".repeat(70_000) }), 413, "PAYLOAD_TOO_LARGE");
    assertEnvelope(await call("PATCH", `/v1/app/users/${person}/expenses/12abc`, { amount: "1" }), 400, "BAD_USER_INPUT", /expense_id/);
    assertEnvelope(await call("PATCH", `/v1/app/users/${person}/expenses/99999999999999999999`, { amount: "1" }), 400, "BAD_USER_INPUT", /expense_id/);
    assertEnvelope(await call("PATCH", `/v1/app/users/${person}/expenses/1`, {}), 400, "BAD_USER_INPUT", /at least one field/);
    assertEnvelope(await call("POST", `/v1/app/users/${"x".repeat(65)}/expenses`, expense(), { "idempotency-key": key() }), 400, "BAD_USER_INPUT", /user_id/);
    assertEnvelope(await call("POST", `/v1/app/users/USR_NOBODY_${process.pid}/expenses`, expense(), { "idempotency-key": key() }), 404, "NOT_FOUND");
    assert.equal(await prisma.expense.count({ where: { userId: person } }), 0);
    assert.equal(await prisma.outboxEvent.count({ where: { topic: "household.changed", aggregateId: person } }), 0);
  });

  test("a partner token, no key or a wrong key opens no app route, and another person's record is NOT_FOUND", async () => {
    const a = await newPerson();
    const b = await newPerson();
    const path = `/v1/app/users/${a}/expenses`;
    const token = await consentToken(kamina, a);
    for (const headers of [bearer(token), {}, { "x-kamina-app-key": "not-the-app-key-at-all-0000000000" }]) {
      assertEnvelope(await rest(kamina.gateway!.origin, "POST", path, { headers: { ...headers, "idempotency-key": key() }, json: expense() }), 401, "UNAUTHENTICATED");
    }
    const bExpense = await call("POST", `/v1/app/users/${b}/expenses`, expense({ amount: "12.00" }), { "idempotency-key": key() });
    const bId = (bExpense.body as { id: string }).id;
    assertEnvelope(await call("PATCH", `/v1/app/users/${a}/expenses/${bId}`, { amount: "1.00" }), 404, "NOT_FOUND");
    const bDebt = await call("POST", `/v1/app/users/${b}/debts`, {
      issuer: "Banco Pichincha", type: "INSTALLMENT", principal: "800", balance: "800", minimum_payment: "80", currency: "USD", apr: 0.31, due_date: dayAgo(-10), opened_at: "2025-01-01",
    }, { "idempotency-key": key() });
    const bDebtId = (bDebt.body as { id: string }).id;
    assertEnvelope(await call("PATCH", `/v1/app/users/${a}/debts/${bDebtId}`, { balance: "0" }), 404, "NOT_FOUND");
    assertEnvelope(await call("POST", `/v1/app/users/${a}/debts/${bDebtId}/payments`, { due_date: dayAgo(1), amount_due: "80", amount_paid: "80", status: "ON_TIME" }, { "idempotency-key": key() }), 404, "NOT_FOUND");
    const stored = await prisma.expense.findUniqueOrThrow({ where: { id: BigInt(bId) } });
    assert.equal(stored.amount.toFixed(2), "12.00", "B's expense is untouched");
    assert.equal((await prisma.debt.findUniqueOrThrow({ where: { id: bDebtId } })).balance.toFixed(2), "800.00");
  });
});
