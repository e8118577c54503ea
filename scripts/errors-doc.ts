import { fileURLToPath } from "node:url";
import { ERROR_CODES } from "../platform/errors.ts";
import { writeOrCheckDoc } from "./generated-doc.ts";

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
    "envelope `{ \"code\": ..., \"message\": ..., \"retry_after\": ..., \"request_id\": ... }` and the HTTP status below.",
    "A GraphQL field that fails is `null` with its error and `path`; the rest of the operation still answers.",
    "",
    "| code | HTTP status | meaning |",
    "|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) writeOrCheckDoc(DOC_PATH, renderErrorsDoc(), "npm run docs:errors");
