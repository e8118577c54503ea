// `npm run audit:verify [-- <chain> ...]`: walks the audit log's hash chains (one per country,
// and `global`) and recomputes every row's hash (platform/audit/audit-chain.ts). Prints OK with
// the rows checked and each chain's head, or each broken chain's first broken row and why
// (changed, deleted or reordered). Works on DATABASE_URL, else the embedded PGlite under
// DATA_DIR (with the server stopped). Exit codes: 0 every chain verifies, 1 a chain is broken
// (or the check failed), 2 bad arguments.
import { verifyAuditChains } from "../platform/audit/audit-chain.ts";
import { runCommand, withDatabase } from "./operator-command.ts";

const USAGE = `usage: npm run audit:verify [-- <chain> ...]   (chains: CL CO EC MX PE global; default all)
environment: DATABASE_URL (else embedded PGlite under DATA_DIR, default .data)`;

async function main(argv: readonly string[]): Promise<number> {
  if (argv.some((arg) => arg.startsWith("-"))) {
    console.error(USAGE);
    return 2;
  }
  return withDatabase(async (prisma, where) => {
    const reports = await verifyAuditChains(prisma, argv.length > 0 ? argv : undefined);
    const unknown = argv.filter((chain) => !reports.some((report) => report.chain === chain));
    if (unknown.length > 0) {
      console.error(`audit:verify: no chain ${unknown.join(", ")} (${where})`);
      return 2;
    }
    let broken = 0;
    for (const report of reports) {
      const purged = report.purgedThrough === "0" ? "" : `, rows up to seq ${report.purgedThrough} purged by retention`;
      if (report.broken) {
        broken++;
        const { kind, rowId, seq, reason } = report.broken;
        const at = rowId === null ? "after the last row" : `row id ${rowId} (seq ${seq})`;
        console.log(`BROKEN ${report.chain}: ${kind} at ${at}: ${reason}`);
      } else {
        console.log(`ok     ${report.chain}: ${report.rows} rows${purged}; head seq ${report.headSeq} hash ${report.headHash}`);
      }
    }
    const rows = reports.reduce((sum, report) => sum + report.rows, 0);
    if (broken > 0) {
      console.log(`audit:verify: ${broken} of ${reports.length} chains broken (${where})`);
      return 1;
    }
    console.log(`OK: ${reports.length} chains, ${rows} rows verified (${where})`);
    return 0;
  });
}

runCommand("audit:verify", main);
