import type { Viewer } from "./auth/viewer.ts";

export type { Viewer };

export interface SubgraphContext<Loaders> {
  requestId: string;
  /** From the verified token; every subgraph request carries one. */
  viewer: Viewer;
  loaders: Loaders;
}
