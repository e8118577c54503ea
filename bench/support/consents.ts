// Benchmarks compare like with like: every seeded consent of the demo client is widened to
// every read scope, so a partner token's page returns every field of every person and an
// answer with enforcement on is byte-for-byte the answer with it off.
import pg from "pg";
import { USER_READ_SCOPES } from "../../platform/auth/scopes.ts";

/** Every per-person read scope but the raw coach transcripts (which the benchmark query does not ask for). */
export const READ_SCOPES = USER_READ_SCOPES.filter((scope) => scope !== "coach.transcripts.read");

/** Grants `READ_SCOPES` on every authorised consent of `clientId`; returns how many consents it widened. */
export async function grantEveryReadScope(databaseUrl: string, clientId: string): Promise<number> {
  const sql = new pg.Client({ connectionString: databaseUrl });
  await sql.connect();
  try {
    const result = await sql.query("UPDATE consent SET scopes = $1 WHERE client_id = $2 AND status = 'AUTHORISED'", [READ_SCOPES, clientId]);
    return result.rowCount ?? 0;
  } finally {
    await sql.end();
  }
}
