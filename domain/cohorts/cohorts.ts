// Behavioural cohort tags are data (cohorts.json), like the prevention rules: each names a tag,
// a one-line definition, what its thresholds rest on, and a condition over the prevention
// variables, evaluated by the same compiler as the alert rules (domain/prevention/conditions.ts).
// A person carries every tag whose condition holds on the day's variables.
import { z } from "zod";
import { basisSchema, compileCondition, conditionSchema, type Predicate, variablesOf } from "../prevention/conditions.ts";
import cohortsFile from "./cohorts.json" with { type: "json" };

const tagSchema = z.strictObject({
  tag: z.string().regex(/^[a-z][a-z0-9_]*$/, "lower_snake_case").max(64),
  title: z.string().min(1),
  definition: z.string().min(1),
  basis: basisSchema,
  when: conditionSchema,
});

const cohortFileSchema = z.strictObject({
  version: z.string().min(1),
  tags: z.array(tagSchema).min(1),
});

export type CohortDefinition = z.infer<typeof tagSchema>;

export interface Cohort {
  definition: CohortDefinition;
  /** The variables the condition reads, in the order it names them. */
  variables: string[];
  holds: Predicate;
}

export interface CohortSet {
  version: string;
  cohorts: Cohort[];
}

/** Validates a cohort file (shape, variable names, unique tags) and compiles it. */
export function parseCohorts(json: unknown): CohortSet {
  const file = cohortFileSchema.parse(json);
  const seen = new Set<string>();
  const cohorts = file.tags.map((definition) => {
    if (seen.has(definition.tag)) throw new Error(`duplicate cohort tag ${definition.tag}`);
    seen.add(definition.tag);
    return { definition, variables: variablesOf(definition.when), holds: compileCondition(definition.when, `cohort ${definition.tag}`) };
  });
  return { version: file.version, cohorts };
}

export const COHORTS: CohortSet = parseCohorts(cohortsFile);

/** Every tag a cohort set knows, in file order. */
export const cohortTags = (set: CohortSet = COHORTS): string[] => set.cohorts.map((cohort) => cohort.definition.tag);

const POSITION = new Map(COHORTS.cohorts.map((cohort, i) => [cohort.definition.tag, i]));

/**
 * Stored tags as they are shown (GraphQL, REST, exports): in the order the rule file lists them.
 * A tag the current file no longer defines (left by an older file until the person's next
 * evaluation) is dropped.
 */
export function inFileOrder<T extends { tag: string }>(rows: readonly T[]): T[] {
  return rows.filter((row) => POSITION.has(row.tag)).sort((a, b) => POSITION.get(a.tag)! - POSITION.get(b.tag)!);
}

/** A tag's title, for a tag the rule file defines. */
export function cohortTitle(tag: string): string | undefined {
  return COHORTS.cohorts[POSITION.get(tag) ?? -1]?.definition.title;
}

/** The tags whose conditions hold on one person's variables, in file order. */
export function cohortsOf(values: Float64Array, set: CohortSet = COHORTS): string[] {
  return set.cohorts.filter((cohort) => cohort.holds(values)).map((cohort) => cohort.definition.tag);
}
