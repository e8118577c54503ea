// `npm run import -- --format monefy|ynab|goodbudget|mint --user <user_id> FILE`: brings a
// person's expense history in from another app's CSV export (runtime/expense-imports.ts, as
// POST /v1/imports does), then runs their diagnosis and prevention rules. All or nothing: a bad
// row and nothing is written, every bad row printed with its line. Importing a file again adds
// nothing. Works on DATABASE_URL, else the embedded PGlite under DATA_DIR (with the server stopped).
// Exit codes: 0 imported (or nothing new), 1 refused (bad rows, no such person), 2 bad arguments.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { IMPORT_FORMATS, type ImportFormat } from "../domain/imports/format.ts";
import { ImportRefused } from "../domain/imports/outcome.ts";
import { importExpenses } from "../runtime/expense-imports.ts";
import { runCommand, withDatabase } from "./operator-command.ts";

const USAGE = `usage: npm run import -- --format ${IMPORT_FORMATS.join("|")} --user <user_id> FILE`;

const isFormat = (value: string | undefined): value is ImportFormat => (IMPORT_FORMATS as readonly string[]).includes(value ?? "");

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { format: { type: "string" }, user: { type: "string" } } });
  } catch {
    console.error(USAGE);
    return 2;
  }
  const { format, user } = parsed.values;
  const [file, ...rest] = parsed.positionals;
  if (!isFormat(format) || !user || !file || rest.length > 0) {
    console.error(USAGE);
    return 2;
  }
  const csv = await readFile(file, "utf8");
  return withDatabase(async (prisma, where) => {
    try {
      const outcome = await importExpenses(prisma, { format, userId: user, csv });
      const categories = Object.entries(outcome.byCategory)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([category, count]) => `${category} ${count}`)
        .join(", ");
      console.log(`import: ${file} (${format}) for ${user} into ${where}: ${outcome.rows} rows, ${outcome.imported} expenses added, ${outcome.alreadyImported} already there, ${outcome.skipped.length} skipped`);
      if (categories) console.log(`  categories: ${categories}`);
      for (const row of outcome.skipped) console.log(`  skipped line ${row.line}: ${row.reason}`);
      if (outcome.unmappedCategories.length > 0) console.log(`  not in the category map (imported as other): ${outcome.unmappedCategories.join(", ")}`);
      if (outcome.diagnosis) console.log(`  diagnosis ${outcome.diagnosis.snapshotDate}: score ${outcome.diagnosis.score}, ${outcome.diagnosis.band}`);
      if (outcome.alertsRaised.length > 0) console.log(`  alerts raised: ${outcome.alertsRaised.join(", ")}`);
      return 0;
    } catch (error) {
      if (!(error instanceof ImportRefused)) throw error;
      console.error(`import: ${file} refused, nothing imported: ${error.badRows.length} bad row${error.badRows.length === 1 ? "" : "s"}`);
      for (const row of error.badRows) console.error(`  line ${row.line}: ${row.reason}`);
      return 1;
    }
  });
}

runCommand("import", main);
