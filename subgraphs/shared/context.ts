import type { FieldAccess } from "../../platform/auth/field-access.ts";
import type { Viewer } from "../../platform/auth/viewer.ts";

export type { Viewer };

export interface SubgraphContext<Loaders> {
  requestId: string;
  /** From the verified token; every subgraph request carries one. */
  viewer: Viewer;
  loaders: Loaders;
  /** Field-level scope checks and what was returned, per consent (the receipt). */
  access: FieldAccess;
}
