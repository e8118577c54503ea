// The brief's JSON for a diagnosis (GET /v1/diagnosis/latest, POST /v1/diagnosis/run):
//   { user_id, score, band: "amber", trend_30d, factors: [{ name, weight, value }], next_review_at: "2026-06-08" }
// POST /v1/diagnosis/run also returns the action plan, as `action_plan`.

export interface DiagnosisJson {
  user_id: string;
  score: number;
  band: "green" | "amber" | "red";
  trend_30d: number;
  factors: { name: string; weight: number; value: number }[];
  next_review_at: string;
  action_plan?: { code: string; title: string; expected_score_delta: number }[];
}

/**
 * A stored snapshot (or the GraphQL `WellnessIndex` of a user, with the user's id): dates as
 * `Date` or as the `YYYY-MM-DD` / ISO strings GraphQL serialises them to.
 */
export interface DiagnosisLike {
  userId: string;
  score: number;
  band: string;
  trend30d: number;
  factors: unknown;
  actionPlan?: unknown;
  nextReviewAt: Date | string;
}

function isoDate(value: Date | string): string {
  return (typeof value === "string" ? value : value.toISOString()).slice(0, 10);
}

function records(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter((item): item is Record<string, unknown> => item !== null && typeof item === "object") : [];
}

export function toDiagnosisJson(snapshot: DiagnosisLike, options: { actionPlan?: boolean } = {}): DiagnosisJson {
  const json: DiagnosisJson = {
    user_id: snapshot.userId,
    score: snapshot.score,
    band: snapshot.band.toLowerCase() as DiagnosisJson["band"],
    trend_30d: snapshot.trend30d,
    factors: records(snapshot.factors).map((factor) => ({
      name: String(factor.name),
      weight: Number(factor.weight),
      value: Number(factor.value),
    })),
    next_review_at: isoDate(snapshot.nextReviewAt),
  };
  if (options.actionPlan) {
    json.action_plan = records(snapshot.actionPlan).map((step) => ({
      code: String(step.code),
      title: String(step.title),
      expected_score_delta: Number(step.expectedScoreDelta),
    }));
  }
  return json;
}
