// What the prevention variables are made of (variables.ts is the catalogue): a definition, the
// context each one is computed from, and the helpers and wording the families share.
import type { Household } from "../household/household.ts";
import type { Diagnosis } from "../diagnosis/diagnose.ts";
import { type Aggregates, EXPENSE_CATEGORIES } from "./aggregates.ts";

export type VariableFamily = "expenses" | "payments" | "debts" | "income" | "goals" | "coach" | "wellness" | "ratios" | "trends";

export interface VariableDefinition {
  /** Position in the catalogue (and in the value array). */
  index: number;
  name: string;
  family: VariableFamily;
  unit: string;
  /** What it measures, precisely enough to compute it by hand. */
  description: string;
}

/** What every variable of one household is computed from. */
export interface VariableContext {
  a: Aggregates;
  household: Household;
  diagnosis: Diagnosis;
}

export type Compute = (context: VariableContext) => number;

/** Adds a variable at the catalogue's end: the order of the calls is the catalogue's order. */
export type Define = (name: string, family: VariableFamily, unit: string, description: string, compute: Compute) => void;

export const NaN_ = Number.NaN;
export const ratio = (numerator: number, denominator: number): number => (denominator === 0 ? NaN_ : numerator / denominator);
export const change = (now: number, before: number): number => (before === 0 ? NaN_ : (now - before) / before);
/** Minor units to major units. */
export const major = (minor: number): number => minor / 100;

export function groupLabel(group: string): string {
  if (group === "total") return "all spending";
  if (group === "fixed") return "fixed bills (rent, utilities, telecom, school fees; by MCC)";
  if (group === "discretionary") return "day-to-day spending (everything but fixed bills)";
  if (group === "other") return `spending in categories outside the catalogue (${EXPENSE_CATEGORIES.join(", ")})`;
  return `${group} spending`;
}

export const windowText = (days: number): string => `the last ${days} days (today and the ${days - 1} days before)`;
export const previousText = (days: number): string => `the ${days} days before that`;
