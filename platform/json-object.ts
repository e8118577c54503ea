/** A JSON object (not null, not an array), such as a parsed body or a response extension, to read by key. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
