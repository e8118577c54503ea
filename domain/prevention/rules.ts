// Prevention rules are data (rules.json): each names an alert type, a condition over the
// prevention variables (conditions.ts), a severity, a risk band, contributing factors, a
// suggested action and a cool-down. This module validates the file against the variable
// catalogue when it loads and evaluates the rules.
import { z } from "zod";
import type { Severity } from "../../generated/prisma/enums.ts";
import type { Band } from "../diagnosis/model.ts";
import { basisSchema, compileCondition, conditionSchema, type Predicate, variableIndexOf } from "./conditions.ts";
import rulesFile from "./rules.json" with { type: "json" };
import { VARIABLE_INDEX } from "./variables.ts";

const SEVERITIES = ["LOW", "MEDIUM", "HIGH", "CRITICAL"] as const satisfies readonly Severity[];
const BANDS = ["green", "amber", "red"] as const;

const code = z.string().regex(/^[a-z][a-z0-9_]*$/, "lower_snake_case");

const escalationSchema = z.strictObject({
  description: z.string().min(1),
  when: conditionSchema,
  severity: z.enum(SEVERITIES),
  risk_band: z.enum(BANDS),
  suggested_action: code,
});

const ruleSchema = z.strictObject({
  id: z.string().regex(/^pv_[a-z0-9_]+_v\d+$/, "pv_<name>_v<version>"),
  type: code,
  description: z.string().min(1),
  basis: basisSchema,
  when: conditionSchema,
  severity: z.enum(SEVERITIES),
  risk_band: z.enum(BANDS),
  contributing_factors: z.array(code).min(1),
  suggested_action: code,
  escalations: z.array(escalationSchema),
  evidence: z.array(z.string()),
  cool_down_days: z.number().int().min(0).max(365),
});

const ruleFileSchema = z.strictObject({
  version: z.string().min(1),
  policy: z.strictObject({ red_band_action: code, max_contributing_factors: z.number().int().min(1).max(20) }),
  rules: z.array(ruleSchema).min(1),
});

export type RuleFile = z.infer<typeof ruleFileSchema>;
export type RuleDefinition = z.infer<typeof ruleSchema>;

export interface Rule {
  definition: RuleDefinition;
  holds: Predicate;
  escalations: { definition: z.infer<typeof escalationSchema>; holds: Predicate }[];
}

export interface RuleSet {
  version: string;
  redBandAction: string;
  maxContributingFactors: number;
  rules: Rule[];
  /** The longest cool-down, in days: how far back evaluation looks for earlier alerts. */
  maxCoolDownDays: number;
}

/** Validates a rule file (shape, variable names, unique ids and types) and compiles it. */
export function parseRules(json: unknown): RuleSet {
  const file = ruleFileSchema.parse(json);
  const ids = new Set<string>();
  const types = new Set<string>();
  const rules = file.rules.map((definition) => {
    if (ids.has(definition.id)) throw new Error(`duplicate rule id ${definition.id}`);
    if (types.has(definition.type)) throw new Error(`two rules raise ${definition.type}; one rule per alert type (its cool-down is per type)`);
    ids.add(definition.id);
    types.add(definition.type);
    for (const name of definition.evidence) variableIndexOf(name, `${definition.id} evidence`);
    return {
      definition,
      holds: compileCondition(definition.when, definition.id),
      escalations: definition.escalations.map((escalation, i) => ({ definition: escalation, holds: compileCondition(escalation.when, `${definition.id} escalation ${i}`) })),
    };
  });
  return {
    version: file.version,
    redBandAction: file.policy.red_band_action,
    maxContributingFactors: file.policy.max_contributing_factors,
    rules,
    maxCoolDownDays: Math.max(...rules.map((rule) => rule.definition.cool_down_days)),
  };
}

export const RULES: RuleSet = parseRules(rulesFile);

const SEVERITY_RANK: Record<Severity, number> = { LOW: 0, MEDIUM: 1, HIGH: 2, CRITICAL: 3 };
const BAND_RANK: Record<Band, number> = { GREEN: 0, AMBER: 1, RED: 2 };

/** An alert a rule would raise for one person, before cool-downs. */
export interface Firing {
  ruleId: string;
  type: string;
  severity: Severity;
  riskBand: Band;
  contributingFactors: string[];
  suggestedAction: string;
  coolDownDays: number;
  /** The rule's evidence variables and their values (null when undefined). */
  evidence: Record<string, number | null>;
}

/**
 * The alerts the rules raise for one person's variables. The risk band is the worse of the
 * rule's (or its escalation's) and the person's wellness band. When that makes it RED and no
 * escalation chose an action, the outreach is the policy's soft one. Contributing factors are
 * the rule's own, then the types of the other rules that hold, most severe first.
 */
export function evaluateRules(ruleSet: RuleSet, values: Float64Array, wellnessBand: Band): Firing[] {
  const held: { rule: Rule; severity: Severity; band: Band; action: string | undefined; order: number }[] = [];
  ruleSet.rules.forEach((rule, order) => {
    if (!rule.holds(values)) return;
    const escalation = rule.escalations.find((candidate) => candidate.holds(values))?.definition;
    const band = (escalation?.risk_band ?? rule.definition.risk_band).toUpperCase() as Band;
    held.push({ rule, severity: escalation?.severity ?? rule.definition.severity, band, action: escalation?.suggested_action, order });
  });
  const bySeverity = [...held].sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || a.order - b.order);
  return held.map(({ rule, severity, band, action }) => {
    const riskBand = BAND_RANK[wellnessBand] > BAND_RANK[band] ? wellnessBand : band;
    const suggestedAction = action ?? (riskBand === "RED" && band !== "RED" ? ruleSet.redBandAction : rule.definition.suggested_action);
    const factors = [...rule.definition.contributing_factors];
    for (const other of bySeverity) if (other.rule !== rule && !factors.includes(other.rule.definition.type)) factors.push(other.rule.definition.type);
    const evidence: Record<string, number | null> = {};
    for (const name of rule.definition.evidence) {
      const value = values[VARIABLE_INDEX.get(name)!]!;
      evidence[name] = Number.isNaN(value) ? null : Math.round(value * 10_000) / 10_000;
    }
    return {
      ruleId: rule.definition.id,
      type: rule.definition.type,
      severity,
      riskBand,
      contributingFactors: factors.slice(0, ruleSet.maxContributingFactors),
      suggestedAction,
      coolDownDays: rule.definition.cool_down_days,
      evidence,
    };
  });
}
