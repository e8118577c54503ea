/**
 * One JSON text for an answer many requests share. The requests that shared one execution
 * (scopes/scoped-gateway.ts) are handed the same shaped result, and its data is marked here as
 * final: nobody changes it from then on. Apollo Server then writes each request's answer with
 * `stringifyResult`, which encodes a final data object once and reuses the text for every
 * other request that has it; twenty dashboards polling one page made twenty copies of the page
 * and encoded each of them.
 */
import type { FormattedExecutionResult } from "graphql";

/** Final data objects, with their JSON once one answer has been written. */
const finalData = new WeakMap<object, string | undefined>();

/** Marks `data` as final: it is never changed again, so its JSON can be made once. */
export function markFinal(data: object): void {
  if (!finalData.has(data)) finalData.set(data, undefined);
}

/**
 * Apollo Server's `stringifyResult`: what its default (prettyJSONStringify, `JSON.stringify` and
 * a line break) writes, byte for byte, with a final data object's JSON made only once.
 */
export function stringifyResult(result: FormattedExecutionResult): string {
  const { data } = result;
  if (data === null || data === undefined || !finalData.has(data)) return `${JSON.stringify(result)}\n`;
  let json = finalData.get(data);
  if (json === undefined) finalData.set(data, (json = JSON.stringify(data)));
  // JSON.stringify's own walk of the top level: keys in order, those whose value has no JSON left out.
  const members: string[] = [];
  for (const [key, value] of Object.entries(result)) {
    const encoded = key === "data" ? json : (JSON.stringify(value) as string | undefined);
    if (encoded !== undefined) members.push(`${JSON.stringify(key)}:${encoded}`);
  }
  return `{${members.join(",")}}\n`;
}
