// Kami coach sessions: intent and sentiment (no text), with a Spanish transcript kept
// apart for a few of them.
import { DAY_MS } from "./calendar.ts";
import { COACH_INTENTS, type CoachIntent, type CountryProfile } from "./catalogue.ts";
import { coachTranscript } from "./coach-texts.ts";
import { clamp, type HouseholdInput, localInstant, rowId } from "./household-context.ts";
import type { Rng } from "./prng.ts";
import type { CoachSessionRow, TranscriptRow } from "./rows.ts";

export function generateCoach(
  input: HouseholdInput,
  profile: CountryProfile,
  rng: Rng,
  stress: number,
  weights: Record<CoachIntent, number>,
  createdAt: number,
): { sessions: CoachSessionRow[]; transcripts: TranscriptRow[] } {
  const { today } = input;
  const count = clamp(Math.round(rng.float(0, 2 + 6 * stress)), 0, 8);
  const sessions: CoachSessionRow[] = [];
  const transcripts: TranscriptRow[] = [];
  const earliest = Math.max(today - 180, Math.ceil(createdAt / DAY_MS));
  const intents = COACH_INTENTS.map((intent) => [intent, weights[intent]] as const);
  const starts: number[] = [];
  for (let i = 0; i < count; i++) {
    const day = earliest + rng.int(0, Math.max(0, today - 1 - earliest));
    starts.push(localInstant(profile, day, rng.int(7, 23), rng.int(0, 59), rng.int(0, 59), today));
  }
  starts.sort((a, b) => a - b);
  starts.forEach((startedAt, i) => {
    const intent = rng.weighted(intents);
    const minutes = rng.int(2, 25);
    const bias = intent === "savings_plan" ? 0.25 : intent === "budgeting_help" ? 0.1 : intent === "payment_reminder" ? 0.05 : -0.25;
    const sentiment = Math.round(clamp(0.45 - 0.9 * stress + bias + rng.normal(0, 0.2), -1, 1) * 1000) / 1000;
    const id = rowId("cs", input, i);
    sessions.push({
      id,
      userId: input.userId,
      country: input.country,
      startedAt,
      endedAt: startedAt + minutes * 60_000 + rng.int(0, 59) * 1000,
      intent,
      sentiment,
      messageCount: clamp(Math.round(minutes * rng.float(1, 2)), 2, 60),
    });
    if (rng.chance(0.12)) transcripts.push({ sessionId: id, country: input.country, text: coachTranscript(intent, rng) });
  });
  return { sessions, transcripts };
}
