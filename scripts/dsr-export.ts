// `npm run dsr:export -- <user_id> [--reference TICKET] [--out FILE]`: an operator answers a
// person's access request: every row stored about them, as one JSON document (to FILE, else
// stdout), with a `data_subject.export` receipt in the audit log (gateway/privacy/data-subject.ts).
// Works on DATABASE_URL, else the embedded PGlite under DATA_DIR (with the server stopped).
// Exit codes: 0 done, 1 failed (no such person), 2 bad arguments.
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { AuthError } from "../gateway/auth/auth-error.ts";
import { DataSubjectRequests } from "../gateway/privacy/data-subject.ts";
import { createPrismaClient } from "../platform/database/database.ts";
import { openDatabaseFromEnvironment } from "../platform/database/database-from-environment.ts";
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
  const { target, where, close } = await openDatabaseFromEnvironment(1);
  const prisma = createPrismaClient(target);
  try {
    const document = await new DataSubjectRequests(prisma, createLogger("silent")).export(userId, { kind: "operator", reference: parsed.values.reference ?? null });
    const json = `${JSON.stringify(document, null, 2)}\n`;
    if (parsed.values.out) {
      await writeFile(parsed.values.out, json, { mode: 0o600 });
      console.error(`dsr:export: ${userId} written to ${parsed.values.out} (${where}); receipt ${document.receipt_id}`);
    } else {
      process.stdout.write(json);
    }
    return 0;
  } catch (error) {
    if (error instanceof AuthError) {
      console.error(`dsr:export: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await prisma.$disconnect();
    await close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`dsr:export: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
