// Savings goals: none to three per household, their targets sized to income and their
// progress to how stretched the household is.
import { addMonths, DAY_MS, dayStartMs } from "./calendar.ts";
import { type CountryProfile, GOAL_KINDS, GOAL_SIZE, goalName } from "./catalogue.ts";
import { clamp, type HouseholdInput, rowId } from "./household-context.ts";
import type { Rng } from "./prng.ts";
import { type GoalRow, roundCents } from "./rows.ts";

export function generateGoals(
  input: HouseholdInput,
  profile: CountryProfile,
  rng: Rng,
  stress: number,
  income: number,
  createdAt: number,
): GoalRow[] {
  const { today } = input;
  const count = rng.weighted([
    [0, 0.25 + 0.15 * stress],
    [1, 0.35],
    [2, 0.27 - 0.1 * stress],
    [3, 0.13 - 0.05 * stress],
  ] as const);
  const kinds = rng.sample(GOAL_KINDS, count);
  const targetStep = profile.priceStepCents * 1000;
  const userCreatedDay = Math.floor(createdAt / DAY_MS);
  return kinds.map((kind, i) => {
    const [low, high] = GOAL_SIZE[kind];
    const targetAmount = Math.max(targetStep, roundCents(income * rng.float(low, high), targetStep));
    const progress = clamp(rng.next() * (1.15 - stress) * rng.float(0.4, 1.3), 0, 1.1);
    const achieved = progress >= 1;
    const abandoned = !achieved && rng.chance(0.06 + 0.1 * stress);
    const createdDay = userCreatedDay + rng.int(0, Math.max(0, today - 1 - userCreatedDay));
    return {
      id: rowId("gol", input, i),
      userId: input.userId,
      country: input.country,
      kind,
      name: goalName(kind, profile),
      targetAmount,
      currentAmount: achieved ? targetAmount : roundCents(targetAmount * progress, profile.amountStepCents),
      currency: profile.currency,
      targetDate: rng.chance(0.7) ? addMonths(today, rng.int(3, 60)) : null,
      status: achieved ? "ACHIEVED" : abandoned ? "ABANDONED" : "ACTIVE",
      createdAt: dayStartMs(createdDay) + rng.int(0, 86_399) * 1000,
    };
  });
}
