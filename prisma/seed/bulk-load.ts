// Session settings for loading millions of rows inside the seeding transaction, in the
// spirit of pg_restore: secondary indexes are dropped and rebuilt once at the end (a sort
// is far cheaper than millions of random B-tree insertions), per-row foreign-key triggers
// are skipped when the role is allowed to (the generator only emits consistent rows), and
// the index builds get enough memory to sort in one pass. Everything happens inside the one
// transaction: on failure PostgreSQL rolls the DDL back with the data.
import type { SqlSession } from "./session.ts";

interface IndexDefinition {
  name: string;
  definition: string;
}

/** Prepares the session; call `finish` after the last row and before commit. */
export async function beginBulkLoad(session: SqlSession, tables: readonly string[]): Promise<{ finish(): Promise<void> }> {
  await session.execute(`SELECT set_config('maintenance_work_mem', '256MB', true)`);
  // `replica` disables the foreign-key triggers for this transaction only; it needs a
  // superuser, so any other role keeps its checks (slower, equally correct).
  await session.execute(
    `SELECT set_config('session_replication_role', 'replica', true) FROM pg_roles WHERE rolname = current_user AND rolsuper`,
  );
  // Indexes that back no constraint (primary keys stay) on tables this role may alter.
  const indexes = await session.query<IndexDefinition>(
    `SELECT ic.relname AS "name", pg_get_indexdef(x.indexrelid) AS "definition"
       FROM pg_index x
       JOIN pg_class ic ON ic.oid = x.indexrelid
       JOIN pg_class tc ON tc.oid = x.indrelid
       JOIN pg_namespace ns ON ns.oid = tc.relnamespace
      WHERE ns.nspname = current_schema()
        AND tc.relname = ANY(string_to_array($1, ','))
        AND pg_has_role(tc.relowner, 'USAGE')
        AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)
      ORDER BY ic.relname`,
    [tables.join(",")],
  );
  for (const index of indexes) await session.execute(`DROP INDEX "${index.name.replaceAll('"', '""')}"`);
  return {
    async finish() {
      for (const index of indexes) await session.execute(index.definition);
      await session.execute(`SELECT set_config('session_replication_role', 'origin', true) FROM pg_roles WHERE rolname = current_user AND rolsuper`);
    },
  };
}
