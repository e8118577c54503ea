// Which of our categories, and which MCC, an imported expense gets: the data is category-map.json,
// checked here once when the module loads so a typo in it fails at start, not mid-import.
import { z } from "zod";
import { EXPENSE_CATEGORIES } from "../prevention/aggregates.ts";
import mapFile from "./category-map.json" with { type: "json" };
import { IMPORT_FORMATS, type ImportFormat } from "./format.ts";

export const IMPORT_CATEGORIES = [...EXPENSE_CATEGORIES, "other"] as const;
export type ImportCategory = (typeof IMPORT_CATEGORIES)[number];

const mcc = z.string().regex(/^\d{4}$/, "an MCC is four digits");
const category = z.enum(IMPORT_CATEGORIES);
const mapSchema = z.object({
  categories: z.record(category, mcc).refine((value) => IMPORT_CATEGORIES.every((name) => name in value), "every category needs its MCC"),
  sources: z.record(
    z.enum(IMPORT_FORMATS),
    z.record(z.string().regex(/^\S(.*\S)?$/, "keys are trimmed").refine((key) => key === key.toLowerCase(), "keys are lower case"), z.strictObject({ category, mcc: mcc.optional() })),
  ),
});

const MAP = mapSchema.parse(mapFile);

export interface MappedCategory {
  category: ImportCategory;
  mcc: string;
  /** False when the source's category is not in the map (it became `other`). */
  known: boolean;
}

/** Our category and MCC for a source category: the first of `names` the map knows (a category, then its group), else `other`. */
export function mapCategory(format: ImportFormat, ...names: string[]): MappedCategory {
  const table = MAP.sources[format] ?? {};
  for (const name of names) {
    const entry = table[name.trim().replace(/\s+/g, " ").toLowerCase()];
    if (entry) return { category: entry.category, mcc: entry.mcc ?? MAP.categories[entry.category], known: true };
  }
  return { category: "other", mcc: MAP.categories.other, known: false };
}
