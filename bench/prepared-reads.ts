// `npx tsx bench/prepared-reads.ts [--users N] [--pages N] [--rounds N]`
//
// What the subgraphs' reads of one five-subgraph page cost this process in CPU, through Prisma's
// $queryRaw and as prepared statements through pg (platform/database/prepared-reads.ts): six of
// the page's reads for 20 people (debts, an expense page, expense counts, income streams, coach
// sessions, recent alerts; wellness's two need a viewer), the same services and statements both ways,
// in alternating rounds so that other work on the machine falls on both sides alike. CPU is this
// process's (process.cpuUsage) per page; PostgreSQL's own CPU is not in it.
import { parseArgs } from "node:util";
import { orUsage } from "./support/usage.ts";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "../generated/prisma/client.ts";
import type { Country } from "../generated/prisma/enums.ts";
import { seedDatabase } from "../prisma/seed/index.ts";
import { attachPool } from "../platform/database/prepared-reads.ts";
import type { FieldVault } from "../platform/encryption/field-vault.ts";
import { ALERT_COLUMN_CHOICE } from "../subgraphs/alerts/alert-row.ts";
import { AlertsService } from "../subgraphs/alerts/service.ts";
import type { PreventionReports } from "../subgraphs/alerts/report-service.ts";
import { CoachService, SESSION_COLUMNS } from "../subgraphs/coach/service.ts";
import { DEBT_COLUMNS, DebtsService } from "../subgraphs/debts/service.ts";
import { EXPENSE_COLUMNS, ExpensesService, INCOME_COLUMNS } from "../subgraphs/expenses/service.ts";
import { createTestDatabase } from "../testkit/postgres.ts";
import { machineFacts } from "./support/report.ts";

const USAGE = "usage: npx tsx bench/prepared-reads.ts [--users N (default 400)] [--pages N (default 40)] [--rounds N (default 6)]";
const { values } = orUsage(USAGE, () => parseArgs({ options: { users: { type: "string", default: "400" }, pages: { type: "string", default: "40" }, rounds: { type: "string", default: "6" } } }));
const users = Number(values.users);
const pagesPerRound = Number(values.pages);
const rounds = Number(values.rounds);
const TENANT: Country[] = ["EC", "MX", "PE", "CO", "CL"];

const database = await createTestDatabase();
const clients: PrismaClient[] = [];
const pools: pg.Pool[] = [];
try {
  await seedDatabase({ kind: "postgres", url: database.url, poolSize: 4 }, { users, seed: 42, sandboxClientSecret: "bench-prepared-reads" });
  // Both clients as the login role, each on its own pool of 4: the same connections' worth both ways.
  const client = (prepared: boolean) => {
    const pool = new pg.Pool({ connectionString: database.url, max: 4 });
    // Dropping the database ends idle connections from the server's side.
    pool.on("error", () => undefined);
    pools.push(pool);
    const made = new PrismaClient({ adapter: new PrismaPg(pool), errorFormat: "minimal" });
    if (prepared) attachPool(made, pool);
    clients.push(made);
    return made;
  };
  const sides = { prisma: client(false), prepared: client(true) };
  const ids = (await sides.prisma.user.findMany({ select: { id: true }, orderBy: { id: "asc" } })).map((user) => user.id);
  const pages: string[][] = [];
  for (let start = 0; start + 20 <= ids.length; start += 20) pages.push(ids.slice(start, start + 20));

  const readPage = async (prisma: PrismaClient, page: string[]) => {
    const debts = new DebtsService(prisma, TENANT);
    const expenses = new ExpensesService(prisma, TENANT);
    const coach = new CoachService(prisma, TENANT, {} as FieldVault);
    const alerts = new AlertsService(prisma, TENANT, {} as PreventionReports);
    const rows = await Promise.all([
      debts.debts(page, DEBT_COLUMNS.all),
      expenses.countedPageOfExpenses(page, { limit: 5, columns: EXPENSE_COLUMNS.all }),
      expenses.incomeStreams(page, INCOME_COLUMNS.all),
      coach.sessions(page, { columns: SESSION_COLUMNS.all }),
      alerts.recentAlerts(page, { limit: 20, columns: ALERT_COLUMN_CHOICE.all }),
    ]);
    return rows.reduce((sum, list) => sum + list.length, 0);
  };

  // Warm both (prepared statements, Prisma's query cache, the JIT).
  for (const page of pages.slice(0, 10)) for (const prisma of Object.values(sides)) await readPage(prisma, page);

  const results: Record<keyof typeof sides, number[]> = { prisma: [], prepared: [] };
  let cursor = 0;
  for (let round = 0; round < rounds; round++) {
    for (const side of (round % 2 === 0 ? ["prisma", "prepared"] : ["prepared", "prisma"]) as (keyof typeof sides)[]) {
      const before = process.cpuUsage();
      for (let index = 0; index < pagesPerRound; index++) await readPage(sides[side], pages[(cursor + index) % pages.length]!);
      const used = process.cpuUsage(before);
      results[side].push((used.user + used.system) / 1000 / pagesPerRound);
    }
    cursor += pagesPerRound;
  }
  const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
  console.log(`Machine: ${machineFacts()}`);
  console.log(`${users} seeded users, ${rounds} alternating rounds of ${pagesPerRound} pages of 20 people, six reads a page as the subgraphs send them\n`);
  console.log("| reads through | CPU ms/page, median | min | max |");
  console.log("|---|---:|---:|---:|");
  for (const [side, list] of Object.entries(results)) console.log(`| ${side === "prisma" ? "Prisma $queryRaw" : "pg, prepared"} | ${median(list).toFixed(2)} | ${Math.min(...list).toFixed(2)} | ${Math.max(...list).toFixed(2)} |`);
} finally {
  await Promise.all(clients.map((client) => client.$disconnect()));
  await Promise.all(pools.map((pool) => pool.end()));
  await database.drop();
}
