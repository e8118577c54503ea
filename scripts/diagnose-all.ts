// `npm run diagnose:all -- [--batch 1000] [--now 2026-05-08T12:00:00Z] [--limit N]`: diagnoses
// every user and upserts today's snapshot of each, in batches (memory flat in the number of
// users; the next batch loads while the current one is computed and written). Prints the
// distribution of bands, the time taken and memory along the way.
import { runBatchJob } from "./batch-cli.ts";
import { diagnoseHouseholds, loadForDiagnosis } from "../subgraphs/wellness/diagnosis/service.ts";

const bands = { GREEN: 0, AMBER: 0, RED: 0 };

runBatchJob({
  usage: `usage: npm run diagnose:all -- [--batch N] [--now ISO] [--limit N]
  --batch N   users per batch (default 1000)
  --now ISO   reference instant (default: now); the snapshot date is its UTC day
  --limit N   stop after N users
environment: DATABASE_URL (else embedded PGlite under DATA_DIR, default .data)`,
  load: (prisma, ids, now) => loadForDiagnosis(prisma, ids, now, { keysetPage: true }),
  async process(prisma, households, now) {
    for (const { diagnosis } of await diagnoseHouseholds(prisma, households, now)) bands[diagnosis.band]++;
  },
  report({ users, batches, batchSize, seconds, where }) {
    const share = (n: number) => (users === 0 ? "0.0" : ((100 * n) / users).toFixed(1));
    return [
      `diagnosed ${users} users in ${batches} batches of ${batchSize} from ${where} in ${seconds.toFixed(1)} s (${(users / Math.max(seconds, 1e-9)).toFixed(0)} users/s)`,
      `bands: GREEN ${bands.GREEN} (${share(bands.GREEN)} %), AMBER ${bands.AMBER} (${share(bands.AMBER)} %), RED ${bands.RED} (${share(bands.RED)} %)`,
    ];
  },
});
