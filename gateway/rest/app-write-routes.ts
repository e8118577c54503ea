// The Kamina app's write path over REST: the person's expenses, debts and their payments, income
// streams and savings goals, created (POST, with an Idempotency-Key) and updated (PATCH). Only
// the app's key opens these routes; a partner token never does. Each write is announced on the
// outbox and the person's diagnosis and prevention rules run again within seconds (docs/api.md).
import type { IncomingMessage } from "node:http";
import { z } from "zod";
import type { HouseholdRecordKind } from "../../domain/household/household-change-event.ts";
import { sendJson } from "../../platform/http/graphql-http-server.ts";
import {
  debtInput,
  debtUpdate,
  expenseInput,
  expenseUpdate,
  goalInput,
  goalUpdate,
  incomeInput,
  incomeUpdate,
  NUMERIC_ID,
  paymentInput,
  paymentUpdate,
  RECORD_ID,
} from "../app-writes/app-write-inputs.ts";
import { AppWrites, IDEMPOTENCY_KEY, type Person, type RecordWrite, type Tx } from "../app-writes/app-writes.ts";
import * as records from "../app-writes/household-records.ts";
import type { AuthApi } from "../auth/auth-api.ts";
import type { AuthServices } from "../auth/services.ts";
import { requireApp } from "./callers.ts";
import { RestError } from "./envelope.ts";
import { parseInput, readBody } from "./request-body.ts";
import type { RestRoutes } from "./rest-routes.ts";
import { PERSON_ID, type RouteSpec } from "./route-spec.ts";

const TAG = "app-writes";
const BASE = "/v1/app/users/:user_id";

const idempotencyHeaders = (required: boolean) =>
  z.object({
    "idempotency-key": (required ? z.string() : z.string().optional()).describe(
      "8 to 128 visible ASCII characters, new for each new write (a UUID). A retry with the same key and body answers the first answer (header `idempotent-replayed: true`) and writes nothing; the same key with another body is a 409 CONFLICT.",
    ),
  });

const money = z.string().describe("Decimal string, two decimals");
const day = z.iso.date().nullable();
const answers = {
  expense: z.object({ id: z.string(), user_id: z.string(), amount: money, currency: z.string(), mcc: z.string(), category: z.string(), merchant: z.string(), occurred_at: z.iso.datetime() }),
  debt: z.object({
    id: z.string(), user_id: z.string(), issuer: z.string(), type: z.string(), principal: money, balance: money, credit_limit: money.nullable(), minimum_payment: money,
    currency: z.string(), apr: z.number(), due_date: day, status: z.string(), opened_at: day,
  }),
  debt_payment: z.object({ id: z.string(), debt_id: z.string(), user_id: z.string(), due_date: day, amount_due: money, amount_paid: money, paid_at: day, status: z.string() }),
  income_stream: z.object({ id: z.string(), user_id: z.string(), source: z.string(), kind: z.string(), monthly_amount: money, currency: z.string(), started_at: day, ended_at: day }),
  savings_goal: z.object({ id: z.string(), user_id: z.string(), kind: z.string(), name: z.string(), target_amount: money, current_amount: money, currency: z.string(), target_date: day, status: z.string() }),
} satisfies Partial<Record<HouseholdRecordKind, z.ZodType>>;

const LABEL: Record<keyof typeof answers, string> = {
  expense: "an expense",
  debt: "a debt",
  debt_payment: "a debt's payment (instalment)",
  income_stream: "an income stream",
  savings_goal: "a savings goal",
};

function spec(kind: keyof typeof answers, change: "created" | "updated", body: z.ZodType): RouteSpec {
  return {
    summary: `${change === "created" ? "Create" : "Update"} ${LABEL[kind]} of a person (Kamina app, for the person)`,
    description: [
      change === "created" ? "Needs an `Idempotency-Key` header." : "Changes only the fields sent (at least one); an `Idempotency-Key` is optional.",
      "Money is a decimal string (or number) with at most 2 decimals; currencies are the person's country's or USD; dates YYYY-MM-DD.",
      "The record must be the person's: another person's is NOT_FOUND, like one that does not exist.",
      "The write is announced on the outbox; the person's diagnosis and prevention rules run again within seconds, so alerts follow (subscriptions and webhooks).",
    ].join(" "),
    tag: TAG,
    caller: "app",
    headers: idempotencyHeaders(change === "created"),
    body,
    responses: change === "created" ? { 201: { description: "Created", schema: answers[kind] } } : { 200: { description: "Updated", schema: answers[kind] } },
    errors: ["NOT_FOUND", "CONFLICT"],
  };
}

interface WriteRoute<Input> {
  method: "POST" | "PATCH";
  path: string;
  kind: keyof typeof answers;
  body: z.ZodType<Input>;
  /** Path parameters other than user_id, with the pattern each must match. */
  ids?: Record<string, RegExp>;
  run(tx: Tx, person: Person, params: Record<string, string>, input: Input): Promise<RecordWrite>;
}

function idempotencyKeyOf(request: IncomingMessage, required: boolean): string | undefined {
  const key = request.headers["idempotency-key"];
  if (key === undefined) {
    if (required) throw new RestError("BAD_USER_INPUT", "A create needs an `Idempotency-Key` header (a new UUID per write, the same one on its retries)");
    return undefined;
  }
  if (typeof key !== "string" || !IDEMPOTENCY_KEY.test(key)) throw new RestError("BAD_USER_INPUT", "`Idempotency-Key` must be 8 to 128 visible ASCII characters");
  return key;
}

export function addAppWriteRoutes(router: RestRoutes, api: AuthApi, services: AuthServices): void {
  const writes = new AppWrites(services.prisma);
  const add = <Input>(route: WriteRoute<Input>) => {
    const change = route.method === "POST" ? "created" : "updated";
    router.add(
      route.method,
      route.path,
      async (request, response, params) => {
        requireApp(api, request);
        const userId = params.user_id ?? "";
        if (!PERSON_ID.test(userId)) throw new RestError("BAD_USER_INPUT", "`user_id` must be 1 to 64 letters, digits, `_` or `-`");
        for (const [name, pattern] of Object.entries(route.ids ?? {})) {
          if (!pattern.test(params[name] ?? "")) throw new RestError("BAD_USER_INPUT", `\`${name}\` is not a valid id`);
        }
        const idempotencyKey = idempotencyKeyOf(request, change === "created");
        const input = parseInput(route.body, await readBody(request));
        const path = new URL(request.url ?? "/", "http://localhost").pathname;
        const answer = await writes.write({
          userId,
          kind: route.kind,
          change,
          idempotencyKey,
          fingerprint: JSON.stringify([route.method, path, input]),
          run: (tx, person) => route.run(tx, person, params, input),
        });
        if (answer.replayed) response.setHeader("idempotent-replayed", "true");
        sendJson(response, answer.status, answer.body);
      },
      spec(route.kind, change, route.body),
    );
  };

  add({ method: "POST", path: `${BASE}/expenses`, kind: "expense", body: expenseInput, run: (tx, person, _p, input) => records.createExpense(tx, person, input) });
  add({
    method: "PATCH", path: `${BASE}/expenses/:expense_id`, kind: "expense", body: expenseUpdate, ids: { expense_id: NUMERIC_ID },
    run: (tx, person, params, input) => records.updateExpense(tx, person, params.expense_id!, input),
  });
  add({ method: "POST", path: `${BASE}/debts`, kind: "debt", body: debtInput, run: (tx, person, _p, input) => records.createDebt(tx, person, input) });
  add({
    method: "PATCH", path: `${BASE}/debts/:debt_id`, kind: "debt", body: debtUpdate, ids: { debt_id: RECORD_ID },
    run: (tx, person, params, input) => records.updateDebt(tx, person, params.debt_id!, input),
  });
  add({
    method: "POST", path: `${BASE}/debts/:debt_id/payments`, kind: "debt_payment", body: paymentInput, ids: { debt_id: RECORD_ID },
    run: (tx, person, params, input) => records.createPayment(tx, person, params.debt_id!, input),
  });
  add({
    method: "PATCH", path: `${BASE}/debts/:debt_id/payments/:payment_id`, kind: "debt_payment", body: paymentUpdate, ids: { debt_id: RECORD_ID, payment_id: NUMERIC_ID },
    run: (tx, person, params, input) => records.updatePayment(tx, person, params.debt_id!, params.payment_id!, input),
  });
  add({ method: "POST", path: `${BASE}/income-streams`, kind: "income_stream", body: incomeInput, run: (tx, person, _p, input) => records.createIncome(tx, person, input) });
  add({
    method: "PATCH", path: `${BASE}/income-streams/:income_id`, kind: "income_stream", body: incomeUpdate, ids: { income_id: RECORD_ID },
    run: (tx, person, params, input) => records.updateIncome(tx, person, params.income_id!, input),
  });
  add({ method: "POST", path: `${BASE}/goals`, kind: "savings_goal", body: goalInput, run: (tx, person, _p, input) => records.createGoal(tx, person, input) });
  add({
    method: "PATCH", path: `${BASE}/goals/:goal_id`, kind: "savings_goal", body: goalUpdate, ids: { goal_id: RECORD_ID },
    run: (tx, person, params, input) => records.updateGoal(tx, person, params.goal_id!, input),
  });
}
