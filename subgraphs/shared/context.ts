import type { FieldAccess } from "../../platform/auth/field-access.ts";
import type { Viewer } from "../../platform/auth/viewer.ts";

export type { Viewer };

/**
 * What a subgraph's resolvers receive, made fresh for each request: the verified viewer, the
 * subgraph's service (its queries filter by the viewer's tenant), the DataLoaders over it, and
 * its mutations. Resolvers pass arguments in and call one of them.
 */
export interface SubgraphContext<Service, Loaders, Mutations = undefined> {
  requestId: string;
  /** From the verified token; every subgraph request carries one. */
  viewer: Viewer;
  service: Service;
  /** Batched per-parent reads: only DataLoaders and PerUserLoaders. */
  loaders: Loaders;
  /** Data changes (`Mutation.*`); undefined in a subgraph without mutations. */
  mutations: Mutations;
  /** Field-level scope checks and what was returned, per consent (the receipt). */
  access: FieldAccess;
}
