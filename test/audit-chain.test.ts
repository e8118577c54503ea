// The audit log as an auditor relies on it: receipts written by real reads through the gateway
// are hash-chained in the database, `npm run audit:verify` finds a row changed, deleted or
// moved behind the application's back, and the application itself cannot change or delete one.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import pg from "pg";
import { seedDatabase } from "../prisma/seed/index.ts";
import { verifyAuditChains, type ChainReport } from "../platform/audit/audit-chain.ts";
import { createTestDatabase, type TestDatabase } from "../testkit/postgres.ts";
import { basic, bearer, consentToken, DEMO_CLIENT, TEST_SANDBOX_SECRET } from "../testkit/tokens.ts";
import { postGraphQL, startTestKamina } from "./support/kamina.ts";
import { rest } from "./support/rest.ts";

const run = promisify(execFile);

/** `npm run audit:verify` against the test database: its exit code and what it printed. */
async function auditVerify(url: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await run(process.execPath, ["--import", "tsx", "scripts/audit-verify.ts"], { env: { ...process.env, DATABASE_URL: url } });
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}

const brokenChains = (reports: ChainReport[]) => reports.filter((report) => report.broken);

describe("audit log: hash-chained, append-only, verified", () => {
  let database: TestDatabase;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  let sql: pg.Client;
  let person: string;

  /** Runs `change` with audit_event's triggers off, as a superuser tampering with the table would. */
  const behindTheTriggers = async (change: string, values: unknown[] = []) => {
    await sql.query("ALTER TABLE audit_event DISABLE TRIGGER USER");
    try {
      await sql.query(change, values);
    } finally {
      await sql.query("ALTER TABLE audit_event ENABLE TRIGGER USER");
    }
  };
  const verify = () => verifyAuditChains(kamina.gateway!.auth.prisma);

  before(async () => {
    database = await createTestDatabase();
    await seedDatabase({ kind: "postgres", url: database.url, poolSize: 2 }, { users: 20, seed: 16, sandboxClientSecret: TEST_SANDBOX_SECRET });
    kamina = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 4 });
    sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
    person = (await kamina.gateway!.auth.prisma.user.findFirstOrThrow({ where: { country: "MX", id: { not: "USR_42891" } }, select: { id: true } })).id;
    // Receipts from real reads: two people, several requests each.
    for (const userId of ["USR_42891", person]) {
      const token = await consentToken(kamina, userId);
      for (let i = 0; i < 3; i++) {
        const answer = await postGraphQL(kamina.graphqlUrl, "{ me { id wellness { score } debts { id } } }", undefined, bearer(token));
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        assert.equal(answer.body.errors, undefined, JSON.stringify(answer.body.errors));
      }
    }
  });

  after(async () => {
    await sql?.end();
    await kamina?.stop();
    await database?.drop();
  });

  test("receipts written by reads through the gateway are chained in the database, and the chain verifies", async () => {
    const { rows } = await sql.query<{ id: string; chain: string; seq: string; prev_hash: string; hash: string; user_id: string; subject_digest: string }>(
      "SELECT id, chain, seq, prev_hash, hash, user_id, subject_digest FROM audit_event WHERE action = 'consent.receipt' ORDER BY chain, seq",
    );
    assert.ok(rows.length >= 6, `${rows.length} receipts`);
    for (const row of rows) {
      assert.equal(row.chain, "MX");
      assert.match(row.hash, /^[0-9a-f]{64}$/);
      assert.match(row.subject_digest, /^[0-9a-f]{64}$/);
    }
    for (let i = 1; i < rows.length; i++) {
      assert.equal(BigInt(rows[i]!.seq), BigInt(rows[i - 1]!.seq) + 1n, "seq counts up without gaps");
      assert.equal(rows[i]!.prev_hash, rows[i - 1]!.hash, "each row names the hash of the one before");
    }

    const reports = await verify();
    assert.deepEqual(brokenChains(reports), []);
    assert.equal(reports.find((report) => report.chain === "MX")!.rows, rows.length);

    const script = await auditVerify(database.url);
    assert.equal(script.code, 0, script.output);
    assert.match(script.output, new RegExp(`OK: 6 chains, ${rows.length} rows verified`));
  });

  test("an answer whose consent receipt cannot be written is withheld, over /graphql and REST, and nothing is billed for it", async () => {
    const token = await consentToken(kamina, person);
    const billed = async () => Number((await sql.query("SELECT coalesce(sum(count), 0)::int AS n FROM usage_counter")).rows[0].n);
    const receipts = async () => Number((await sql.query("SELECT count(*)::int AS n FROM audit_event WHERE action = 'consent.receipt'")).rows[0].n);
    const [billedBefore, receiptsBefore] = [await billed(), await receipts()];
    // The database refuses every receipt from now on, as it would a write it cannot make.
    await sql.query("ALTER TABLE audit_event ADD CONSTRAINT no_receipts_now CHECK (action <> 'consent.receipt') NOT VALID");
    try {
      // Only the refusal: no data, no partial result (the message of a 500 is masked for clients).
      const refusal = { errors: [{ message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } }] };
      const answer = await postGraphQL(kamina.graphqlUrl, "{ me { id wellness { score } debts { id } } }", undefined, bearer(token));
      assert.equal(answer.status, 500);
      assert.deepEqual(answer.body, refusal);
      const route = await rest(kamina.gateway!.origin, "GET", "/v1/diagnosis/latest", { headers: bearer(token) });
      assert.equal(route.status, 500, JSON.stringify(route.body));
      assert.doesNotMatch(JSON.stringify(route.body), /"score"/);
      // Identical requests in flight share one execution, never its receipt: each is refused.
      const together = await Promise.all(Array.from({ length: 5 }, () => postGraphQL(kamina.graphqlUrl, "{ me { wellness { score band } } }", undefined, bearer(token))));
      assert.deepEqual(together.map((one) => [one.status, one.body]), together.map(() => [500, refusal]));
    } finally {
      await sql.query("ALTER TABLE audit_event DROP CONSTRAINT no_receipts_now");
    }
    assert.equal(await receipts(), receiptsBefore, "no receipt was written");
    assert.equal(await billed(), billedBefore, "no refused call was billed");
    const again = await postGraphQL(kamina.graphqlUrl, "{ me { wellness { score } } }", undefined, bearer(token));
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(await receipts(), receiptsBefore + 1);
  });

  test("an answer leaves only once its receipt is written: held, over /graphql and REST, while the receipt waits on the chain", async () => {
    const token = await consentToken(kamina, person);
    const receiptsOf = async (requestId: string) =>
      Number((await sql.query("SELECT count(*)::int AS n FROM audit_event WHERE action = 'consent.receipt' AND (request_id = $1 OR $1 = ANY (request_ids))", [requestId])).rows[0].n);
    const waitingOnLocks = async () => Number((await sql.query("SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted")).rows[0].n);
    const asks = [
      { requestId: `held-graphql-${process.pid}`, send: (id: string) => postGraphQL(kamina.graphqlUrl, "{ me { id wellness { score } } }", undefined, { ...bearer(token), "x-request-id": id }) },
      { requestId: `held-rest-${process.pid}`, send: (id: string) => rest(kamina.gateway!.origin, "GET", "/v1/diagnosis/latest", { headers: { ...bearer(token), "x-request-id": id } }) },
    ];
    for (const ask of asks) {
      const locker = new pg.Client({ connectionString: database.url });
      await locker.connect();
      try {
        await locker.query("BEGIN");
        await locker.query("SELECT 1 FROM audit_chain_head WHERE chain = 'MX' FOR UPDATE");
        let answered = false;
        const answer = ask.send(ask.requestId).finally(() => {
          answered = true;
        });
        for (let i = 0; i < 200 && (await waitingOnLocks()) === 0; i++) await new Promise((resolve) => setTimeout(resolve, 25));
        assert.ok((await waitingOnLocks()) > 0, "the receipt's statement waits on the locked chain head");
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(answered, false, `${ask.requestId}: no answer while its receipt is not written`);
        await locker.query("ROLLBACK");
        const done = await answer;
        assert.equal(done.status, 200, JSON.stringify(done.body));
        assert.match(JSON.stringify(done.body), /"score"/);
        assert.equal(await receiptsOf(ask.requestId), 1, `${ask.requestId}: its receipt was there when the answer came`);
      } finally {
        await locker.query("ROLLBACK").catch(() => undefined);
        await locker.end();
      }
    }
  });

  test("the application cannot change, delete or truncate audit rows, nor move a chain's head", async () => {
    const { prisma } = kamina.gateway!.auth;
    const row = await prisma.auditEvent.findFirstOrThrow({ where: { action: "consent.receipt" } });
    await assert.rejects(prisma.auditEvent.update({ where: { id: row.id }, data: { fields: ["User.id"] } }), /append-only/);
    await assert.rejects(prisma.auditEvent.update({ where: { id: row.id }, data: { userId: null, subjectSalt: null } }), /append-only/, "not even to pseudonymise it outside an erasure");
    await assert.rejects(prisma.auditEvent.deleteMany({ where: { id: row.id } }), /append-only/);
    await assert.rejects(sql.query("TRUNCATE audit_event"), /append-only/);
    await assert.rejects(sql.query("UPDATE audit_chain_head SET seq = 0, last_hash = repeat('0', 64)"), /written only by the audit_event triggers/);
    await assert.rejects(sql.query("DELETE FROM audit_chain_head"), /written only by the audit_event triggers/);
    // Whatever a writer sends for the chain's columns, the trigger sets them.
    const forged = await prisma.auditEvent.create({
      data: { action: "test.forged", country: "MX", scopes: [], fields: [], chain: "CL", seq: 1n, prevHash: "f".repeat(64), hash: "f".repeat(64) },
    });
    assert.equal(forged.chain, "MX");
    assert.notEqual(forged.hash, "f".repeat(64));
    assert.deepEqual(brokenChains(await verify()), []);
  });

  test("a row changed behind the triggers' back is found: the script names it and exits 1", async () => {
    const [victim] = (await sql.query<{ id: string; fields: string[] }>("SELECT id, fields FROM audit_event WHERE chain = 'MX' AND action = 'consent.receipt' ORDER BY seq LIMIT 1 OFFSET 2")).rows;
    await behindTheTriggers("UPDATE audit_event SET fields = array_append(fields, 'User.coachSessions') WHERE id = $1", [victim!.id]);
    try {
      const [broken] = brokenChains(await verify());
      assert.equal(broken?.broken?.kind, "changed");
      assert.equal(broken?.broken?.rowId, victim!.id);
      const script = await auditVerify(database.url);
      assert.equal(script.code, 1, script.output);
      assert.match(script.output, new RegExp(`BROKEN MX: changed at row id ${victim!.id} `));
    } finally {
      await behindTheTriggers("UPDATE audit_event SET fields = $2 WHERE id = $1", [victim!.id, victim!.fields]);
    }
    assert.deepEqual(brokenChains(await verify()), [], "restored, it verifies again");

    // Pointing a row at another person is a change too, though the hash covers only the digest.
    await behindTheTriggers("UPDATE audit_event SET user_id = 'USR_SOMEONE_ELSE' WHERE id = $1", [victim!.id]);
    try {
      const [broken] = brokenChains(await verify());
      assert.equal(broken?.broken?.kind, "changed");
      assert.match(broken!.broken!.reason, /person/);
    } finally {
      await behindTheTriggers("UPDATE audit_event SET user_id = (SELECT c.user_id FROM consent c WHERE c.id = audit_event.consent_id) WHERE id = $1", [victim!.id]);
    }
    assert.deepEqual(brokenChains(await verify()), []);
  });

  test("a receipt of several requests is chained with its list of requests, which no one can change, and the audit API names each request", async () => {
    const consent = (await sql.query<{ id: string }>("SELECT id FROM consent WHERE user_id = $1 AND client_id = $2 LIMIT 1", [person, DEMO_CLIENT])).rows[0]!;
    const receipt = (requestIds: string[] | null, requestId = "req-shared-1") =>
      sql.query<{ id: string; hash: string }>(
        `INSERT INTO audit_event (action, request_id, request_ids, client_id, user_id, consent_id, country, scopes, fields, detail)
         SELECT 'consent.receipt', $1, $2, c.client_id, c.user_id, c.id, c.country, c.scopes, '{User.wellness,WellnessIndex.score}', '{"tokenUse":"consent"}'
         FROM consent c WHERE c.id = $3 RETURNING id, hash`,
        [requestId, requestIds, consent.id],
      );
    const written = (await receipt(["req-shared-1", "req-shared-2", "req-shared-3"])).rows[0]!;
    assert.deepEqual(brokenChains(await verify()), [], "a kamina-audit-v2 row verifies");

    // The list must name the receipt's own request first, and more than one request.
    await assert.rejects(receipt(["req-other", "req-shared-1"]), /audit_event_request_ids_check/);
    await assert.rejects(receipt(["req-shared-1"]), /audit_event_request_ids_check/);

    // The hash covers the list: a request added or dropped behind the triggers' back is found.
    for (const forged of [["req-shared-1", "req-shared-2"], ["req-shared-1", "req-shared-2", "req-shared-3", "req-not-made"]]) {
      await behindTheTriggers("UPDATE audit_event SET request_ids = $2 WHERE id = $1", [written.id, forged]);
      try {
        const [broken] = brokenChains(await verify());
        assert.equal(broken?.broken?.kind, "changed");
        assert.equal(broken?.broken?.rowId, written.id);
      } finally {
        await behindTheTriggers("UPDATE audit_event SET request_ids = $2 WHERE id = $1", [written.id, ["req-shared-1", "req-shared-2", "req-shared-3"]]);
      }
    }
    // An erasure may drop the person from the row, not touch its requests.
    await assert.rejects(
      (async () => {
        await sql.query("BEGIN");
        try {
          await sql.query("SELECT set_config('kamina.audit_erasure', $1, true)", [person]);
          await sql.query("UPDATE audit_event SET user_id = NULL, subject_salt = NULL, request_ids = '{req-shared-1,req-x}' WHERE id = $1", [written.id]);
        } finally {
          await sql.query("ROLLBACK");
        }
      })(),
      /append-only/,
    );
    assert.deepEqual(brokenChains(await verify()), []);

    const listed = await rest(kamina.gateway!.origin, "GET", `/v1/audit?consent_id=${consent.id}&limit=200`, { headers: basic(DEMO_CLIENT, TEST_SANDBOX_SECRET) });
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    const items = listed.body.items as { event_id: string; request_id: string; request_ids: string[] }[];
    const shown = items.find((item) => item.event_id === written.id);
    assert.deepEqual(shown && [shown.request_id, shown.request_ids], ["req-shared-1", ["req-shared-1", "req-shared-2", "req-shared-3"]]);
    for (const item of items.filter((item) => item.event_id !== written.id)) assert.deepEqual(item.request_ids, [item.request_id], "a receipt of one request names it alone");
  });

  test("a row deleted is found, in the middle of a chain and at its end", async () => {
    await sql.query("CREATE TEMP TABLE kept AS SELECT * FROM audit_event WHERE false");
    const middle = (await sql.query<{ id: string; seq: string }>("SELECT id, seq FROM audit_event WHERE chain = 'MX' ORDER BY seq LIMIT 1 OFFSET 3")).rows[0]!;
    const next = (await sql.query<{ id: string }>("SELECT id FROM audit_event WHERE chain = 'MX' AND seq = $1", [BigInt(middle.seq) + 1n])).rows[0]!;
    await behindTheTriggers("WITH gone AS (DELETE FROM audit_event WHERE id = $1 RETURNING *) INSERT INTO kept SELECT * FROM gone", [middle.id]);
    try {
      const [broken] = brokenChains(await verify());
      assert.equal(broken?.broken?.kind, "deleted");
      assert.equal(broken?.broken?.rowId, next.id, "the first row after the gap");
      const script = await auditVerify(database.url);
      assert.equal(script.code, 1);
      assert.match(script.output, new RegExp(`BROKEN MX: deleted at row id ${next.id} `));

      // Closing the gap by renumbering does not hide it: the hash chain still misses a link.
      // (Through negative numbers: the unique (chain, seq) index is checked row by row.)
      await behindTheTriggers("UPDATE audit_event SET seq = -(seq - 1) WHERE chain = 'MX' AND seq > $1", [middle.seq]);
      await behindTheTriggers("UPDATE audit_event SET seq = -seq WHERE chain = 'MX' AND seq < 0");
      const [renumbered] = brokenChains(await verify());
      assert.equal(renumbered?.broken?.kind, "deleted");
      assert.equal(renumbered?.broken?.rowId, next.id);
      await behindTheTriggers("UPDATE audit_event SET seq = -(seq + 1) WHERE chain = 'MX' AND seq >= $1", [middle.seq]);
      await behindTheTriggers("UPDATE audit_event SET seq = -seq WHERE chain = 'MX' AND seq < 0");
    } finally {
      await behindTheTriggers("INSERT INTO audit_event SELECT * FROM kept");
      await sql.query("TRUNCATE kept");
    }
    assert.deepEqual(brokenChains(await verify()), []);

    const newest = (await sql.query<{ id: string }>("SELECT id FROM audit_event WHERE chain = 'MX' ORDER BY seq DESC LIMIT 1")).rows[0]!;
    await behindTheTriggers("WITH gone AS (DELETE FROM audit_event WHERE id = $1 RETURNING *) INSERT INTO kept SELECT * FROM gone", [newest.id]);
    try {
      const [broken] = brokenChains(await verify());
      assert.equal(broken?.broken?.kind, "deleted");
      assert.equal(broken?.broken?.rowId, null);
      assert.match(broken!.broken!.reason, /newest rows/);
    } finally {
      await behindTheTriggers("INSERT INTO audit_event SELECT * FROM kept");
    }
    assert.deepEqual(brokenChains(await verify()), []);
  });

  test("two rows swapped in the chain's order are found as reordered", async () => {
    const [a, b] = (await sql.query<{ id: string; seq: string }>("SELECT id, seq FROM audit_event WHERE chain = 'MX' ORDER BY seq LIMIT 2 OFFSET 1")).rows;
    const swap = async () => {
      await behindTheTriggers("UPDATE audit_event SET seq = -1 WHERE id = $1", [a!.id]);
      await behindTheTriggers("UPDATE audit_event SET seq = $2 WHERE id = $1", [b!.id, a!.seq]);
      await behindTheTriggers("UPDATE audit_event SET seq = $2 WHERE id = $1", [a!.id, b!.seq]);
    };
    await swap();
    try {
      const [broken] = brokenChains(await verify());
      assert.equal(broken?.broken?.kind, "reordered");
      assert.equal(broken?.broken?.rowId, b!.id);
      assert.match((await auditVerify(database.url)).output, new RegExp(`BROKEN MX: reordered at row id ${b!.id} `));
    } finally {
      await behindTheTriggers("UPDATE audit_event SET seq = -1 WHERE id = $1", [b!.id]);
      await behindTheTriggers("UPDATE audit_event SET seq = $2 WHERE id = $1", [a!.id, a!.seq]);
      await behindTheTriggers("UPDATE audit_event SET seq = $2 WHERE id = $1", [b!.id, b!.seq]);
    }
    assert.deepEqual(brokenChains(await verify()), []);
  });

  test("concurrent writers of several countries chain every row, in one order, without deadlock", async () => {
    const countries = ["MX", "PE", "EC", "CO", "CL"];
    const writers = Array.from({ length: 12 }, () => new pg.Client({ connectionString: database.url }));
    await Promise.all(writers.map((writer) => writer.connect()));
    const before = Number((await sql.query("SELECT count(*) FROM audit_event")).rows[0].count);
    const started = performance.now();
    try {
      // Each statement writes rows of every country, each writer in its own order: the heads are
      // still locked in one order, so no two statements wait on each other in a circle.
      await Promise.all(
        writers.map(async (writer, w) => {
          for (let round = 0; round < 15; round++) {
            const order = round % 2 === w % 2 ? countries : [...countries].reverse();
            await writer.query(
              `INSERT INTO audit_event (action, request_id, client_id, country, scopes, fields)
               SELECT 'test.concurrent', $1, $2, c::"Country", '{}', '{}' FROM unnest($3::text[]) AS c`,
              [`w${w}-r${round}`, DEMO_CLIENT, order],
            );
          }
        }),
      );
    } finally {
      await Promise.all(writers.map((writer) => writer.end()));
    }
    const elapsed = performance.now() - started;
    const written = Number((await sql.query("SELECT count(*) FROM audit_event")).rows[0].count) - before;
    assert.equal(written, 12 * 15 * 5);
    console.log(`12 writers, 180 statements of 5 countries each: ${Math.round(elapsed)} ms (${Math.round(written / (elapsed / 1000))} rows/s)`);
    assert.deepEqual(brokenChains(await verify()), []);
  });

  test("a statement's rows of several chains move each head once, to its last row, and the next statement continues from there", async () => {
    const insert = (client: pg.Client, request: string, countries: readonly string[]) =>
      client.query(
        `INSERT INTO audit_event (action, request_id, client_id, country, scopes, fields)
         SELECT 'test.statement', $1, $2, c::"Country", '{}', '{}' FROM unnest($3::text[]) AS c`,
        [request, DEMO_CLIENT, countries],
      );
    const heads = async () =>
      (await sql.query<{ chain: string; seq: string; last_hash: string }>("SELECT chain, seq::text, last_hash FROM audit_chain_head ORDER BY chain")).rows;
    const newest = async (chain: string) =>
      (await sql.query<{ seq: string; hash: string }>("SELECT e.seq::text AS seq, e.hash FROM audit_event e WHERE e.chain = $1 ORDER BY e.seq DESC LIMIT 1", [chain])).rows[0];

    await sql.query("BEGIN");
    try {
      await insert(sql, "statement-1", ["PE", "MX", "PE", "CL", "MX", "PE"]);
      await insert(sql, "statement-2", ["MX", "PE"]);
      // The running heads live for one statement only.
      const { rows } = await sql.query<{ mx: string | null }>("SELECT current_setting('kamina.audit_head_MX', true) AS mx");
      assert.equal(rows[0]?.mx ?? "", "");
      await sql.query("COMMIT");
    } catch (error) {
      await sql.query("ROLLBACK");
      throw error;
    }
    for (const head of await heads()) {
      const last = await newest(head.chain);
      if (!last) continue;
      assert.deepEqual({ seq: head.seq, hash: head.last_hash }, { seq: last.seq, hash: last.hash }, `the ${head.chain} head is its newest row`);
    }
    const written = await sql.query<{ chain: string; seq: string }>("SELECT chain, seq::text FROM audit_event WHERE request_id LIKE 'statement-%' ORDER BY chain, seq");
    assert.deepEqual(
      written.rows.map((row) => row.chain),
      ["CL", "MX", "MX", "MX", "PE", "PE", "PE", "PE"],
    );
    assert.deepEqual(brokenChains(await verify()), []);
  });

  test("a purge checkpoint among other rows of one statement moves its chain's purged-through mark, and only its chain's", async () => {
    const marks = async () =>
      Object.fromEntries((await sql.query<{ chain: string; through: string }>("SELECT chain, purged_through::text AS through FROM audit_chain_head")).rows.map((row) => [row.chain, row.through]));
    const before = await marks();
    // The PE chain's second row (after any earlier purge), to purge through.
    const { rows } = await sql.query<{ seq: string; hash: string }>(
      "SELECT e.seq::text AS seq, e.hash FROM audit_event e JOIN audit_chain_head h ON h.chain = e.chain WHERE e.chain = 'PE' AND e.seq > h.purged_through ORDER BY e.seq OFFSET 1 LIMIT 1",
    );
    const target = rows[0]!;
    await sql.query(
      `INSERT INTO audit_event (action, client_id, country, scopes, fields, detail)
       SELECT a.action, $1, a.country::"Country", '{}', '{}', a.detail::jsonb
       FROM (VALUES (1, 'test.before-purge', 'PE', NULL), (2, 'audit.purge', 'PE', $2), (3, 'test.after-purge', 'MX', NULL), (4, 'test.after-purge', 'PE', NULL)) AS a(n, action, country, detail)
       ORDER BY a.n`,
      [DEMO_CLIENT, JSON.stringify({ purged_through_seq: Number(target.seq), last_purged_hash: target.hash, purged_rows: 0 })],
    );
    const after = await marks();
    assert.equal(after.PE, target.seq, "PE is purged through the row its checkpoint names");
    assert.deepEqual({ ...after, PE: before.PE }, before, "no other chain's mark moved");
    // As audit_purge goes on: the rows the checkpoint covers may now be deleted, and no other.
    await assert.rejects(sql.query("DELETE FROM audit_event WHERE chain = 'PE' AND seq = $1", [Number(target.seq) + 1]), /append-only/);
    await sql.query("DELETE FROM audit_event WHERE chain = 'PE' AND seq <= $1", [target.seq]);
    assert.deepEqual(brokenChains(await verify()), []);
  });

  test("a running head forged in the session's settings fails the statement and leaves the chain whole", async () => {
    const before = (await sql.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_event")).rows[0]!.n;
    const forged = `999999|0|${"a".repeat(64)}`;
    const attempts = [
      // Set before the statement, for the session.
      async () => {
        await sql.query(`SET kamina.audit_head_MX = '${forged}'`);
        try {
          await sql.query("INSERT INTO audit_event (action, client_id, country, scopes, fields) VALUES ('test.forged', $1, 'MX', '{}', '{}')", [DEMO_CLIENT]);
        } finally {
          await sql.query("RESET kamina.audit_head_MX");
        }
      },
      // Set in the middle of the statement, between its second and its third row.
      () =>
        sql.query(
          `INSERT INTO audit_event (action, client_id, country, scopes, fields)
           SELECT 'test.forged', $1, 'MX', '{}', '{}' FROM generate_series(1, 3) AS g
           WHERE g < 3 OR set_config('kamina.audit_head_MX', $2, true) IS NOT NULL`,
          [DEMO_CLIENT, forged],
        ),
    ];
    for (const attempt of attempts) {
      await assert.rejects(attempt(), (error: { code?: string; message?: string }) => {
        assert.equal(error.code, "23514", error.message);
        assert.match(error.message ?? "", /continue their chain from its head/);
        return true;
      });
    }
    assert.equal((await sql.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_event")).rows[0]!.n, before, "nothing was written");
    assert.deepEqual(brokenChains(await verify()), []);
    // The next honest statement chains as usual.
    await sql.query("INSERT INTO audit_event (action, client_id, country, scopes, fields) VALUES ('test.after-forgery', $1, 'MX', '{}', '{}')", [DEMO_CLIENT]);
    assert.deepEqual(brokenChains(await verify()), []);
  });

  test("chaining costs a read little: receipts of concurrent reads, chained and not", async () => {
    const token = await consentToken(kamina, person);
    const reads = async () => {
      const started = performance.now();
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (let i = 0; i < 25; i++) {
            const answer = await postGraphQL(kamina.graphqlUrl, "{ me { id wellness { score } } }", undefined, bearer(token));
            assert.equal(answer.status, 200);
          }
        }),
      );
      return 200 / ((performance.now() - started) / 1000);
    };
    await reads(); // warm
    const chained = await reads();
    // Without the trigger every row would be (global, 0): the unique index goes for the while.
    await sql.query("ALTER TABLE audit_event DISABLE TRIGGER audit_event_chain, DISABLE TRIGGER audit_event_chain_heads; DROP INDEX audit_event_chain_seq_key");
    let unchained: number;
    try {
      unchained = await reads();
    } finally {
      await sql.query("ALTER TABLE audit_event ENABLE TRIGGER audit_event_chain, ENABLE TRIGGER audit_event_chain_heads");
    }
    console.log(`reads with a receipt each, 8 concurrent: ${Math.round(chained)}/s chained, ${Math.round(unchained)}/s with the chain trigger off`);
    // Rows written while the trigger was off are unchained; the verifier says so.
    assert.equal(brokenChains(await verify()).length, 1);
    await behindTheTriggers("DELETE FROM audit_event WHERE hash = ''");
    await sql.query('CREATE UNIQUE INDEX audit_event_chain_seq_key ON audit_event (chain, seq)');
    assert.deepEqual(brokenChains(await verify()), []);
    assert.ok(chained > unchained / 3, "chaining does not serialise reads");
  });

  test("a client queries its own audit log by consent and time, page by page; no other client sees it", async () => {
    const sandbox = basic(DEMO_CLIENT, TEST_SANDBOX_SECRET);
    const call = (path: string, headers: Record<string, string> = sandbox) => rest(kamina.gateway!.origin, "GET", path, { headers });
    const consentId = (await sql.query<{ id: string }>("SELECT id FROM consent WHERE user_id = 'USR_42891' ORDER BY created_at LIMIT 1")).rows[0]!.id;

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await call(`/v1/audit?consent_id=${consentId}&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      assert.equal(page.status, 200, JSON.stringify(page.body));
      for (const item of page.body.items) {
        assert.equal(item.consent_id, consentId);
        assert.equal(item.client_id, DEMO_CLIENT);
        assert.match(item.hash, /^[0-9a-f]{64}$/);
        seen.push(item.event_id);
      }
      cursor = page.body.page.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    assert.equal(seen.length, 3, "the three reads under that consent");
    assert.ok(BigInt(seen[0]!) > BigInt(seen[2]!), "newest first");

    const all = await call("/v1/audit?limit=200");
    assert.ok(all.body.items.length > 3);
    assert.ok(all.body.items.every((item: { client_id: string }) => item.client_id === DEMO_CLIENT));
    const future = await call(`/v1/audit?from=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`);
    assert.deepEqual(future.body.items, []);
    const past = await call(`/v1/audit?to=2020-01-01T00:00:00Z`);
    assert.deepEqual(past.body.items, []);

    assert.equal((await call("/v1/audit?from=yesterday")).status, 400);
    assert.equal((await call("/v1/audit?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z")).status, 400);
    assert.equal((await call("/v1/audit?cursor=bm9wZQ")).status, 400);
    assert.equal((await call("/v1/audit")).status, 200);
    assert.equal((await call("/v1/audit", {})).status, 401);
    assert.equal((await call("/v1/audit?consent_id=cns_000000000000000000000000")).status, 404);
  });
});
