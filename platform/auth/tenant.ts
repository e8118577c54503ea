import type { Country } from "../../generated/prisma/enums.ts";
import type { Viewer } from "./viewer.ts";

/**
 * The tenants (countries) a viewer's reads are confined to: a consent token's person's
 * country, or the countries a partner client is licensed in. Every per-person query filters
 * by it, so no query made for one tenant's client can read another tenant's rows.
 */
export function tenantOf(viewer: Viewer): readonly Country[] {
  return viewer.kind === "consent" ? [viewer.country] : viewer.countries;
}
