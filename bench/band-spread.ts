// `npx tsx bench/band-spread.ts [--users N] [--seed S] [--day YYYY-MM-DD]`
//
// The wellness bands of the seeded population on the seed day, without a database: generates the
// households `npm run seed` would write (same seed, same day, same rows) and counts the bands and
// factor medians of each one's seed-day snapshot, which is the engine's own diagnosis of its rows
// (test/seed.test.ts checks that). Re-run after a change to domain/diagnosis and put the before
// and after in bench/RESULTS.md.
import { dayOf } from "../domain/household/household.ts";
import { generateDemoHousehold } from "../prisma/seed/demo-user.ts";
import { generateHousehold, populationContext } from "../prisma/seed/population.ts";

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}

const users = Number(option("users", "2000"));
const seed = Number(option("seed", "42"));
const day = option("day", new Date().toISOString().slice(0, 10));
if (!Number.isInteger(users) || users < 1 || !Number.isInteger(seed) || !/^\d{4}-\d{2}-\d{2}$/.test(day)) {
  console.error("usage: npx tsx bench/band-spread.ts [--users N] [--seed S] [--day YYYY-MM-DD]");
  process.exit(2);
}

const today = dayOf(new Date(`${day}T12:00:00Z`));
const context = populationContext(seed, today);
const bands = new Map<string, number>([
  ["GREEN", 0],
  ["AMBER", 0],
  ["RED", 0],
]);
const factorValues = new Map<string, number[]>();
for (let index = 0; index < users; index++) {
  const household = index === 0 ? generateDemoHousehold(context) : generateHousehold(context, index);
  const latest = household.snapshots.find((snapshot) => snapshot.snapshotDate === today);
  if (!latest) throw new Error(`${household.user.id} has no snapshot on ${day}`);
  bands.set(latest.band, (bands.get(latest.band) ?? 0) + 1);
  for (const factor of latest.factors) {
    const list = factorValues.get(factor.name) ?? [];
    list.push(factor.value);
    factorValues.set(factor.name, list);
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

console.log(`${users} users, seed ${seed}, seed day ${day}`);
console.log("| band | users | share |\n|---|---:|---:|");
for (const [band, count] of bands) console.log(`| ${band} | ${count} | ${((100 * count) / users).toFixed(1)} % |`);
console.log(`factor medians: ${[...factorValues].map(([name, values]) => `${name} ${median(values).toFixed(2)}`).join(", ")}`);
