// Who the synthetic users are: pseudonymous ids, countries, and the assembly of one user's
// finances, diagnosis history, alerts and consent into a `Household`. Everything about
// user `index` comes from its own PRNG stream, seeded by (seed, index).
import { type Day, DAY_MS, dayStartMs } from "./calendar.ts";
import { COUNTRIES, type CountryCode } from "./catalogue.ts";
import { COUNTRY_MIX } from "./country-profiles.ts";
import { diagnose } from "../../domain/diagnosis/diagnose.ts";
import { dailyScores } from "./daily-history.ts";
import { buildAlerts, historyWalk } from "./diagnosis.ts";
import { generateFinances } from "./household.ts";
import { type HouseholdInput, rowId } from "./household-context.ts";
import { hash32, Rng } from "./prng.ts";
import { CONSENT_TEXT_PUBLISHED_AT, CONSENT_TEXT_VERSION, DEMO_CLIENT_ID, USER_READ_SCOPES, USER_SCOPES } from "./reference-data.ts";
import type { ConsentEventRow, ConsentRow, Household, SnapshotRow, UserRow } from "./rows.ts";
import { engineSnapshots, householdFromFinances } from "./wellness-engine.ts";

/** Ids are `USR_` + 10000..99999999: five to eight digits. */
const ID_BASE = 10_000;
const ID_SPACE = 99_990_000n;
/** The brief's user, USR_42891, sits at index 0 of every population. */
export const DEMO_USER_INDEX = 0;
const DEMO_OFFSET = 42_891n - BigInt(ID_BASE);

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

export interface PopulationContext {
  seed: number;
  today: Day;
  idKey: number;
  digestKey: string;
  multiplier: bigint;
}

export function populationContext(seed: number, today: Day): PopulationContext {
  // An affine map i -> (m*i + c) mod M with gcd(m, M) = 1 is a bijection, so ids never
  // collide; c puts index 0 on the demo user, so no other user can be USR_42891.
  let multiplier = BigInt(hash32(seed, "user-ids")) % ID_SPACE;
  if (multiplier < 2n) multiplier += 2n;
  while (gcd(multiplier, ID_SPACE) !== 1n) multiplier++;
  return { seed, today, idKey: hash32(seed, "row-ids"), digestKey: `kamina-seed-national-id:${seed}`, multiplier };
}

export function userIdAt(context: PopulationContext, index: number): string {
  const n = (context.multiplier * BigInt(index) + DEMO_OFFSET) % ID_SPACE;
  return `USR_${Number(n) + ID_BASE}`;
}

function countryAt(index: number, rng: Rng): CountryCode {
  // Indexes 1-5 cover every tenant, so even a tiny population has all five countries.
  if (index >= 1 && index <= COUNTRIES.length) return COUNTRIES[index - 1] as CountryCode;
  return COUNTRY_MIX.pick(rng);
}

/** About half of the users granted the demo client a consent; the demo user is left to the flow. */
export function hasDemoConsent(context: PopulationContext, index: number): boolean {
  return index !== DEMO_USER_INDEX && (hash32(context.seed, index, "consent") & 1) === 1;
}

function consentFor(context: PopulationContext, index: number, user: UserRow, rng: Rng): { consent: ConsentRow; events: ConsentEventRow[] } {
  const { today } = context;
  const readScopes: readonly string[] = USER_READ_SCOPES.filter((s) => s !== "coach.transcripts.read");
  const scopes = rng.weighted<readonly string[]>([
    [readScopes, 0.7],
    [["wellness.read", "debts.read", "expenses.read"], 0.25],
    [USER_SCOPES, 0.05],
  ]);
  const earliest = Math.max(user.createdAt, CONSENT_TEXT_PUBLISHED_AT, dayStartMs(today - 200));
  const latest = dayStartMs(today) - 1000;
  const createdAt = earliest >= latest ? latest : earliest + rng.int(0, Math.floor((latest - earliest) / 1000)) * 1000;
  // Sandbox consents are authorised at once.
  const authorisedAt = createdAt + rng.int(1, 20) * 1000;
  const consent: ConsentRow = {
    id: rowId("cns", { index, idKey: context.idKey }, 0),
    clientId: DEMO_CLIENT_ID,
    userId: user.id,
    country: user.country,
    status: "AUTHORISED",
    scopes,
    consentTextVersion: CONSENT_TEXT_VERSION,
    createdAt,
    authorisedAt,
    expiresAt: createdAt + 365 * DAY_MS,
  };
  return {
    consent,
    events: [
      { consentId: consent.id, status: "AWAITING_AUTHORISATION", reason: null, at: createdAt },
      { consentId: consent.id, status: "AUTHORISED", reason: "sandbox_auto_authorise", at: authorisedAt },
    ],
  };
}

export function userRng(context: PopulationContext, index: number): Rng {
  return new Rng(hash32(context.seed, index));
}

export function householdInput(context: PopulationContext, index: number, country: CountryCode): HouseholdInput {
  return {
    index,
    idKey: context.idKey,
    userId: userIdAt(context, index),
    country,
    today: context.today,
    digestKey: context.digestKey,
  };
}

/** Builds one ordinary (non-demo) user. */
export function generateHousehold(context: PopulationContext, index: number): Household {
  const rng = userRng(context, index);
  const country = countryAt(index, rng);
  const input = householdInput(context, index, country);
  const finances = generateFinances(input, rng);
  // The real engine diagnoses the rows: today's snapshot is what runDiagnosis computes from them.
  const diagnosis = diagnose(householdFromFinances(input, finances), context.today);
  const now = diagnosis.values;
  // Eight normal draws once made per-user weights, which the engine does not have; they are
  // still taken so that the random stream, and with it every later row, stays as it was.
  for (let i = 0; i < 8; i++) rng.normal();
  const snapshots = engineSnapshots({
    ids: input,
    userId: input.userId,
    country,
    today: context.today,
    diagnosis,
    valuesAt: historyWalk(now, context.today, rng, finances.signals.stress, finances.signals.incomeDropDay),
    rng,
  });
  const latest = snapshots[snapshots.length - 1] as SnapshotRow;
  const alerts = buildAlerts(input, finances, input.userId, country, now, latest, context.today, rng);
  const user: UserRow = {
    id: input.userId,
    country,
    nationalIdDigest: finances.nationalIdDigest,
    householdSize: finances.householdSize,
    createdAt: finances.createdAt,
  };
  const consent = hasDemoConsent(context, index) ? consentFor(context, index, user, rng) : null;
  return {
    user,
    consent: consent?.consent ?? null,
    consentEvents: consent?.events ?? [],
    snapshots,
    // Its own random stream, so the daily points leave every other row as it was.
    dailyScores: dailyScores(snapshots, context.today, new Rng(hash32(context.seed, index, "daily"))),
    goals: finances.goals,
    debts: finances.debts,
    debtPayments: finances.debtPayments,
    expenses: finances.expenses,
    incomeStreams: finances.incomeStreams,
    coachSessions: finances.coachSessions,
    transcripts: finances.transcripts,
    alerts,
  };
}
