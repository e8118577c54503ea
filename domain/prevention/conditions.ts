// Conditions over the prevention variables, as the rule files write them (the alert rules in
// rules.json, the cohort tags in domain/cohorts/cohorts.json): their schema, and a compiler that
// resolves every variable name when the file loads (an unknown variable is a start-up error, not
// a silent false) into a predicate over one person's variable values.
//
// Conditions: { "all": [...] } | { "any": [...] } | { "not": c } | a comparison
//   { "var": name, "op": ">" | ">=" | "<" | "<=" | "==" | "!=", "value": number }
//   { "var": name, "op": ..., "ref": other variable, "times": number (default 1) }
// A comparison with an undefined variable is false (so `not` of it is true).
import { z } from "zod";
import { VARIABLE_INDEX } from "./variables.ts";

const OPERATORS = [">", ">=", "<", "<=", "==", "!="] as const;
type Operator = (typeof OPERATORS)[number];

export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | { var: string; op: Operator; value: number }
  | { var: string; op: Operator; ref: string; times?: number };

export const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.strictObject({ all: z.array(conditionSchema).min(1) }),
    z.strictObject({ any: z.array(conditionSchema).min(1) }),
    z.strictObject({ not: conditionSchema }),
    z.strictObject({ var: z.string(), op: z.enum(OPERATORS), value: z.number() }),
    z.strictObject({ var: z.string(), op: z.enum(OPERATORS), ref: z.string(), times: z.number().optional() }),
  ]),
);

/**
 * What a rule's thresholds rest on: a published source it names, or our own calibration, said
 * plainly (issue 21). Every alert rule and cohort tag has one; the generated docs list them.
 */
export const basisSchema = z.strictObject({
  kind: z.enum(["published", "calibration"]),
  note: z.string().min(20),
});

export type Predicate = (values: Float64Array) => boolean;

/** The index of a variable in a person's values; `where` names the rule for the error. */
export function variableIndexOf(name: string, where: string): number {
  const index = VARIABLE_INDEX.get(name);
  if (index === undefined) throw new Error(`${where}: unknown variable "${name}"`);
  return index;
}

function compare(op: Operator, left: number, right: number): boolean {
  if (Number.isNaN(left) || Number.isNaN(right)) return false;
  switch (op) {
    case ">":
      return left > right;
    case ">=":
      return left >= right;
    case "<":
      return left < right;
    case "<=":
      return left <= right;
    case "==":
      return left === right;
    case "!=":
      return left !== right;
  }
}

/** Compiles a condition into a predicate; throws on a variable the catalogue does not have. */
export function compileCondition(node: Condition, where: string): Predicate {
  if ("all" in node) {
    const parts = node.all.map((part) => compileCondition(part, where));
    return (values) => parts.every((part) => part(values));
  }
  if ("any" in node) {
    const parts = node.any.map((part) => compileCondition(part, where));
    return (values) => parts.some((part) => part(values));
  }
  if ("not" in node) {
    const inner = compileCondition(node.not, where);
    return (values) => !inner(values);
  }
  const left = variableIndexOf(node.var, where);
  if ("ref" in node) {
    const right = variableIndexOf(node.ref, where);
    const times = node.times ?? 1;
    return (values) => compare(node.op, values[left]!, values[right]! * times);
  }
  const value = node.value;
  return (values) => compare(node.op, values[left]!, value);
}

/** The variables a condition reads, in the order it names them, each once. */
export function variablesOf(node: Condition, into: string[] = []): string[] {
  if ("all" in node) for (const part of node.all) variablesOf(part, into);
  else if ("any" in node) for (const part of node.any) variablesOf(part, into);
  else if ("not" in node) variablesOf(node.not, into);
  else {
    if (!into.includes(node.var)) into.push(node.var);
    if ("ref" in node && !into.includes(node.ref)) into.push(node.ref);
  }
  return into;
}
