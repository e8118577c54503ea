// realtime/events/relay-outbox.sql is the one source of the relay's SQL function: the newest
// migration that defines the function must be a copy of it, and the rules it spells in SQL must
// read as the TypeScript that owns them renders them.
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ALERT_CREATED_TOPIC } from "../domain/alerts/alert-event.ts";
import { consentCovers } from "../platform/auth/consent-coverage.ts";
import { migrationsDir } from "../platform/database/schema-engine.ts";

const SOURCE = new URL("../realtime/events/relay-outbox.sql", import.meta.url);
const DEFINES_FUNCTION = 'CREATE OR REPLACE FUNCTION "relay_outbox"(';

async function newestDefinition(): Promise<{ name: string; text: string }> {
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  const names = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort().reverse();
  for (const name of names) {
    const text = await readFile(join(migrationsDir, name, "migration.sql"), "utf8");
    if (text.includes(DEFINES_FUNCTION)) return { name, text };
  }
  throw new Error("No migration defines relay_outbox");
}

/** The function's body as PostgreSQL reads it: the `AS E'...'` literal with its escapes undone. */
function functionBody(sql: string): string {
  const literal = /\bAS E'((?:[^'\\]|''|\\.)*)'/.exec(sql)?.[1];
  assert.ok(literal !== undefined, "relay-outbox.sql has no AS E'...' body");
  const body = literal.replace(/''|\\([0-7]{1,3})|\\(.)/g, (_escape, octal?: string, other?: string) =>
    octal !== undefined ? String.fromCharCode(parseInt(octal, 8)) : (other ?? "'"),
  );
  return body.replace(/\s+/g, " ");
}

describe("the relay's SQL function has one source", () => {
  test("the newest migration defining relay_outbox is a copy of realtime/events/relay-outbox.sql", async () => {
    const [source, newest] = await Promise.all([readFile(SOURCE, "utf8"), newestDefinition()]);
    assert.ok(
      newest.text === source,
      `prisma/migrations/${newest.name}/migration.sql differs from realtime/events/relay-outbox.sql: ` +
        "a change to the function is a new migration whose migration.sql is a copy of the file",
    );
  });

  test("its consent condition is consentCovers, as the TypeScript renders it", async () => {
    const body = functionBody(await readFile(SOURCE, "utf8"));
    const conditions = [...body.matchAll(/FROM consent c WHERE (.*?) \) ON CONFLICT/g)].map((match) => match[1] ?? "");
    assert.equal(conditions.length, 1, "relay-outbox.sql should read consents in one place");
    const [condition = ""] = conditions;
    const rule = consentCovers("c", "alerts.read").sql;
    assert.ok(condition.endsWith(` AND ${rule}`), `relay-outbox.sql's consent condition\n  ${condition}\ndoes not end with consentCovers("c", "alerts.read")\n  ${rule}`);
    const matching = condition.slice(0, -` AND ${rule}`.length);
    assert.doesNotMatch(matching, /status|expires_at|scopes/, "the consent's state and scopes are consentCovers' alone");
  });

  test("it creates deliveries for the alert topic the domain names", async () => {
    const body = functionBody(await readFile(SOURCE, "utf8"));
    const topics = [...body.matchAll(/o\.topic = '([^']*)'/g)].map((match) => match[1]);
    assert.deepEqual(topics, [ALERT_CREATED_TOPIC]);
  });
});
