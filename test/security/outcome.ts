// What an attack saw, and how an HTTP answer is read into it.

/** What an attack saw: an HTTP answer, a closed socket, an exit code; `code` is the error code shown, null when none. */
export interface Outcome {
  status: number;
  code: string | null;
  /** The answer's body, parsed when JSON. */
  body?: unknown;
  headers?: Headers;
  /** Anything else worth printing beside a mismatch. */
  note?: string;
}

/** Reads an HTTP answer into an Outcome: the error code of the REST envelope or of GraphQL's first error. */
export async function toOutcome(response: Response): Promise<Outcome> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text === "" ? null : JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  const record = (body ?? {}) as { code?: unknown; errors?: { extensions?: { code?: unknown } }[] };
  const code = typeof record.code === "string" ? record.code : Array.isArray(record.errors) ? String(record.errors[0]?.extensions?.code ?? "") || null : null;
  return { status: response.status, code, body, headers: response.headers };
}

