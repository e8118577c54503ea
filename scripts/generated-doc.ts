// What every doc generator does with what it rendered: `--check` fails (exit 1) when the
// committed file differs, otherwise the file is written.
import { readFileSync, writeFileSync } from "node:fs";
import { relative } from "node:path";

export function writeOrCheckDoc(path: string, rendered: string, regenerate: string): void {
  const name = relative(process.cwd(), path);
  if (!process.argv.includes("--check")) {
    writeFileSync(path, rendered);
    console.log(`Wrote ${name}`);
    return;
  }
  let current = "";
  try {
    current = readFileSync(path, "utf8");
  } catch {
    // missing: stale
  }
  if (current !== rendered) {
    console.error(`${name} is stale: run \`${regenerate}\`.`);
    process.exitCode = 1;
  }
}
