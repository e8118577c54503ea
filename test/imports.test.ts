// A person's expense history brought in from Monefy, YNAB, Goodbudget and Mint, as the Kamina app
// and an operator do it: each app's export (test/fixtures/imports/, the apps' published layouts
// with their awkward rows) lands as categorised expenses with MCCs; importing it again adds
// nothing; a file with a bad row is refused whole, each bad row named by line; and the person's
// diagnosis runs after an import.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import type { PrismaClient } from "../platform/database/database.ts";
import { createTestDatabase, type TestDatabase } from "../testkit/postgres.ts";
import { sandboxCredentials, TEST_SANDBOX_SECRET } from "../testkit/tokens.ts";
import { startTestKamina } from "./support/kamina.ts";
import { assertEnvelope, rest, type RestResponse } from "./support/rest.ts";
import { seedDatabase } from "../prisma/seed/index.ts";

const run = promisify(execFile);
const fixture = (name: string) => new URL(`./fixtures/imports/${name}`, import.meta.url).pathname;

interface Expected {
  rows: number;
  skippedLines: number[];
  byCategory: Record<string, number>;
  unmapped: string[];
}

/** What each fixture holds: 10 expenses each, the rest transfers, income and refunds. */
const EXPECTED: Record<string, Expected> = {
  monefy: {
    rows: 13,
    skippedLines: [6, 7, 8],
    byCategory: { food: 1, groceries: 1, transport: 2, utilities: 1, telecom: 1, clothing: 1, health: 1, entertainment: 1, other: 1 },
    unmapped: ["Piano lessons"],
  },
  ynab: {
    rows: 14,
    skippedLines: [4, 5, 6, 12],
    byCategory: { groceries: 2, food: 1, clothing: 1, utilities: 1, telecom: 1, transport: 1, entertainment: 1, health: 1, other: 1 },
    unmapped: ["Learning: Books"],
  },
  goodbudget: {
    rows: 13,
    skippedLines: [5, 6, 7, 11],
    byCategory: { groceries: 3, food: 1, clothing: 1, utilities: 1, telecom: 1, transport: 1, health: 1, other: 1 },
    unmapped: ["Books"],
  },
  mint: {
    rows: 14,
    skippedLines: [4, 5, 6, 11],
    byCategory: { groceries: 1, food: 1, utilities: 1, telecom: 1, transport: 2, health: 2, entertainment: 1, other: 1 },
    unmapped: ["Hobbies"],
  },
};

/** The bad rows of each bad fixture, by line, and a word of each reason. */
const BAD: Record<string, [number, RegExp][]> = {
  monefy: [
    [3, /date "31\/02\/2026" is not a date/],
    [4, /amount "abc" is not an amount/],
    [5, /currency "US DOLLARS"/],
    [6, /2 cells, the header has 8/],
  ],
  ynab: [
    [2, /date "13\/01\/2026"/],
    [3, /outflow "five"/],
    [5, /written positive/],
  ],
  goodbudget: [
    [3, /add up to 40\.00, not the amount 42\.00/],
    [4, /date "2026\/03\/03"/],
    [5, /amount "-5\.0\.0"/],
  ],
  mint: [
    [3, /amounts positive/],
    [4, /"withdrawal" is neither debit nor credit/],
    [5, /date "2\/30\/2026"/],
  ],
};

describe("importing a person's expense history from other apps", () => {
  let database: TestDatabase;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  let prisma: PrismaClient;
  let counter = 0;

  const app = () => ({ "x-kamina-app-key": kamina.gateway!.auth.config.appApiKey });
  const post = (format: string, userId: string, csv: string, headers: Record<string, string> = app(), contentType = "text/csv"): Promise<RestResponse> =>
    rest(kamina.gateway!.origin, "POST", `/v1/imports?format=${format}&user_id=${userId}`, { headers, raw: { contentType, body: csv } });
  /** A person of their own for each test, in Ecuador (dollars). */
  const newPerson = async (): Promise<string> => {
    const id = `USR_IMPORT_${process.pid}_${++counter}`;
    await prisma.user.create({ data: { id, country: "EC" } });
    return id;
  };
  const expensesOf = (userId: string) => prisma.expense.count({ where: { userId } });

  before(async () => {
    database = await createTestDatabase();
    await seedDatabase({ kind: "postgres", url: database.url, poolSize: 2 }, { users: 2, seed: 11, sandboxClientSecret: TEST_SANDBOX_SECRET });
    kamina = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 4 });
    prisma = kamina.gateway!.auth.prisma;
  });

  after(async () => {
    await kamina?.stop();
    await database?.drop();
  });

  for (const [format, expected] of Object.entries(EXPECTED)) {
    test(`a ${format} export loads its expenses with our categories and MCCs, then the diagnosis runs; loading it again adds nothing`, async () => {
      const person = await newPerson();
      const csv = readFileSync(fixture(`${format}.csv`), "utf8");
      const first = await post(format, person, csv);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const expenses = Object.values(expected.byCategory).reduce((sum, count) => sum + count, 0);
      assert.equal(first.body.rows, expected.rows);
      assert.equal(first.body.imported, expenses);
      assert.equal(first.body.already_imported, 0);
      assert.deepEqual(first.body.by_category, expected.byCategory);
      assert.deepEqual(
        first.body.skipped.map((row: { line: number }) => row.line),
        expected.skippedLines,
      );
      assert.ok(first.body.skipped.some((row: { reason: string }) => /transfer/.test(row.reason)), "a transfer is among the skipped rows");
      assert.deepEqual(first.body.unmapped_categories, expected.unmapped);
      const stored = await prisma.expense.findMany({ where: { userId: person }, select: { category: true, mcc: true, importKey: true, amount: true } });
      assert.equal(stored.length, expenses);
      assert.ok(stored.every((row) => /^\d{4}$/.test(row.mcc) && row.importKey?.length === 64 && row.amount.gt(0)));
      const storedByCategory: Record<string, number> = {};
      for (const row of stored) storedByCategory[row.category] = (storedByCategory[row.category] ?? 0) + 1;
      assert.deepEqual(storedByCategory, expected.byCategory);

      // The diagnosis ran: the person, who had none, has today's snapshot.
      const today = new Date().toISOString().slice(0, 10);
      assert.equal(first.body.diagnosis?.snapshot_date, today);
      const snapshots = await prisma.wellnessSnapshot.findMany({ where: { userId: person } });
      assert.equal(snapshots.length, 1);
      assert.equal(snapshots[0]!.snapshotDate.toISOString().slice(0, 10), today);

      const again = await post(format, person, csv);
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal(again.body.imported, 0);
      assert.equal(again.body.already_imported, expenses);
      assert.equal(again.body.diagnosis, null);
      assert.equal(await expensesOf(person), expenses);
    });

    test(`a ${format} file with bad rows is refused whole, each bad row named by its line`, async () => {
      const person = await newPerson();
      const answer = await post(format, person, readFileSync(fixture(`${format}-bad.csv`), "utf8"));
      assertEnvelope(answer, 400, "BAD_USER_INPUT", new RegExp(`^${BAD[format]!.length} bad rows, nothing imported`));
      for (const [line, reason] of BAD[format]!) {
        const said = (answer.body.message as string).split("; ").find((part) => part.startsWith(`line ${line}: `) || part.includes(`: line ${line}: `));
        assert.ok(said, `line ${line} is named: ${answer.body.message}`);
        assert.match(said, reason);
      }
      assert.equal((answer.body.message as string).match(/line \d+: /g)?.length, BAD[format]!.length, "the good rows are not named");
      assert.equal(await expensesOf(person), 0, "nothing written");
      assert.equal(await prisma.wellnessSnapshot.count({ where: { userId: person } }), 0, "no diagnosis");
    });
  }

  test("a Monefy export from a decimal-comma locale (`;` between cells) reads its amounts and thousands marks", async () => {
    const person = await newPerson();
    const csv = "date;account;category;amount;currency;converted amount;currency;description\n01.03.2026;Efectivo;Comida;-1.234,50;USD;-1.234,50;USD;\"Supermaxi; compra grande\"\n02.03.2026;Efectivo;Taxi;-7,5;USD;-7,5;USD;\n";
    const imported = await post("monefy", person, csv);
    assert.equal(imported.status, 200, JSON.stringify(imported.body));
    assert.deepEqual(imported.body.by_category, { groceries: 1, transport: 1 });
    const amounts = (await prisma.expense.findMany({ where: { userId: person }, orderBy: { occurredAt: "asc" } })).map((row) => row.amount.toFixed(2));
    assert.deepEqual(amounts, ["1234.50", "7.50"]);
  });

  test("only the Kamina app may import, for a person that exists, in a format it names", async () => {
    const person = await newPerson();
    const csv = readFileSync(fixture("monefy.csv"), "utf8");
    assertEnvelope(await post("monefy", person, csv, {}), 401, "UNAUTHENTICATED");
    assertEnvelope(await post("monefy", person, csv, { "x-kamina-app-key": "not-the-key" }), 401, "UNAUTHENTICATED");
    assertEnvelope(await post("monefy", person, csv, sandboxCredentials(kamina)), 401, "UNAUTHENTICATED");
    assertEnvelope(await post("quicken", person, csv), 400, "BAD_USER_INPUT", /format/);
    assertEnvelope(await post("monefy", "USR_NOBODY", csv), 404, "NOT_FOUND");
    assertEnvelope(await post("monefy", person, JSON.stringify({ csv }), app(), "application/json"), 415, "UNSUPPORTED_MEDIA_TYPE");
    assert.equal(await expensesOf(person), 0);
  });

  test("a multipart upload of the export works as a CSV body does", async () => {
    const person = await newPerson();
    const form = new FormData();
    form.append("file", new Blob([readFileSync(fixture("mint.csv"))], { type: "text/csv" }), "transactions.csv");
    const response = await fetch(`${kamina.gateway!.origin}/v1/imports?format=mint&user_id=${person}`, { method: "POST", headers: app(), body: form });
    const body = (await response.json()) as { imported: number };
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.imported, 10);
  });

  test("npm run import loads a file, adds nothing the second time, and names the bad rows of a bad file", async () => {
    const person = await newPerson();
    const env = { ...process.env, DATABASE_URL: database.url };
    const script = (format: string, file: string) => run(process.execPath, ["--import", "tsx", "scripts/import.ts", "--format", format, "--user", person, fixture(file)], { env });
    const first = await script("ynab", "ynab.csv");
    assert.match(first.stdout, /14 rows, 10 expenses added, 0 already there, 4 skipped/);
    assert.match(first.stdout, /skipped line 4: a transfer between accounts \(Transfer : Savings\)/);
    assert.match(first.stdout, /diagnosis \d{4}-\d{2}-\d{2}: score \d+/);
    const second = await script("ynab", "ynab.csv");
    assert.match(second.stdout, /0 expenses added, 10 already there/);
    await assert.rejects(script("ynab", "ynab-bad.csv"), (error: { code?: number; stderr?: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr ?? "", /refused, nothing imported: 3 bad rows/);
      assert.match(error.stderr ?? "", /line 2: date "13\/01\/2026"/);
      assert.match(error.stderr ?? "", /line 5: outflow and inflow are written positive/);
      return true;
    });
    await assert.rejects(run(process.execPath, ["--import", "tsx", "scripts/import.ts", "--format", "quicken", "--user", person, fixture("ynab.csv")], { env }), (error: { code?: number }) => error.code === 2);
    assert.equal(await expensesOf(person), 10);
  });
});
