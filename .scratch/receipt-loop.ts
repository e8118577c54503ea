// Scratch: run the receipt INSERT in a loop for perf (prints the backend pid first).
import pg from "pg";
import { seedDatabase } from "../prisma/seed/index.ts";
import { createTestDatabase } from "../testkit/postgres.ts";
const database = await createTestDatabase();
try {
  await seedDatabase({ kind: "postgres", url: database.url, poolSize: 2 }, { users: 200, seed: 7, sandboxClientSecret: "x".repeat(32) });
  const sql = new pg.Client({ connectionString: database.url });
  await sql.connect();
  const consents = (await sql.query<{ id: string }>("SELECT id FROM consent WHERE status = 'AUTHORISED' AND client_id = 'of_lab_demo' LIMIT 20")).rows;
  const fields = ["User.id", "User.wellness", "Wellness.score", "Wellness.band", "User.debts", "Debt.id", "Debt.balance", "User.expenses", "Expense.amount", "User.alerts"];
  const pid = (await sql.query("select pg_backend_pid() as p")).rows[0].p;
  const ready = Date.now();
  const seconds = Number(process.env.SECONDS_RUN ?? 20);
  console.log("PID", pid); 
  let n = 0;
  while (Date.now() - ready < seconds * 1000) {
    n++;
    await sql.query({ name: "r", text: `INSERT INTO audit_event (action, request_id, client_id, user_id, consent_id, country, scopes, fields, detail)
       SELECT 'consent.receipt', $1 || '-' || r.i, c.client_id, c.user_id, c.id, c.country, c.scopes, $2::text[], $3::jsonb
       FROM unnest($4::text[]) WITH ORDINALITY AS r(id, i) JOIN consent c ON c.id = r.id`, values: [`req${n}`, fields, JSON.stringify({ tokenUse: "client", operationName: "Page" }), consents.map((c) => c.id)] });
  }
  console.log("statements", n, "ms each", (seconds * 1000 / n).toFixed(3));
  await sql.end();
} finally { await database.drop(); }
