// `npm run prevention:evaluate -- [--batch 1000] [--now ISO] [--limit N]`: the scheduled
// evaluation. Runs every rule for every user in batches and raises the alerts that are not
// cooling down (each with its outbox event, in one transaction per batch). Prints the alerts
// raised by type and band.
import { runBatchJob } from "./batch-cli.ts";
import { evaluateHouseholds, loadForPrevention } from "../subgraphs/alerts/prevention/evaluate.ts";

const byType = new Map<string, number>();
const byBand = new Map<string, number>();
const people = new Set<string>();
let suppressed = 0;

runBatchJob({
  usage: `usage: npm run prevention:evaluate -- [--batch N] [--now ISO] [--limit N]
  --batch N   users per batch (default 1000)
  --now ISO   reference instant (default: now); alerts are created at it
  --limit N   stop after N users
environment: DATABASE_URL (else embedded PGlite under DATA_DIR, default .data)`,
  load: (prisma, ids, now) => loadForPrevention(prisma, ids, now, { keysetPage: true }),
  async process(prisma, households, now) {
    const report = await evaluateHouseholds(prisma, households, now);
    suppressed += report.suppressed.length;
    for (const alert of report.raised) {
      byType.set(alert.type, (byType.get(alert.type) ?? 0) + 1);
      byBand.set(alert.riskBand, (byBand.get(alert.riskBand) ?? 0) + 1);
      people.add(alert.userId);
    }
  },
  report({ users, seconds, where }) {
    const raised = [...byType.values()].reduce((a, b) => a + b, 0);
    return [
      `evaluated ${users} users from ${where} in ${seconds.toFixed(1)} s: ${raised} alerts raised for ${people.size} users, ${suppressed} held back by cool-downs`,
      ...[...byType].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([type, count]) => `  ${type.padEnd(24)} ${count}`),
      `risk bands: ${[...byBand].sort().map(([band, count]) => `${band} ${count}`).join(", ")}`,
    ];
  },
});
