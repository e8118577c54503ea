// Every catalogued error code is one a client can actually receive: a code in platform/errors.ts
// that nothing raises is a promise the docs make (docs/errors.md is generated from it) and the
// API breaks. "Raised" is read from the source: the code passed where an error is made, or one
// Apollo Server assigns itself.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import { ApolloServerErrorCode } from "@apollo/server/errors";
import { ERROR_CODES } from "../platform/errors.ts";

const ROOT = new URL("..", import.meta.url).pathname;
/** Where the code that answers clients lives (not tests, docs, benches or generated code). */
const SOURCE_FOLDERS = ["gateway", "platform", "subgraphs", "realtime", "runtime", "domain"];
const CATALOGUE = "platform/errors.ts";
/** Where an error is made with a code (its first argument, or `code:` in extensions). */
const MAKERS = /(?:graphQLError|RestError|AuthError|HttpError|AuthenticationError|OAuthError|sendError|unauthenticated|GraphQLError)\(/;

/** Codes catalogued for a reason other than a raise in this repository, each with why. */
const KNOWN_EXCEPTIONS: Record<string, string> = {};

function sourceFiles(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)))
    .filter((path) => path !== CATALOGUE);
}

/** Whether `code` is passed where an error is made: in the same statement as a maker's call, or as `code: "..."`. */
function raises(text: string, code: string): boolean {
  const literal = `"${code}"`;
  let at = text.indexOf(literal);
  while (at !== -1) {
    // The statement the literal is in: back to the previous `;`, `{` or `}` at the start of a line.
    const start = Math.max(text.lastIndexOf(";\n", at), text.lastIndexOf("{\n", at), text.lastIndexOf("}\n", at), 0);
    const statement = text.slice(start, at + literal.length);
    if (MAKERS.test(statement) || new RegExp(`code: ${literal}`).test(statement)) return true;
    at = text.indexOf(literal, at + 1);
  }
  return false;
}

test("every catalogued error code is raised somewhere (or by Apollo Server), so none is a dead promise in docs/errors.md", () => {
  const sources = SOURCE_FOLDERS.flatMap(sourceFiles).map((path) => ({ path, text: readFileSync(join(ROOT, path), "utf8") }));
  const byApollo = new Set<string>(Object.values(ApolloServerErrorCode));
  const unraised = Object.keys(ERROR_CODES).filter(
    (code) => !byApollo.has(code) && !Object.hasOwn(KNOWN_EXCEPTIONS, code) && !sources.some(({ text }) => raises(text, code)),
  );
  assert.deepEqual(unraised, [], `catalogued in ${CATALOGUE} but raised nowhere: raise them, or drop them from the catalogue`);
});

test("a known exception is still catalogued and still not raised, so the list does not outlive its reason", () => {
  const sources = SOURCE_FOLDERS.flatMap(sourceFiles).map((path) => readFileSync(join(ROOT, path), "utf8"));
  for (const code of Object.keys(KNOWN_EXCEPTIONS)) {
    assert.ok(Object.hasOwn(ERROR_CODES, code), `${code} is no longer catalogued: drop it from KNOWN_EXCEPTIONS`);
    assert.ok(!sources.some((text) => raises(text, code)), `${code} is raised now: drop it from KNOWN_EXCEPTIONS`);
  }
});
