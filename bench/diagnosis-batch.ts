// `DATABASE_URL=... npx tsx bench/diagnosis-batch.ts [--batch N] [--limit N] [--now ISO]`
//
// Runs the two batch jobs over an already seeded database (`npm run seed -- --users N`), the
// way `npm run diagnose:all` and `npm run prevention:evaluate` do, and reports where the time
// goes (load / compute / write), throughput, and resident memory as the run goes through the
// users: flat memory is the point of the batching. Writes snapshots and alerts like the jobs.
import { loadConfig } from "../platform/config/config.ts";
import { evaluateHouseholds, loadForPrevention } from "../subgraphs/alerts/prevention/evaluate.ts";
import { allTenants, createPrismaClient } from "../platform/database/database.ts";
import { parseBatchArguments, runCli } from "../scripts/batch-cli.ts";
import { dayOf } from "../domain/household/household.ts";
import { keysetRange, loadHouseholds } from "../subgraphs/shared/household/load-households.ts";
import { forEachUserBatch, pipelineUserBatches } from "../subgraphs/shared/household/user-batches.ts";
import { diagnose } from "../domain/diagnosis/diagnose.ts";
import { diagnosisLoadOptions, toSnapshot, writeSnapshots } from "../subgraphs/wellness/diagnosis/service.ts";

const USAGE = "usage: DATABASE_URL=postgresql://... npx tsx bench/diagnosis-batch.ts [--batch N] [--limit N] [--now ISO]";

interface Sample {
  users: number;
  seconds: number;
  rssMiB: number;
  heapMiB: number;
}

function sample(users: number, started: number): Sample {
  const memory = process.memoryUsage();
  return { users, seconds: (performance.now() - started) / 1000, rssMiB: memory.rss / 2 ** 20, heapMiB: memory.heapUsed / 2 ** 20 };
}

function memoryLine(samples: Sample[]): string {
  const picks = [0.1, 0.25, 0.5, 0.75, 1].map((share) => samples[Math.max(0, Math.ceil(samples.length * share) - 1)]!);
  return picks.map((s) => `${s.users}: ${s.rssMiB.toFixed(0)}/${s.heapMiB.toFixed(0)}`).join(", ");
}

runCli(async () => {
  const args = parseBatchArguments(process.argv.slice(2), USAGE);
  if (args === "help") {
    console.log(USAGE);
    return 0;
  }
  const url = loadConfig().databaseUrl;
  if (!url) {
    console.error(`${USAGE}\n(the benchmark needs a seeded PostgreSQL database)`);
    return 2;
  }
  const prisma = createPrismaClient({ kind: "postgres", url, poolSize: 8 }, { access: allTenants("bench-diagnosis") });
  const limit = args.limit === undefined ? {} : { limit: args.limit };
  try {
    const today = dayOf(args.now);
    const phases = { load: 0, compute: 0, write: 0 };
    const bands = { GREEN: 0, AMBER: 0, RED: 0 };
    const diagnosisSamples: Sample[] = [];
    let started = performance.now();
    const diagnosed = await forEachUserBatch(
      prisma,
      args.batchSize,
      async (ids, { users }) => {
        let mark = performance.now();
        const households = await loadHouseholds(prisma, ids, today, { ...diagnosisLoadOptions(today), ...keysetRange(ids, true) });
        phases.load += performance.now() - mark;
        mark = performance.now();
        const snapshots = households.map((household) => {
          const diagnosis = diagnose(household, today);
          bands[diagnosis.band]++;
          return toSnapshot(diagnosis, household.country, args.now);
        });
        phases.compute += performance.now() - mark;
        mark = performance.now();
        await writeSnapshots(prisma, snapshots);
        phases.write += performance.now() - mark;
        diagnosisSamples.push(sample(users, started));
      },
      limit,
    );
    const diagnosisSeconds = (performance.now() - started) / 1000;

    const alerts = new Map<string, number>();
    const preventionSamples: Sample[] = [];
    let raised = 0;
    let suppressed = 0;
    started = performance.now();
    const evaluated = await pipelineUserBatches(
      prisma,
      args.batchSize,
      (ids) => loadForPrevention(prisma, ids, args.now, { keysetPage: true }),
      async (households, { users }) => {
        const report = await evaluateHouseholds(prisma, households, args.now);
        raised += report.raised.length;
        suppressed += report.suppressed.length;
        for (const alert of report.raised) alerts.set(alert.type, (alerts.get(alert.type) ?? 0) + 1);
        preventionSamples.push(sample(users, started));
      },
      limit,
    );
    const preventionSeconds = (performance.now() - started) / 1000;

    const n = diagnosed.users;
    const pct = (x: number) => ((100 * x) / Math.max(1, n)).toFixed(1);
    console.log(`diagnosis: ${n} users in ${diagnosisSeconds.toFixed(1)} s (${(n / diagnosisSeconds).toFixed(0)} users/s), batches of ${args.batchSize}`);
    console.log(`  load ${(phases.load / 1000).toFixed(1)} s, compute ${(phases.compute / 1000).toFixed(1)} s, write ${(phases.write / 1000).toFixed(1)} s`);
    console.log(`  bands: GREEN ${bands.GREEN} (${pct(bands.GREEN)} %), AMBER ${bands.AMBER} (${pct(bands.AMBER)} %), RED ${bands.RED} (${pct(bands.RED)} %)`);
    console.log(`  memory (users: RSS/heap MiB): ${memoryLine(diagnosisSamples)}`);
    console.log(`prevention: ${evaluated.users} users in ${preventionSeconds.toFixed(1)} s (${(evaluated.users / preventionSeconds).toFixed(0)} users/s)`);
    console.log(`  raised ${raised}, held back by cool-downs ${suppressed}`);
    for (const [type, count] of [...alerts].sort((a, b) => b[1] - a[1])) console.log(`  ${type.padEnd(24)} ${count}`);
    console.log(`  memory (users: RSS/heap MiB): ${memoryLine(preventionSamples)}`);
    console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
    return 0;
  } finally {
    await prisma.$disconnect();
  }
});
