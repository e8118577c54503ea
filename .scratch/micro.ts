import pg from "pg";
import { createTestDatabase } from "../testkit/postgres.ts";
const database = await createTestDatabase();
const sql = new pg.Client({ connectionString: database.url });
await sql.connect();
try {
  const t = async (label: string, q: string) => {
    await sql.query(q);
    const s = process.hrtime.bigint(); await sql.query(q); const ms = Number(process.hrtime.bigint() - s) / 1e6;
    console.log(label.padEnd(22), (ms * 1000 / 20000).toFixed(2), "us each");
  };
  const N = "generate_series(1,20000) g";
  const scopes = "ARRAY['wellness.read','debts.read','expenses.read','coach.read','alerts.read','income.read','profile.read']";
  const fields = "ARRAY['User.id','User.wellness','Wellness.score','Wellness.band','User.debts','Debt.id','Debt.balance','User.expenses','Expense.amount','User.alerts']";
  for (const [l, q] of Object.entries(process.env.Q ? JSON.parse(process.env.Q) : {})) await t(l, (q as string).replaceAll("$N", N).replaceAll("$S", scopes).replaceAll("$F", fields));
  await t("baseline", `SELECT count(g) FROM ${N}`);
  await t("audit_list(scopes)", `SELECT count(audit_list(${"$S".replace("$S", scopes)} || g::text)) FROM ${N}`);
  await t("audit_list(fields)", `SELECT count(audit_list(${fields} || g::text)) FROM ${N}`);
  await t("audit_field", `SELECT count(audit_field(g::text)) FROM ${N}`);
  await t("sha256 300B", `SELECT count(encode(sha256(convert_to(repeat('x',300) || g::text, 'UTF8')), 'hex')) FROM ${N}`);
  await t("uuid+sha", `SELECT count(encode(sha256(convert_to(replace(gen_random_uuid()::text,'-','') || 'USR_1', 'UTF8')), 'hex')) FROM ${N}`);
  await t("set_config", `SELECT count(set_config('kamina.x', g::text || '|5|abc', true)) FROM ${N}`);
  await t("current_setting", `SELECT count(current_setting('kamina.audit_head_' || 'MX', true)) FROM ${N}`);
} finally { await sql.end(); await database.drop(); }
