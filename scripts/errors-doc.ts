import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ERROR_CODES } from "../platform/errors.ts";

// docs/errors.md is generated from the catalogue in platform/errors.ts:
// `npm run docs:errors` writes it, `--check` fails when it is stale.
const DOC_PATH = fileURLToPath(new URL("../docs/errors.md", import.meta.url));

export function renderErrorsDoc(): string {
  const rows = Object.entries(ERROR_CODES).map(([code, { status, doc }]) => `| \`${code}\` | ${status} | ${doc} |`);
  return [
    "# Error codes",
    "",
    "Generated from `platform/errors.ts` by `npm run docs:errors`; do not edit by hand.",
    "",
    "GraphQL errors carry the code in `errors[].extensions.code`. REST routes answer with the",
    "envelope `{ \"code\": ..., \"message\": ..., \"retry_after\": ... }` and the HTTP status below.",
    "A GraphQL field that fails is `null` with its error and `path`; the rest of the operation still answers.",
    "",
    "| code | HTTP status | meaning |",
    "|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rendered = renderErrorsDoc();
  if (process.argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(DOC_PATH, "utf8");
    } catch {
      current = "";
    }
    if (current !== rendered) {
      console.error("docs/errors.md is stale: run `npm run docs:errors`.");
      process.exit(1);
    }
  } else {
    writeFileSync(DOC_PATH, rendered);
    console.log(`Wrote ${DOC_PATH}`);
  }
}
