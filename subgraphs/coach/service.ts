import { Prisma, type PrismaClient } from "../../generated/prisma/client.ts";
import type { Country } from "../../generated/prisma/enums.ts";
import { queryRows } from "../../platform/database/prepared-reads.ts";
import { COACH_TRANSCRIPT_TEXT } from "../../platform/encryption/encrypted-columns.ts";
import type { FieldVault } from "../../platform/encryption/field-vault.ts";
import { ColumnChoice } from "../shared/column-choice.ts";

export interface CoachSessionRow {
  id: string;
  userId: string;
  startedAt: Date;
  endedAt: Date;
  intent: string;
  /** numeric(4,3) read as float8: the number Prisma's Decimal#toNumber gave, without a Decimal per row. */
  sentiment: number;
  messageCount: number;
}

export interface SessionWindow {
  from?: Date;
  to?: Date;
  /** The columns read (SESSION_COLUMNS.keysFor); the rows hold only these. */
  columns: readonly (keyof CoachSessionRow)[];
}

/** A session's columns as CoachSessionRow names them, from `coach_session s`. */
export const SESSION_COLUMNS = new ColumnChoice<keyof CoachSessionRow>(
  {
    id: Prisma.sql`s.id`,
    userId: Prisma.sql`s.user_id AS "userId"`,
    startedAt: Prisma.sql`s.started_at AS "startedAt"`,
    endedAt: Prisma.sql`s.ended_at AS "endedAt"`,
    intent: Prisma.sql`s.intent`,
    sentiment: Prisma.sql`s.sentiment::float8 AS sentiment`,
    messageCount: Prisma.sql`s.message_count AS "messageCount"`,
  },
  { sentimentLabel: ["sentiment"], transcript: ["id"] },
  ["userId"],
);

/** Sentiment within this distance of zero reads as neutral. */
const NEUTRAL_BAND = 0.2;

export class CoachService {
  constructor(
    private readonly prisma: PrismaClient,
    /** The viewer's tenants: every query is confined to them. */
    private readonly tenant: readonly Country[],
    private readonly vault: FieldVault,
  ) {}

  sessions(userIds: readonly string[], window: SessionWindow): Promise<CoachSessionRow[]> {
    const within = [
      ...(window.from ? [Prisma.sql`AND s.started_at >= ${window.from}`] : []),
      ...(window.to ? [Prisma.sql`AND s.started_at < ${window.to}`] : []),
    ];
    return queryRows<CoachSessionRow>(this.prisma, Prisma.sql`
      SELECT ${SESSION_COLUMNS.sql(window.columns)}
      FROM coach_session s
      WHERE s.user_id = ANY(${[...userIds]}::text[]) AND s.country::text = ANY(${[...this.tenant]}::text[]) ${within.length ? Prisma.join(within, " ") : Prisma.empty}
      ORDER BY s.user_id, s.started_at DESC, s.id`);
  }

  /**
   * Raw coach text of these sessions; read only when a request asks for it and its scopes allow.
   * Stored sealed with the tenant's data key (a row still without a key predates encryption).
   */
  async transcripts(sessionIds: readonly string[]): Promise<{ sessionId: string; text: string }[]> {
    const rows = await this.prisma.coachTranscript.findMany({
      where: { sessionId: { in: [...sessionIds] }, country: { in: [...this.tenant] } },
      select: { sessionId: true, country: true, text: true, dataKeyId: true },
    });
    return Promise.all(
      rows.map(async (row) => ({
        sessionId: row.sessionId,
        text: row.dataKeyId === null ? row.text : await this.vault.decrypt(row.country, row.text, COACH_TRANSCRIPT_TEXT.context(row.sessionId)),
      })),
    );
  }
}

export function sentimentLabel(sentiment: number): "NEGATIVE" | "NEUTRAL" | "POSITIVE" {
  if (sentiment <= -NEUTRAL_BAND) return "NEGATIVE";
  if (sentiment >= NEUTRAL_BAND) return "POSITIVE";
  return "NEUTRAL";
}
