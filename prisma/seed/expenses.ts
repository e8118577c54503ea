// 90 days of card and cash transactions: monthly bills from the same merchants, day-to-day
// purchases that follow weekends (going out) and paydays (shopping), favourite merchants,
// and occasional spikes (a run of food deliveries, a hospital bill).
import { type Day, dayInMonth, daysInMonth, parts, weekday } from "./calendar.ts";
import { type CountryProfile, type ExpenseCategory, PURCHASE_MIX, PURCHASE_SIZE } from "./catalogue.ts";
import { EXPENSE_WINDOW_DAYS, type HouseholdInput, localInstant } from "./household-context.ts";
import type { Rng } from "./prng.ts";
import { type ExpenseRow, roundCents } from "./rows.ts";

type DayProfile = "leisure" | "shopping" | "neutral";

const CATEGORY_DAYS: Record<ExpenseCategory, DayProfile> = {
  food: "leisure",
  entertainment: "leisure",
  groceries: "shopping",
  clothing: "shopping",
  housing: "shopping",
  transport: "neutral",
  health: "neutral",
  education: "neutral",
  utilities: "neutral",
  telecom: "neutral",
};

interface DayTable {
  days: Day[];
  cumulative: Record<DayProfile, Float64Array>;
}

let dayTableCache: { today: Day; table: DayTable } | undefined;

/** Cumulative day weights over the expense window: weekends for going out, paydays for shopping. */
function dayTable(today: Day): DayTable {
  if (dayTableCache?.today === today) return dayTableCache.table;
  const days: Day[] = [];
  for (let d = today - EXPENSE_WINDOW_DAYS; d < today; d++) days.push(d);
  const build = (weight: (day: Day) => number): Float64Array => {
    const cumulative = new Float64Array(days.length);
    let total = 0;
    days.forEach((day, i) => {
      total += weight(day);
      cumulative[i] = total;
    });
    return cumulative;
  };
  const isPayday = (day: Day): boolean => {
    const { year, month, day: dom } = parts(day);
    const last = daysInMonth(year, month);
    return dom <= 2 || dom === 15 || dom === 16 || dom >= last - 1;
  };
  const table: DayTable = {
    days,
    cumulative: {
      leisure: build((day) => {
        const wd = weekday(day);
        return (wd === 0 || wd === 6 ? 1.7 : wd === 5 ? 1.4 : 1) * (isPayday(day) ? 1.2 : 1);
      }),
      shopping: build((day) => (isPayday(day) ? 2.2 : 1) * (weekday(day) === 6 ? 1.3 : 1)),
      neutral: build((day) => (weekday(day) === 0 ? 0.7 : 1)),
    },
  };
  dayTableCache = { today, table };
  return table;
}

function drawDay(table: DayTable, profile: DayProfile, rng: Rng): Day {
  const cumulative = table.cumulative[profile];
  const target = rng.next() * (cumulative[cumulative.length - 1] ?? 0);
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((cumulative[mid] ?? 0) > target) hi = mid;
    else lo = mid + 1;
  }
  return table.days[lo] ?? table.days[0] ?? 0;
}

function drawHour(category: ExpenseCategory, rng: Rng): number {
  switch (category) {
    case "food": {
      const meal = rng.next(); // breakfast, lunch or dinner
      return meal < 0.2 ? rng.int(7, 9) : meal < 0.65 ? rng.int(12, 14) : rng.int(19, 22);
    }
    case "entertainment":
      return rng.int(15, 23);
    case "transport":
      return rng.int(6, 22);
    default:
      return rng.int(9, 20);
  }
}

export function generateExpenses(
  input: HouseholdInput,
  profile: CountryProfile,
  rng: Rng,
  stress: number,
  income: number,
  householdSize: number,
  renter: boolean,
): { expenses: ExpenseRow[]; foodSpikeDay: Day | null } {
  const { today } = input;
  const table = dayTable(today);
  const merchants = profile.merchants;
  const step = profile.priceStepCents;
  const unit = profile.priceScale * 100; // cents per US dollar of purchasing power
  const spendLevel = Math.pow(income / (profile.medianMonthlyIncome * 100), 0.6) * (0.6 + 0.55 * stress);
  const expenses: ExpenseRow[] = [];
  const push = (category: ExpenseCategory, merchantName: string, mcc: string, day: Day, amount: number, hour?: number): void => {
    expenses.push({
      userId: input.userId,
      country: input.country,
      amount: Math.max(step, roundCents(amount, step)),
      currency: profile.currency,
      mcc,
      category,
      merchant: merchantName,
      occurredAt: localInstant(profile, day, hour ?? drawHour(category, rng), rng.int(0, 59), rng.int(0, 59), today),
    });
  };
  const monthly = (category: ExpenseCategory, merchant: { name: string; mcc: string }, amount: () => number): void => {
    const dueDay = rng.int(1, 28);
    for (let offset = -3; offset <= 0; offset++) {
      const day = dayInMonth(today, offset, dueDay);
      if (day >= today - EXPENSE_WINDOW_DAYS && day < today) push(category, merchant.name, merchant.mcc, day, amount());
    }
  };

  // Bills: the same merchant every month, amounts that barely move.
  const utility = rng.pick(merchants.utilities);
  const utilityBase = 30 * unit * (1 + 0.15 * (householdSize - 1)) * rng.logNormal(0.25);
  monthly("utilities", utility, () => utilityBase * rng.logNormal(0.12));
  const mobile = rng.pick(merchants.telecom.filter((m) => m.mcc === "4814"));
  const mobilePlan = 18 * unit * rng.logNormal(0.25);
  monthly("telecom", mobile, () => mobilePlan);
  if (rng.chance(0.5)) {
    const broadband = rng.pick(merchants.telecom);
    const plan = 28 * unit * rng.logNormal(0.2);
    monthly("telecom", broadband, () => plan);
  }
  if (renter) {
    const landlord = merchants.housing.find((m) => m.mcc === "6513") ?? rng.pick(merchants.housing);
    const rent = income * rng.float(0.18, 0.32);
    monthly("housing", landlord, () => rent);
  }
  if (householdSize >= 3 && rng.chance(0.3)) {
    const school = merchants.education.find((m) => m.mcc === "8211") ?? rng.pick(merchants.education);
    const fee = 90 * unit * rng.logNormal(0.4) * spendLevel;
    monthly("education", school, () => fee);
  }

  // A food spike: a run of deliveries and dinners out in the last two weeks.
  let foodSpikeDay: Day | null = null;
  const spikes: (() => void)[] = [];
  if (rng.chance(0.08 + 0.2 * stress) || input.forceFoodSpike === true) {
    foodSpikeDay = today - rng.int(3, 14);
    const spikeStart = foodSpikeDay;
    const extra = rng.int(4, 8);
    spikes.push(() => {
      for (let i = 0; i < extra; i++) {
        const merchant = rng.pick(merchants.food);
        const day = Math.min(today - 1, spikeStart + rng.int(0, 6));
        push("food", merchant.name, merchant.mcc, day, PURCHASE_SIZE.food[0] * unit * spendLevel * rng.float(2.5, 5));
      }
    });
  }
  if (rng.chance(0.05)) {
    const hospital = merchants.health.find((m) => m.mcc === "8062") ?? rng.pick(merchants.health);
    spikes.push(() => {
      push("health", hospital.name, hospital.mcc, drawDay(table, "neutral", rng), PURCHASE_SIZE.health[0] * unit * rng.float(8, 30));
    });
  }

  const target = rng.int(30, 80);
  const purchases = Math.max(12, target - expenses.length - (foodSpikeDay === null ? 0 : 6));
  // Each household shops at a few favourite places per category.
  const favourites = new Map<ExpenseCategory, { name: string; mcc: string }[]>();
  for (let i = 0; i < purchases; i++) {
    const category = PURCHASE_MIX.pick(rng);
    let places = favourites.get(category);
    if (!places) {
      places = rng.sample(merchants[category], rng.int(2, 3));
      favourites.set(category, places);
    }
    const merchant = rng.pick(places);
    const [median, sigma] = PURCHASE_SIZE[category];
    const fuel = merchant.mcc === "5541" ? 4 : 1;
    push(category, merchant.name, merchant.mcc, drawDay(table, CATEGORY_DAYS[category], rng), median * fuel * unit * spendLevel * rng.logNormal(sigma));
  }
  for (const spike of spikes) spike();
  expenses.sort((a, b) => a.occurredAt - b.occurredAt);
  return { expenses, foodSpikeDay };
}
