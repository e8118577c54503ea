// A person's alerts in publication order, for a poller that must never miss one
// (`User.alertFeed`, GET /v1/alerts). Alerts are ordered by the position the outbox relay gives
// their `alert.created` event: dense, assigned in commit order under a lock, the same cursor
// subscriptions resume from. `created_at` cannot order a poll: the engine stamps an alert with
// its evaluation's instant, and a batch can commit long after, behind alerts already read.
//
// - An alert whose event the relay has not positioned yet (committed a moment ago) is *pending*:
//   it comes after every positioned one, and its edge carries the cursor of the last positioned
//   alert before it, so resuming from any cursor returns it again once it has its position. A
//   poller may see an alert twice (dedupe by id), never miss one.
// - An alert without an event (seeded history, or an event past its retention) sorts at
//   position 0, by creation time and id: older than anything published since.
import type { PrismaClient } from "../../generated/prisma/client.ts";
import type { Country } from "../../generated/prisma/enums.ts";
import { ALERT_CREATED_TOPIC } from "../../domain/alerts/alert-event.ts";
import { type Connection, decodeCursor, encodeCursor } from "../shared/pagination.ts";
import { ALERT_COLUMNS, type AlertRow } from "./alert-row.ts";

export const ALERT_FEED_PAGE = { default: 20, max: 100 } as const;

/** A feed cursor: the sort key (position, created_at, id) of the last alert handed out. */
const FEED_CURSOR = ["int8", "timestamp", "string"] as const;

export interface AlertFeedWindow {
  since?: Date;
  /** The cursor of an edge this field returned (decoded by alertFeedWindow). */
  after?: string;
  limit: number;
}

interface FeedRow extends AlertRow {
  position: bigint | null;
  pending: boolean;
}

/** Each edge carries its alert's person (`userId`): the field check of `AlertFeedEdge.node` asks whose alert it is. */
export interface AlertFeed extends Connection<AlertRow> {
  edges: { cursor: string; node: AlertRow; userId: string }[];
}

/** Checks `after` (BAD_USER_INPUT when it is not a cursor of this field) before any query. */
export function checkFeedCursor(after: string | null | undefined): void {
  decodeCursor(after, FEED_CURSOR);
}

function cursorOf(key: { position: bigint; createdAt: Date; id: string }): string {
  return encodeCursor([key.position.toString(), key.createdAt.toISOString(), key.id]);
}

/** One page per user, with one extra row to tell whether more are waiting: one statement for all users. */
export async function alertFeedRows(prisma: PrismaClient, tenant: readonly Country[], userIds: readonly string[], window: AlertFeedWindow): Promise<FeedRow[]> {
  const since = window.since ?? new Date(0);
  const [position, createdAt, id] = decodeCursor(window.after, FEED_CURSOR) ?? [-1n, new Date(0), ""];
  return prisma.$queryRaw<FeedRow[]>`
    SELECT page.* FROM unnest(${[...userIds]}::text[]) AS u(id)
    CROSS JOIN LATERAL (
      SELECT * FROM (
        SELECT ${ALERT_COLUMNS}, e.position, (e.found IS NOT NULL AND e.position IS NULL) AS pending
        FROM alert a
        LEFT JOIN LATERAL (
          SELECT o.position, true AS found FROM outbox_event o
          WHERE o.aggregate_id = a.id AND o.topic = ${ALERT_CREATED_TOPIC}
          ORDER BY o.id LIMIT 1
        ) e ON true
        WHERE a.user_id = u.id AND a.country::text = ANY(${[...tenant]}::text[]) AND a.created_at >= ${since}
      ) alerts
      WHERE pending OR (COALESCE(position, 0), "createdAt", id) > (${position}::bigint, ${createdAt}::timestamptz, ${id}::text)
      ORDER BY pending, COALESCE(position, 0), "createdAt", id
      LIMIT ${window.limit + 1}
    ) page`;
}

/** A user's rows (in feed order) as a connection; `after` is where the page started. */
export function alertFeedOf(rows: readonly FeedRow[], window: AlertFeedWindow): AlertFeed {
  const page = rows.slice(0, window.limit);
  let resume = window.after ?? null;
  const edges = page.map(({ position, pending, ...alert }) => {
    if (!pending) resume = cursorOf({ position: position ?? 0n, createdAt: alert.createdAt, id: alert.id });
    // A pending alert never moves the cursor past itself: resuming from here returns it again.
    return { cursor: resume ?? encodeCursor(["0", new Date(0).toISOString(), ""]), node: alert, userId: alert.userId };
  });
  return { edges, pageInfo: { hasNextPage: rows.length > window.limit, endCursor: edges.at(-1)?.cursor ?? window.after ?? null } };
}


