// `npm run db:migrate`: applies pending migrations from prisma/migrations, as
// `prisma migrate deploy` would, to DATABASE_URL when set, else to the embedded PGlite
// under ${DATA_DIR:-.data}/pglite. Runs offline (the wasm schema engine, no downloads).
// On failure: one line on stderr, exit code 1; DEBUG=schema-engine adds the engine's log.
import { openDatabaseFromEnvironment } from "../platform/database/database-from-environment.ts";
import { applyMigrations, SchemaEngineError } from "../platform/database/schema-engine.ts";

/** First line of an error's message: the CLI prints one line, never a stack. */
function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n").map((line) => line.trim()).find((line) => line !== "") ?? "unknown error";
}

async function main(): Promise<void> {
  const { target, where, close } = await openDatabaseFromEnvironment(2);
  try {
    const started = performance.now();
    const { applied } = await applyMigrations(target);
    const ms = Math.round(performance.now() - started);
    if (applied.length === 0) {
      console.log(`No pending migrations: ${where} is up to date.`);
    } else {
      console.log(`Applied ${applied.length} migration${applied.length === 1 ? "" : "s"} to ${where} in ${ms} ms:`);
      for (const name of applied) console.log(`  ${name}`);
    }
  } finally {
    await close();
  }
}

main().catch((error: unknown) => {
  console.error(`db:migrate failed: ${oneLine(error)}`);
  // The engine's own log of the failing call, on request.
  if (error instanceof SchemaEngineError && /schema-engine|\*/.test(process.env.DEBUG ?? "")) {
    for (const line of error.logs) process.stderr.write(line.endsWith("\n") ? line : `${line}\n`);
  }
  process.exitCode = 1;
});
