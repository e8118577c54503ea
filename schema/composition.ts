import { readFileSync } from "node:fs";
import { composeServices } from "@apollo/composition";
import { SUBGRAPH_NAMES } from "../platform/config/config.ts";
import { SUBGRAPHS } from "../subgraphs/index.ts";

export const SUPERGRAPH_PATH = new URL("./supergraph.graphql", import.meta.url);

/**
 * Composes the five subgraph SDLs into the supergraph. The URLs written into it are the
 * local defaults; the gateway routes by subgraph name with URLs from configuration.
 */
export function composeSupergraph(): string {
  const result = composeServices(
    SUBGRAPH_NAMES.map((name) => ({
      name,
      typeDefs: SUBGRAPHS[name].typeDefs,
      url: `http://${name}.subgraph.invalid/graphql`,
    })),
  );
  if (result.errors) {
    throw new Error(`Composition failed:\n${result.errors.map((error) => `  ${error.message}`).join("\n")}`);
  }
  return `${result.supergraphSdl.trimEnd()}\n`;
}

export function committedSupergraph(): string {
  return readFileSync(SUPERGRAPH_PATH, "utf8");
}
