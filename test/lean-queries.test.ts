// A subgraph answers the gateway's repeated query texts on a shorter road than Apollo Server's
// pipeline (subgraphs/shared/lean-queries.ts). The first request of a text goes through Apollo;
// the next ones of the same text are answered lean. Whatever the case, a partner behind the
// gateway cannot tell them apart: same status, headers, errors, receipts, bytes.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { gatewaySignatureHeader } from "../testkit/gateway-signature.ts";
import type { TestDatabase } from "../testkit/postgres.ts";
import { bearer, clientToken, consentToken, DEMO_CLIENT } from "../testkit/tokens.ts";
import type { startTestKamina } from "./support/kamina.ts";
import { startSeededKamina, stopSeededKamina } from "./support/seeded-kamina.ts";

const ENTITIES = `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { debts { id issuer balance dueDate } debtSummary { openCount } } } }`;
const PERSON = [{ __typename: "User", id: "USR_42891" }];

describe("the gateway's repeated queries at a subgraph", () => {
  let database: TestDatabase;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  let sql: pg.Client;
  let withDebts: Record<string, string>;
  let withoutDebts: Record<string, string>;

  before(async () => {
    ({ database, kamina, sql } = await startSeededKamina({ users: 20, seed: 16, poolSize: 3 }));
    withDebts = bearer(await consentToken(kamina, "USR_42891", ["debts.read", "wellness.read"]));
    withoutDebts = bearer(await consentToken(kamina, "USR_42891", ["wellness.read"]));
  });

  after(async () => {
    await stopSeededKamina({ database, kamina, sql });
  });

  /** A signed POST to the debts subgraph as the gateway sends it (no accept header), answered as raw text. */
  async function send(query: string, variables: unknown, headers: Record<string, string>) {
    const url = kamina.subgraphs.debts!.url;
    const body = JSON.stringify({ query, variables });
    const before = kamina.subgraphs.debts!.leanAnswers();
    const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", accept: "", ...headers, ...gatewaySignatureHeader(kamina, { url, body }) }, body });
    const text = await response.text();
    return { status: response.status, contentType: response.headers.get("content-type"), cacheControl: response.headers.get("cache-control"), text, lean: kamina.subgraphs.debts!.leanAnswers() - before };
  }

  /** The same request twice: the first through Apollo, the second on the lean road when `lean`; equal answers either way. */
  async function twice(query: string, variables: unknown, headers: Record<string, string>, lean: boolean) {
    const first = await send(query, variables, headers);
    const second = await send(query, variables, headers);
    assert.equal(first.lean, 0, "a text Apollo has not validated yet goes through Apollo");
    assert.equal(second.lean, lean ? 1 : 0, `second answer lean: ${second.text}`);
    assert.deepEqual({ ...second, lean: 0 }, { ...first, lean: 0 });
    return { ...second, body: JSON.parse(second.text) as { data?: unknown; errors?: { message: string; path?: unknown[]; extensions?: Record<string, unknown> }[]; extensions?: Record<string, unknown> } };
  }

  test("a consented read answers the same data and receipts as Apollo does", async () => {
    const answer = await twice(ENTITIES, { r: PERSON }, withDebts, true);
    assert.equal(answer.status, 200);
    assert.equal(answer.contentType, "application/json; charset=utf-8");
    assert.equal(answer.cacheControl, "no-store");
    assert.equal(answer.body.errors, undefined);
    assert.ok((answer.body.data as { _entities: { debts: unknown[] }[] })._entities[0]!.debts.length > 0);
    assert.deepEqual(Object.values(answer.body.extensions?.kaminaReceipts as Record<string, string[]>), [["User.debtSummary", "User.debts"]]);
  });

  test("asked for lists (the gateway's header), the receipts name each list of fields once, on both roads, and say what the report says", async () => {
    const partner = bearer(await clientToken(kamina));
    const people = (
      await sql.query<{ user_id: string }>(
        "SELECT DISTINCT c.user_id FROM consent c WHERE c.client_id = $1 AND c.status = 'AUTHORISED' AND c.scopes @> ARRAY['debts.read'] AND EXISTS (SELECT 1 FROM debt d WHERE d.user_id = c.user_id) ORDER BY c.user_id LIMIT 4",
        [DEMO_CLIENT],
      )
    ).rows.map((row) => ({ __typename: "User", id: row.user_id }));
    assert.ok(people.length >= 2, "the seed has partner-consented people with debts");
    // A text of its own per call: each first goes through Apollo, then the lean road.
    const query = (name: string) => ENTITIES.replace("query(", `query ${name}(`);
    const report = (await twice(query("Report"), { r: people }, partner, true)).body.extensions?.kaminaReceipts as Record<string, string[]>;
    const asked = await twice(query("Lists"), { r: people }, { ...partner, "kamina-receipts": "lists" }, true);
    assert.equal(asked.body.extensions?.kaminaReceipts, undefined, "one form, the one asked for");
    const lists = asked.body.extensions?.kaminaReceiptLists as { fields: string[][]; consents: Record<string, number> };
    assert.deepEqual(lists.fields, [["User.debtSummary", "User.debts"]], "every person read under the same fields: one list");
    assert.equal(Object.keys(lists.consents).length, people.length);
    assert.deepEqual(Object.fromEntries(Object.entries(lists.consents).map(([consentId, place]) => [consentId, lists.fields[place]])), report);
    const other = await twice(query("Other"), { r: people }, { ...partner, "kamina-receipts": "compact" }, true);
    assert.deepEqual(other.body.extensions?.kaminaReceipts, report, "any other value gets the report");
  });

  test("a field the person did not grant is null with UNAUTHORIZED_FIELD_OR_TYPE and its path, and no receipt", async () => {
    const answer = await twice(ENTITIES.replace("query(", "query Refused("), { r: PERSON }, withoutDebts, true);
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body.errors?.map((error) => [error.extensions?.code, error.path]), [
      ["UNAUTHORIZED_FIELD_OR_TYPE", ["_entities", 0, "debts"]],
      ["UNAUTHORIZED_FIELD_OR_TYPE", ["_entities", 0, "debtSummary"]],
    ]);
    assert.equal(answer.body.extensions, undefined);
  });

  test("variables that do not coerce, a NUL in a variable, an unknown operation name and a refused token stay Apollo's answers", async () => {
    const coerced = await twice(ENTITIES, { r: null }, withDebts, false);
    assert.equal(coerced.status, 400);
    assert.equal(coerced.body.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");

    await send(ENTITIES, { r: PERSON }, withDebts);
    const nul = await send(ENTITIES, { r: [{ __typename: "User", id: "USR_\u0000" }] }, withDebts);
    assert.equal(nul.lean, 0);
    assert.equal(nul.status, 400);
    assert.match(nul.text, /NUL character/);

    const named = `query A($r: [_Any!]!) { _entities(representations: $r) { ... on User { debts { id } } } } query B { _service { sdl } }`;
    await send(named, { r: PERSON }, withDebts);
    const unknown = await send(named.replace("query B", "query C"), { r: PERSON }, withDebts);
    assert.equal(unknown.lean, 0);

    const refused = await twice(ENTITIES, { r: PERSON }, { authorization: "Bearer not-a-token" }, false);
    assert.equal(refused.status, 401);
    assert.equal(refused.body.errors?.[0]?.extensions?.code, "UNAUTHENTICATED");
  });

  test("an accept header other than JSON's is Apollo's to negotiate", async () => {
    await send(ENTITIES, { r: PERSON }, withDebts);
    const answer = await send(ENTITIES, { r: PERSON }, { ...withDebts, accept: "application/graphql-response+json" });
    assert.equal(answer.lean, 0);
    assert.equal(answer.contentType, "application/graphql-response+json; charset=utf-8");
  });
});
