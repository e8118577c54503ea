// A person's daily wellness history: 365 seeded points read in one statement, thinned to weeks
// or months on request, with a new diagnosis taking its day.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type pg from "pg";
import type { TestDatabase } from "../testkit/postgres.ts";
import { bearer, consentToken } from "../testkit/tokens.ts";
import { countStatements, postGraphQL, type startTestKamina } from "./support/kamina.ts";
import { startSeededKamina, stopSeededKamina } from "./support/seeded-kamina.ts";

type Point = { date: string; score: number; band: string; days: number };

describe("wellnessHistory: daily points, weeks and months", () => {
  let database: TestDatabase;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  let sql: pg.Client;
  let asDemoUser: Record<string, string>;

  const history = async (args: string): Promise<Point[]> => {
    const { body } = await postGraphQL(kamina.graphqlUrl, `{ me { wellnessHistory${args} { date score band days } } }`, undefined, asDemoUser);
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    return body.data!.me.wellnessHistory as Point[];
  };

  before(async () => {
    ({ database, kamina, sql } = await startSeededKamina({ users: 20, seed: 3, poolSize: 2 }));
    asDemoUser = bearer(await consentToken(kamina, "USR_42891", ["wellness.read"]));
  });

  after(async () => {
    await stopSeededKamina({ database, kamina, sql });
  });

  test("the default is a point per day of the last 12 months, read with one statement", async () => {
    const ask = (query: string) => postGraphQL(kamina.graphqlUrl, query, undefined, asDemoUser);
    await ask("{ me { id } }"); // what a first request looks up once is not counted
    const withoutHistory = await countStatements(kamina, () => ask("{ me { id } }"));
    let daily: Point[] = [];
    const withHistory = await countStatements(kamina, async () => {
      daily = await history("");
    });
    assert.ok(daily.length >= 360 && daily.length <= 366, `${daily.length} points`);
    assert.ok(daily.every((point) => point.days === 1));
    for (const point of daily) assert.equal(point.band, point.score >= 70 ? "GREEN" : point.score >= 40 ? "AMBER" : "RED");
    assert.equal(withHistory.wellness! - withoutHistory.wellness!, 1, "the whole year is one statement");
    const { rows } = await sql.query<{ score: number }>("SELECT score FROM wellness_snapshot WHERE user_id = 'USR_42891' ORDER BY snapshot_date DESC LIMIT 1");
    assert.equal(daily.at(-1)?.score, rows[0]?.score, "today's point is today's diagnosis");
  });

  test("WEEK and MONTH are the rounded means of their days, dated on Monday and the first", async () => {
    const daily = await history("(months: 3)");
    const weeks = await history("(months: 3, interval: WEEK)");
    const months = await history("(months: 3, interval: MONTH)");
    assert.equal(weeks.reduce((sum, point) => sum + point.days, 0), daily.length);
    assert.equal(months.reduce((sum, point) => sum + point.days, 0), daily.length);
    assert.ok(months.length === 3 || months.length === 4, `${months.length} months`);
    for (const week of weeks.slice(1)) assert.equal(new Date(week.date).getUTCDay(), 1, `${week.date} is a Monday`);
    for (const month of months.slice(1)) assert.match(month.date, /-01$/);
    const first = months[1]!;
    const inMonth = daily.filter((point) => point.date.slice(0, 7) === first.date.slice(0, 7));
    assert.equal(first.score, Math.round(inMonth.reduce((sum, point) => sum + point.score, 0) / inMonth.length));
    assert.equal(first.days, inMonth.length);
  });

  test("a new diagnosis is its day's point", async () => {
    await sql.query("UPDATE wellness_daily SET scores[extract(doy FROM CURRENT_DATE)::int] = 1 WHERE user_id = 'USR_42891' AND year = extract(year FROM CURRENT_DATE)::int");
    const { body } = await postGraphQL(kamina.graphqlUrl, "mutation { runDiagnosis { score } }", undefined, asDemoUser);
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    const daily = await history("(months: 1)");
    assert.equal(daily.at(-1)?.score, body.data!.runDiagnosis.score);
  });

  test("an interval that does not exist and months outside 1..24 are refused with a code", async () => {
    const unknown = await postGraphQL(kamina.graphqlUrl, "{ me { wellnessHistory(interval: YEAR) { score } } }", undefined, asDemoUser);
    assert.equal(unknown.body.errors?.[0]?.extensions?.code, "GRAPHQL_VALIDATION_FAILED");
    const tooFar = await postGraphQL(kamina.graphqlUrl, "{ me { wellnessHistory(months: 25, interval: WEEK) { score } } }", undefined, asDemoUser);
    assert.equal(tooFar.body.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
  });
});
