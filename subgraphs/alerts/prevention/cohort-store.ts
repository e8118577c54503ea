// A person's current behavioural cohort tags (table cohort_tag): what each prevention evaluation
// found replaces what the one before it found, and a tag kept keeps its `since`.
import type { PrismaClient } from "../../../generated/prisma/client.ts";
import type { Country } from "../../../generated/prisma/enums.ts";

export interface PersonCohorts {
  userId: string;
  country: Country;
  /** Every tag the person carries now; none is a valid answer (their earlier tags are removed). */
  tags: readonly string[];
}

/**
 * One statement for a batch of people: their tags no longer held are deleted, new ones are
 * inserted with `since` = `now`, tags held before are left as they are. (Both parts see the same
 * snapshot, so the delete never touches a tag the insert keeps.)
 */
export async function writeCohorts(prisma: PrismaClient, people: readonly PersonCohorts[], now: Date): Promise<void> {
  if (people.length === 0) return;
  const rows = people.flatMap((person) => person.tags.map((tag) => ({ person, tag })));
  await prisma.$executeRaw`
    WITH held AS (
      SELECT * FROM unnest(${rows.map((r) => r.person.userId)}::text[], ${rows.map((r) => r.person.country)}::text[], ${rows.map((r) => r.tag)}::text[]) AS t(user_id, country, tag)
    ), dropped AS (
      DELETE FROM cohort_tag c
      WHERE c.user_id = ANY(${people.map((person) => person.userId)}::text[])
        AND NOT EXISTS (SELECT 1 FROM held h WHERE h.user_id = c.user_id AND h.tag = c.tag)
    )
    INSERT INTO cohort_tag (user_id, country, tag, since)
    SELECT user_id, country::"Country", tag, ${now} FROM held
    ON CONFLICT (user_id, tag) DO UPDATE SET country = EXCLUDED.country WHERE cohort_tag.country <> EXCLUDED.country`;
}
