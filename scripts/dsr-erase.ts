// `npm run dsr:erase -- <user_id> --yes [--reference TICKET]`: an operator answers a person's
// erasure request: their consents revoked, their rows and what derives from them deleted, the
// audit log's rows about them kept without their id, and a `data_subject.erase` receipt
// (gateway/privacy/data-subject.ts). Cannot be undone, hence --yes. Prints the report as JSON,
// with the salt that lets the person show later that the receipt is theirs: hand it to them.
// Works on DATABASE_URL, else the embedded PGlite under DATA_DIR (with the server stopped).
// Exit codes: 0 erased, 1 failed (no such person), 2 bad arguments.
import { parseArgs } from "node:util";
import { DataSubjectRequests } from "../gateway/privacy/data-subject.ts";
import { loadConfig } from "../platform/config/config.ts";
import { partnerIdsOver } from "../platform/partner-ids/partner-ids.ts";
import { runCommand, withDatabase } from "./operator-command.ts";
import { createLogger } from "../platform/logger.ts";

const USAGE = "usage: npm run dsr:erase -- <user_id> --yes [--reference TICKET]   (cannot be undone)";

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { yes: { type: "boolean", default: false }, reference: { type: "string" } } });
  } catch {
    console.error(USAGE);
    return 2;
  }
  const [userId, ...rest] = parsed.positionals;
  if (!userId || rest.length > 0 || !parsed.values.yes) {
    console.error(USAGE);
    return 2;
  }
  return withDatabase(async (prisma, where) => {
    const report = await new DataSubjectRequests(prisma, createLogger("silent"), partnerIdsOver(prisma, loadConfig().tokens)).erase(userId, { kind: "operator", reference: parsed.values.reference ?? null });
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    console.error(`dsr:erase: ${userId} erased (${where}); receipt ${report.receipt_id}`);
    return 0;
  });
}

runCommand("dsr:erase", main);
