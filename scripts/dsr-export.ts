// `npm run dsr:export -- <user_id> [--reference TICKET] [--out FILE]`: an operator answers a
// person's access request: every row stored about them, as one JSON document (to FILE, else
// stdout), with a `data_subject.export` receipt in the audit log (gateway/privacy/data-subject.ts).
// Works on DATABASE_URL, else the embedded PGlite under DATA_DIR (with the server stopped).
// Exit codes: 0 done, 1 failed (no such person), 2 bad arguments.
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { DataSubjectRequests } from "../gateway/privacy/data-subject.ts";
import { loadConfig } from "../platform/config/config.ts";
import { partnerIdsOver } from "../platform/partner-ids/partner-ids.ts";
import { runCommand, withDatabase } from "./operator-command.ts";
import { createLogger } from "../platform/logger.ts";

const USAGE = "usage: npm run dsr:export -- <user_id> [--reference TICKET] [--out FILE]";

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { reference: { type: "string" }, out: { type: "string" } } });
  } catch {
    console.error(USAGE);
    return 2;
  }
  const [userId, ...rest] = parsed.positionals;
  if (!userId || rest.length > 0) {
    console.error(USAGE);
    return 2;
  }
  return withDatabase(async (prisma, where) => {
    const document = await new DataSubjectRequests(prisma, createLogger("silent"), partnerIdsOver(prisma, loadConfig().tokens)).export(userId, { kind: "operator", reference: parsed.values.reference ?? null });
    const json = `${JSON.stringify(document, null, 2)}\n`;
    if (parsed.values.out) {
      await writeFile(parsed.values.out, json, { mode: 0o600 });
      console.error(`dsr:export: ${userId} written to ${parsed.values.out} (${where}); receipt ${document.receipt_id}`);
    } else {
      process.stdout.write(json);
    }
    return 0;
  });
}

runCommand("dsr:export", main);
