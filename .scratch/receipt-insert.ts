// Scratch: time the receipt INSERT (20 rows a statement) with the current triggers and variants.
import pg from "pg";
import { seedDatabase } from "../prisma/seed/index.ts";
import { createTestDatabase } from "../testkit/postgres.ts";

const database = await createTestDatabase();
try {
  await seedDatabase({ kind: "postgres", url: database.url, poolSize: 2 }, { users: 200, seed: 7, sandboxClientSecret: "x".repeat(32) });
  const sql = new pg.Client({ connectionString: database.url });
  await sql.connect();
  sql.on("error", () => undefined);
  const consents = (await sql.query<{ id: string; client_id: string }>("SELECT id, client_id FROM consent WHERE status = 'AUTHORISED' AND client_id = 'of_lab_demo' LIMIT 20")).rows;
  const ROWS = Number(process.env.ROWS ?? 20);
  const ids = Array.from({ length: ROWS }, (_, i) => consents[i % consents.length]!.id);
  console.log("consents", consents.length, (await sql.query("select avg(cardinality(scopes)) from consent")).rows[0]);
  const fields = ["User.id", "User.wellness", "Wellness.score", "Wellness.band", "User.debts", "Debt.id", "Debt.balance", "User.expenses", "Expense.amount", "User.alerts"];
  let n = 0;
  const insert = async () => {
    n++;
    await sql.query(
      `INSERT INTO audit_event (action, request_id, client_id, user_id, consent_id, country, scopes, fields, detail)
       SELECT 'consent.receipt', $1 || '-' || r.i, c.client_id, c.user_id, c.id, c.country, c.scopes, $2::text[], $3::jsonb
       FROM unnest($4::text[]) WITH ORDINALITY AS r(id, i) JOIN consent c ON c.id = r.id`,
      [`req${n}`, fields, JSON.stringify({ tokenUse: "client", operationName: "Page" }), ids],
    );
  };
  const original = (await sql.query<{ def: string }>("SELECT pg_get_functiondef('audit_event_chain'::regproc) AS def")).rows[0]!.def;
  const edits: [string, string][] = JSON.parse(process.env.EDITS ?? "[]");
  const variants: Record<string, string> = {};
  for (const [label, edit] of edits) {
    const [from, to] = edit.split(" => ") as [string, string];
    if (!original.includes(from)) throw new Error(`${label}: ${from} not in the trigger`);
    variants[label] = original.replace(from, to);
  }
  await sql.query("CREATE SEQUENCE scratch_seq START 1000000");
  const FLOOR = `ALTER TABLE audit_event DISABLE TRIGGER audit_event_chain_heads; CREATE OR REPLACE FUNCTION audit_event_chain() RETURNS trigger LANGUAGE plpgsql AS $f$BEGIN NEW.chain := coalesce(NEW.country::text, 'global'); NEW.seq := nextval('scratch_seq'); NEW.prev_hash := ''; NEW.hash := ''; RETURN NEW; END$f$`;
  const time = async (label: string, statements: number) => {
    for (let i = 0; i < 20; i++) await insert();
    const cpu0 = (await sql.query("select 1")).rows;
    const start = process.hrtime.bigint();
    for (let i = 0; i < statements; i++) await insert();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    void cpu0;
    return { label, msPerStatement: ms / statements };
  };
  const results: Record<string, number[]> = {};
  for (let round = 0; round < Number(process.env.ROUNDS ?? 3); round++) {
    for (const [label, setup] of [["current", original], ["no-triggers", "DISABLE"], ...Object.entries(variants)] as [string, string | undefined][]) {
      if (setup === "DISABLE") await sql.query(FLOOR);
      else if (setup) await sql.query(setup);
      const r = await time(label, Number(process.env.STATEMENTS ?? 200));
      if (setup === "DISABLE") await sql.query("ALTER TABLE audit_event ENABLE TRIGGER audit_event_chain_heads");
      (results[label] ??= []).push(r.msPerStatement);
      await sql.query(original);
    }
    await sql.query(original);
  }
  for (const [label, values] of Object.entries(results)) console.log(label.padEnd(16), values.map((v) => v.toFixed(2)).join("  "), `ms/statement of ${ROWS} rows`);
  const verify = await sql.query("select count(*) from audit_event");
  console.log("rows", verify.rows[0]);
  await sql.end();
} catch (error) { console.error("FAILED", error); } finally {
  await database.drop();
}
