import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { committedSupergraph } from "../schema/composition.ts";
import { argumentCoordinate, describeRule } from "../platform/auth/access-rules.ts";
import { CLIENT_SCOPES, USER_SCOPES } from "../platform/auth/scopes.ts";
import { readSupergraphSecurity } from "../gateway/scopes/supergraph-rules.ts";
import { writeOrCheckDoc } from "./generated-doc.ts";

// The tables in docs/scopes.md between the markers are generated from the committed supergraph:
// `npm run docs:scopes` rewrites them, `--check` (part of `npm run check`) fails when they are stale.
export const DOC_PATH = fileURLToPath(new URL("../docs/scopes.md", import.meta.url));
const START = "<!-- generated: scope tables (npm run docs:scopes) -->";
const END = "<!-- end of generated scope tables -->";

export function renderScopeTables(supergraphSdl: string = committedSupergraph()): string {
  const { fieldRules, argumentRules, typeRules } = readSupergraphSecurity(supergraphSdl);
  const fields = [...fieldRules.entries()].sort(([a], [b]) => a.localeCompare(b));
  const byScope = new Map<string, string[]>();
  const argumentEntries = [...argumentRules.entries()]
    .flatMap(([field, byName]) => [...byName.entries()].map(([name, rule]) => [argumentCoordinate(field, name), rule] as const))
    .sort(([a], [b]) => a.localeCompare(b));
  for (const [coordinate, rule] of [...fields, ...argumentEntries]) {
    for (const scope of new Set(rule.scopes.flat(2))) byScope.set(scope, [...(byScope.get(scope) ?? []), coordinate]);
  }
  const scopeRows = [...USER_SCOPES, ...CLIENT_SCOPES].map((scope) => {
    const opens = byScope.get(scope) ?? [];
    const kind = (USER_SCOPES as readonly string[]).includes(scope) ? "per person (consent)" : "per client";
    return `| \`${scope}\` | ${kind} | ${opens.length ? opens.map((coordinate) => `\`${coordinate}\``).join(", ") : "no GraphQL field or argument"} |`;
  });
  const argumentRows = argumentEntries.map(([coordinate, rule]) => `| \`${coordinate}\` | ${describeRule(rule)} |`);
  const typeRows = [...typeRules.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([type, rule]) => `| \`${type}\` | ${describeRule(rule)} |`);
  return [
    START,
    "",
    "### Fields and what they need",
    "",
    "A field's requirement includes its return type's. `a valid token` is `@authenticated`.",
    "",
    "| field | needs |",
    "|---|---|",
    ...fields.map(([coordinate, rule]) => `| \`${coordinate}\` | ${describeRule(rule)} |`),
    "",
    "### Arguments and what passing them needs",
    "",
    "`@argumentRequiresScopes`; on top of the field's own requirement, when the argument carries a value.",
    "",
    "| argument | needs |",
    "|---|---|",
    ...argumentRows,
    "",
    "### Types with a requirement of their own",
    "",
    "| type | needs |",
    "|---|---|",
    ...typeRows,
    "",
    "### Scopes and the fields and arguments they open",
    "",
    "| scope | granted | fields and arguments |",
    "|---|---|---|",
    ...scopeRows,
    "",
    END,
  ].join("\n");
}

/** docs/scopes.md with its generated tables brought up to date. */
export function renderScopesDoc(current: string): string {
  const start = current.indexOf(START);
  const end = current.indexOf(END);
  if (start === -1 || end === -1 || end < start) throw new Error(`${DOC_PATH} lacks the markers of its generated tables`);
  return current.slice(0, start) + renderScopeTables() + current.slice(end + END.length);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeOrCheckDoc(DOC_PATH, renderScopesDoc(readFileSync(DOC_PATH, "utf8")), "npm run docs:scopes");
}
