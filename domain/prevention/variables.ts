// The prevention variables: more than a thousand named numbers per person, each generated from
// a documented definition (family x group x window x statistic). docs/prevention-variables.md
// lists them all; `npm run docs:prevention` regenerates it from this catalogue.
//
// A variable is undefined (NaN here, null outside) when its definition has no answer, e.g. a
// mean over no transactions or a change against a window with nothing in it. Money is in
// major units (e.g. dollars, pesos) of the household's country currency.
import { canonicalHousehold, type Household } from "../household/household.ts";
import type { Diagnosis } from "../diagnosis/diagnose.ts";
import { aggregate } from "./aggregates.ts";
import type { Compute, VariableContext, VariableDefinition } from "./variable-catalogue.ts";
import { defineMoneyVariables } from "./variables-money.ts";
import { defineSignalVariables } from "./variables-signals.ts";

export type { VariableDefinition, VariableFamily } from "./variable-catalogue.ts";

const definitions: VariableDefinition[] = [];
const computes: Compute[] = [];

// The families in catalogue order: a variable's index is its place in this sequence of calls.
for (const defineFamily of [defineMoneyVariables, defineSignalVariables]) {
  defineFamily((name, family, unit, description, compute) => {
    definitions.push({ index: definitions.length, name, family, unit, description });
    computes.push(compute);
  });
}

export const VARIABLES: readonly VariableDefinition[] = definitions;
export const VARIABLE_INDEX: ReadonlyMap<string, number> = new Map(definitions.map((definition) => [definition.name, definition.index]));

if (VARIABLE_INDEX.size !== VARIABLES.length) throw new Error("prevention variable names are not unique");

/**
 * Every variable for one household, in catalogue order; NaN where a variable is undefined.
 * `diagnosis` is the household's diagnosis of the same day (its day is the variables' today).
 */
export function computeVariables(input: Household, diagnosis: Diagnosis): Float64Array {
  const household = canonicalHousehold(input);
  const context: VariableContext = { a: aggregate(household, diagnosis.day), household, diagnosis };
  const values = new Float64Array(computes.length);
  for (let i = 0; i < computes.length; i++) values[i] = computes[i]!(context);
  return values;
}

/** The value of one named variable, null when undefined. Throws for an unknown name. */
export function variable(values: Float64Array, name: string): number | null {
  const index = VARIABLE_INDEX.get(name);
  if (index === undefined) throw new RangeError(`unknown prevention variable ${name}`);
  const value = values[index]!;
  return Number.isNaN(value) ? null : value;
}
