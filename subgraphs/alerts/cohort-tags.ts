// A person's stored cohort tags as User.cohorts shows them: in the rule file's order, with titles.
import { cohortTitle, inFileOrder } from "../../domain/cohorts/cohorts.ts";
import type { CohortTagRow } from "./service.ts";

export function inCohortOrder(rows: readonly CohortTagRow[]): { tag: string; title: string; since: Date }[] {
  return inFileOrder(rows).map((row) => ({ tag: row.tag, title: cohortTitle(row.tag)!, since: row.since }));
}
