// A household's income streams: a salary for most, gig work, remittances, freelancing or
// a small business for some, and for a few a stream that ended recently (an income shock).
import type { Day } from "./calendar.ts";
import type { CountryProfile } from "./catalogue.ts";
import type { HouseholdInput } from "./household-context.ts";
import { rowId } from "./household-context.ts";
import type { Rng } from "./prng.ts";
import { type IncomeRow, roundCents } from "./rows.ts";

/** Income in cents rounded to a believable pay step (whole dollars, 1,000 pesos, ...). */
function incomeStep(profile: CountryProfile): number {
  return Math.max(100, profile.priceStepCents * 10);
}

export function generateIncome(input: HouseholdInput, profile: CountryProfile, rng: Rng, stress: number) {
  const { today } = input;
  const step = incomeStep(profile);
  const median = profile.medianMonthlyIncome * 100;
  const streams: IncomeRow[] = [];
  const add = (source: string, kind: IncomeRow["kind"], amount: number, startedAt: Day, endedAt: Day | null): void => {
    streams.push({
      id: rowId("inc", input, streams.length),
      userId: input.userId,
      country: input.country,
      source,
      kind,
      monthlyAmount: Math.max(step, roundCents(amount, step)),
      currency: profile.currency,
      startedAt,
      endedAt,
    });
  };
  const hasSalary = rng.chance(0.82);
  const salary = median * rng.logNormal(0.45) * (1.2 - 0.4 * stress);
  const dropChance = 0.04 + 0.18 * stress;
  let incomeDropDay: Day | null = null;
  if (hasSalary) {
    const lost = rng.chance(dropChance);
    const startedAt = today - rng.int(120, 2600);
    incomeDropDay = lost ? today - rng.int(6, 80) : null;
    add(`salary:${rng.pick(profile.employers)}`, "RECURRING", salary, startedAt, incomeDropDay);
  }
  const remittanceChance = input.country === "EC" ? 0.2 : input.country === "MX" ? 0.16 : 0.08;
  const variable: [string, number, number][] = [];
  if (!hasSalary || rng.chance(0.25)) variable.push([rng.pick(["gig_delivery", "gig_rideshare"]), 0.25, 0.7]);
  if (rng.chance(remittanceChance)) variable.push(["remittance", 0.15, 0.5]);
  if (rng.chance(0.1)) variable.push(["freelance", 0.2, 0.8]);
  if (rng.chance(0.1)) variable.push(["small_business", 0.3, 1]);
  if (!hasSalary && rng.chance(0.5)) variable.push(["small_business", 0.4, 1.1]);
  for (const [source, low, high] of variable) {
    const lost = incomeDropDay === null && rng.chance(dropChance / 2);
    if (lost) incomeDropDay = today - rng.int(6, 80);
    add(source, "VARIABLE", median * rng.float(low, high), today - rng.int(60, 1500), lost ? incomeDropDay : null);
  }
  if (!streams.some((s) => s.endedAt === null)) {
    // Everyone tracked by the app has some money coming in, if only odd jobs.
    add("gig_odd_jobs", "VARIABLE", median * rng.float(0.15, 0.4), today - rng.int(5, 60), null);
  }
  let activeIncome = 0;
  let recurringIncome = 0;
  let referenceIncome = 0;
  for (const stream of streams) {
    referenceIncome += stream.monthlyAmount;
    if (stream.endedAt !== null) continue;
    activeIncome += stream.monthlyAmount;
    if (stream.kind === "RECURRING") recurringIncome += stream.monthlyAmount;
  }
  return { streams, activeIncome, recurringIncome, referenceIncome, incomeDropDay };
}
