import type { SubgraphName } from "../platform/config/config.ts";
import { alerts } from "./alerts/index.ts";
import { coach } from "./coach/index.ts";
import { debts } from "./debts/index.ts";
import { expenses } from "./expenses/index.ts";
import type { SubgraphDefinition } from "./shared/subgraph-server.ts";
import { wellness } from "./wellness/index.ts";

// Each subgraph has its own service, loader and mutation types; the registry only passes them through to startSubgraph.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnySubgraph = SubgraphDefinition<any, any, any>;

/** Every subgraph, by name; the order is the composition order. */
export const SUBGRAPHS: Record<SubgraphName, AnySubgraph> = { wellness, debts, expenses, coach, alerts };
