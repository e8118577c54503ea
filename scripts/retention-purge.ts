// `npm run retention:purge`: runs the retention purge once, now (the realtime workers run it every
// RETENTION_PURGE_INTERVAL_MS): deletes what each data class keeps no longer than its window, per
// country (RETENTION_*_DAYS, docs/compliance/retention.md), with what derives from it, and
// records what it purged in the audit log. Idempotent. Works on DATABASE_URL, else the embedded
// PGlite under DATA_DIR (with the server stopped). Exit codes: 0 done, 1 failed, 2 bad arguments.
import { loadConfig } from "../platform/config/config.ts";
import { runCommand, withDatabase } from "./operator-command.ts";
import { createLogger } from "../platform/logger.ts";
import { RetentionPurge } from "../realtime/retention/retention-purge.ts";

async function main(argv: readonly string[]): Promise<number> {
  if (argv.length > 0) {
    console.error("usage: npm run retention:purge   (windows from RETENTION_<CLASS>_DAYS[_<COUNTRY>]; see docs/compliance/retention.md)");
    return 2;
  }
  const config = loadConfig();
  return withDatabase(async (prisma, where) => {
    const report = await new RetentionPurge(prisma, config.retention, createLogger(config.logLevel).child({ job: "retention" })).run();
    if (report.total === 0) {
      console.log(`retention:purge: nothing older than its window (${where}); nothing purged`);
    } else {
      for (const [dataClass, byCountry] of Object.entries(report.purged)) {
        console.log(`${dataClass.padEnd(18)} ${Object.entries(byCountry).map(([country, rows]) => `${country} ${rows}`).join(", ")}`);
      }
      console.log(`derived            outbox events ${report.derived.outbox_events}, webhook deliveries ${report.derived.webhook_deliveries}`);
      console.log(`retention:purge: ${report.total} rows purged in ${report.durationMs} ms (${where}); recorded as audit event ${report.eventId}`);
    }
    return 0;
  });
}

runCommand("retention:purge", main);
