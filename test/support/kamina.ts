// Starts the real subgraphs and gateway on free loopback ports against a given database.
import { startKamina, type RunningKamina } from "../../runtime/app.ts";
import { loadConfig, SUBGRAPH_NAMES } from "../../platform/config/config.ts";
import { createLogger } from "../../platform/logger.ts";
import type { DatabaseTarget } from "../../platform/database/database.ts";

export async function startTestKamina(database: DatabaseTarget, env: Record<string, string> = {}): Promise<RunningKamina & { graphqlUrl: string }> {
  const freePorts = Object.fromEntries(SUBGRAPH_NAMES.map((name) => [`SUBGRAPH_${name.toUpperCase()}_PORT`, "0"]));
  const config = loadConfig({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent", SUBGRAPH_TIMEOUT_MS: "10000", DAILY_BATCH_HOUR: "off", ...freePorts, ...env });
  const kamina = await startKamina({
    config,
    logger: createLogger(process.env.TEST_LOG_LEVEL ?? "silent"),
    database,
    migrate: false,
    seedIfEmpty: false,
    countStatements: true,
  });
  return Object.assign(kamina, { graphqlUrl: kamina.gateway!.url });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface GraphQLResponse<Data = Record<string, any>> {
  status: number;
  body: { data?: Data | null; errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[] };
}

/** Posts an operation the way a partner's HTTP client would. */
export async function postGraphQL<Data = Record<string, any>>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<Data>> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as GraphQLResponse<Data>["body"] };
}

/** Statements each subgraph sent while `run` ran. */
export async function countStatements(kamina: RunningKamina, run: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = Object.fromEntries(Object.entries(kamina.subgraphs).map(([name, subgraph]) => [name, subgraph.statementCount()]));
  await run();
  return Object.fromEntries(Object.entries(kamina.subgraphs).map(([name, subgraph]) => [name, subgraph.statementCount() - (before[name] ?? 0)]));
}
