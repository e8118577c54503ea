// `npm run prevention:evaluate -- [--batch 1000] [--now ISO] [--limit N]`: the scheduled
// evaluation. Runs every rule for every user in batches and raises the alerts that are not
// cooling down (each with its outbox event, in one transaction per batch). Prints the alerts
// raised by type and band.
import { MemoryTrace, openBatchDatabase, parseBatchArguments, runCli } from "../../shared/household/batch-cli.ts";
import { pipelineUserBatches } from "../../shared/household/user-batches.ts";
import { evaluateHouseholds, loadForPrevention } from "./evaluate.ts";

const USAGE = `usage: npm run prevention:evaluate -- [--batch N] [--now ISO] [--limit N]
  --batch N   users per batch (default 1000)
  --now ISO   reference instant (default: now); alerts are created at it
  --limit N   stop after N users
environment: DATABASE_URL (else embedded PGlite under DATA_DIR, default .data)`;

runCli(async () => {
  const args = parseBatchArguments(process.argv.slice(2), USAGE);
  if (args === "help") {
    console.log(USAGE);
    return 0;
  }
  const database = await openBatchDatabase();
  try {
    const memory = new MemoryTrace();
    const byType = new Map<string, number>();
    const byBand = new Map<string, number>();
    const people = new Set<string>();
    let suppressed = 0;
    const started = performance.now();
    const progress = await pipelineUserBatches(
      database.prisma,
      args.batchSize,
      (ids) => loadForPrevention(database.prisma, ids, args.now, { keysetPage: true }),
      async (households, { users, batches }) => {
        const report = await evaluateHouseholds(database.prisma, households, args.now);
        suppressed += report.suppressed.length;
        for (const alert of report.raised) {
          byType.set(alert.type, (byType.get(alert.type) ?? 0) + 1);
          byBand.set(alert.riskBand, (byBand.get(alert.riskBand) ?? 0) + 1);
          people.add(alert.userId);
        }
        memory.sample(users);
        if (batches % 10 === 0) console.log(`  ${users} users, ${((performance.now() - started) / 1000).toFixed(1)} s`);
      },
      args.limit === undefined ? {} : { limit: args.limit },
    );
    const seconds = (performance.now() - started) / 1000;
    const raised = [...byType.values()].reduce((a, b) => a + b, 0);
    console.log(`evaluated ${progress.users} users from ${database.where} in ${seconds.toFixed(1)} s: ${raised} alerts raised for ${people.size} users, ${suppressed} held back by cool-downs`);
    for (const [type, count] of [...byType].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) console.log(`  ${type.padEnd(24)} ${count}`);
    console.log(`risk bands: ${[...byBand].sort().map(([band, count]) => `${band} ${count}`).join(", ")}`);
    console.log(`memory:\n  ${memory.summary()}\npeak RSS ${memory.peakRssMiB().toFixed(0)} MiB`);
    return 0;
  } finally {
    await database.close();
  }
});
