// What every part of a household's generation shares: who and when (the input), the time
// windows, how row ids are formed and how local times of day become instants.
import { DAY_MS, type Day, dayStartMs } from "./calendar.ts";
import type { CountryCode, CountryProfile } from "./catalogue.ts";
import { permute32 } from "./prng.ts";

/** Transactions cover the last 90 days; debt payments the last six months. */
export const EXPENSE_WINDOW_DAYS = 90;
export const PAYMENT_WINDOW_DAYS = 183;

export interface HouseholdInput {
  /** Position of the user in the generation order; makes ids unique. */
  index: number;
  /** Seed-derived key mixed into row ids. */
  idKey: number;
  userId: string;
  country: CountryCode;
  today: Day;
  /** Key for the national-id digest (an HMAC, so the digest cannot be reversed by lookup). */
  digestKey: string;
  /** Always give the household a recent food-spending spike (the demo user's alert). */
  forceFoodSpike?: boolean;
}

/** What the generator knows about a household beyond its rows; the diagnosis reads it. */

/** `prefix_` + 16 hex digits, unique per (user index, ordinal) and opaque. */
export function rowId(prefix: string, input: Pick<HouseholdInput, "index" | "idKey">, ordinal: number): string {
  const high = permute32((input.index + input.idKey) >>> 0);
  const low = permute32((high ^ Math.imul(ordinal + 1, 0x9e3779b1)) >>> 0);
  // The high word alone is unique per user; the ordinal byte keeps rows of one user apart.
  return `${prefix}_${hex8(high)}${hex8(((low & 0xffffff00) | (ordinal & 0xff)) >>> 0)}`;
}

function hex8(value: number): string {
  return value.toString(16).padStart(8, "0");
}

export const clamp = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);

/** Local time of day on a local calendar day, as a UTC instant strictly before `today`. */
export function localInstant(profile: CountryProfile, day: Day, hour: number, minute: number, second: number, today: Day): number {
  let ms = dayStartMs(day) + ((hour - profile.utcOffsetHours) * 3600 + minute * 60 + second) * 1000;
  const limit = dayStartMs(today);
  while (ms >= limit) ms -= DAY_MS;
  return ms;
}
