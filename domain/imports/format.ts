/** The apps a person's expense history can be imported from. */
export const IMPORT_FORMATS = ["monefy", "ynab", "goodbudget", "mint"] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];
