// `npm run diagnose:all -- [--batch 1000] [--now 2026-05-08T12:00:00Z] [--limit N]`: diagnoses
// every user and upserts today's snapshot of each, in batches (memory flat in the number of
// users; the next batch loads while the current one is computed and written). Prints the
// distribution of bands, the time taken and memory along the way.
import { MemoryTrace, openBatchDatabase, parseBatchArguments, runCli } from "../../shared/household/batch-cli.ts";
import { pipelineUserBatches } from "../../shared/household/user-batches.ts";
import { diagnoseHouseholds, loadForDiagnosis } from "./service.ts";

const USAGE = `usage: npm run diagnose:all -- [--batch N] [--now ISO] [--limit N]
  --batch N   users per batch (default 1000)
  --now ISO   reference instant (default: now); the snapshot date is its UTC day
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
    const bands = { GREEN: 0, AMBER: 0, RED: 0 };
    const started = performance.now();
    const progress = await pipelineUserBatches(
      database.prisma,
      args.batchSize,
      (ids) => loadForDiagnosis(database.prisma, ids, args.now, { keysetPage: true }),
      async (households, { users, batches }) => {
        for (const { diagnosis } of await diagnoseHouseholds(database.prisma, households, args.now)) bands[diagnosis.band]++;
        memory.sample(users);
        if (batches % 10 === 0) console.log(`  ${users} users, ${((performance.now() - started) / 1000).toFixed(1)} s`);
      },
      args.limit === undefined ? {} : { limit: args.limit },
    );
    const seconds = (performance.now() - started) / 1000;
    const total = progress.users;
    const share = (n: number) => (total === 0 ? "0.0" : ((100 * n) / total).toFixed(1));
    console.log(`diagnosed ${total} users in ${progress.batches} batches of ${args.batchSize} from ${database.where} in ${seconds.toFixed(1)} s (${(total / Math.max(seconds, 1e-9)).toFixed(0)} users/s)`);
    console.log(`bands: GREEN ${bands.GREEN} (${share(bands.GREEN)} %), AMBER ${bands.AMBER} (${share(bands.AMBER)} %), RED ${bands.RED} (${share(bands.RED)} %)`);
    console.log(`memory:\n  ${memory.summary()}\npeak RSS ${memory.peakRssMiB().toFixed(0)} MiB`);
    return 0;
  } finally {
    await database.close();
  }
});
