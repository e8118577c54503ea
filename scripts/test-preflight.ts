// `npm test`'s first step: the tests need a PostgreSQL server to create their databases on. Without
// one, every test file would fail in its `before` hook and the runner would print a wall of
// cancelled tests; this says so in one line instead, and stops.
import pg from "pg";
import { redactUrl } from "../platform/database/database-from-environment.ts";
import { adminUrl } from "../testkit/postgres.ts";

const CONNECT_TIMEOUT_MS = 3_000;

async function main(): Promise<number> {
  const url = adminUrl();
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  try {
    await client.connect();
    const [role] = (await client.query<{ createdb: boolean }>("SELECT rolcreatedb OR rolsuper AS createdb FROM pg_roles WHERE rolname = current_user")).rows;
    if (!role?.createdb) {
      console.error(`PostgreSQL at ${redactUrl(url)} will not let this role create databases, which every test file does; see README (Tests), or set TEST_DATABASE_ADMIN_URL`);
      return 1;
    }
    return 0;
  } catch (error) {
    const reason = error instanceof Error ? (("code" in error && typeof error.code === "string" ? error.code : "") || error.message) : String(error);
    console.error(`PostgreSQL not reachable at ${redactUrl(url)} (${reason}); see README (Tests): start it, or set TEST_DATABASE_ADMIN_URL`);
    return 1;
  } finally {
    await client.end().catch(() => {});
  }
}

process.exitCode = await main();
