// Verifies the audit log's hash chains (audit_event), independently of the database: the
// triggers of prisma/migrations/*_audit_chain compute each row's hash at insert, and this
// module recomputes it in Node from the row's stored values, with its own implementation of
// the canonical encoding. A row changed, deleted or moved after its insert is found, with the
// first broken row of each chain and why.
import { createHash } from "node:crypto";
import type { PrismaClient } from "../database/database.ts";

/** The `prev_hash` of a chain's first row. */
export const GENESIS_HASH = "0".repeat(64);
/** The chain of rows that have no country. */
export const GLOBAL_CHAIN = "global";
/** A consent receipt: one per consent per call that read personal data (the gateway's, a subscription's, an export's). */
export const RECEIPT_ACTION = "consent.receipt";
/** The retention purge's checkpoint row (the `audit_purge` SQL function writes it). */
export const PURGE_ACTION = "audit.purge";
/** Rows that record one request (or none); a receipt of several requests is v2, their list before `prev_hash`. */
const ENCODING_VERSION = "kamina-audit-v1";
const ENCODING_VERSION_REQUESTS = "kamina-audit-v2";
const PAGE = 5000;

/** A row as the chain covers it. */
export interface ChainedRow {
  id: bigint;
  at: Date;
  action: string;
  requestId: string | null;
  /** Every request the row records when it records more than one (`requestId` first); else null. */
  requestIds: string[] | null;
  clientId: string | null;
  userId: string | null;
  consentId: string | null;
  country: string | null;
  scopes: string[] | null;
  fields: string[] | null;
  /** `detail::text`: PostgreSQL's own text of the jsonb, which is canonical. */
  detailText: string | null;
  chain: string;
  seq: bigint;
  subjectDigest: string | null;
  subjectSalt: string | null;
  prevHash: string;
  hash: string;
}

const field = (value: string | null): string => (value === null ? "~" : `${Buffer.byteLength(value, "utf8")}:${value}`);
const list = (items: readonly (string | null)[] | null): string => (items === null ? "~" : `[${items.length}:${items.map(field).join("")}]`);

/** The canonical encoding the row's hash is taken over, `prev_hash` last (as audit_event_hash in SQL). */
export function canonicalEncoding(row: ChainedRow): string {
  return (
    (row.requestIds === null ? ENCODING_VERSION : ENCODING_VERSION_REQUESTS) +
    field(row.chain) +
    field(row.id.toString()) +
    field(row.at.toISOString()) +
    field(row.action) +
    field(row.requestId) +
    field(row.clientId) +
    field(row.subjectDigest) +
    field(row.consentId) +
    field(row.country) +
    list(row.scopes) +
    list(row.fields) +
    field(row.detailText) +
    (row.requestIds === null ? "" : list(row.requestIds)) +
    field(row.prevHash)
  );
}

export function rowHash(row: ChainedRow): string {
  return createHash("sha256").update(canonicalEncoding(row), "utf8").digest("hex");
}

/** SHA-256 (hex) of the salt and the person's id: what the chain covers instead of the id. */
export function subjectDigest(salt: string, userId: string): string {
  return createHash("sha256").update(salt + userId, "utf8").digest("hex");
}

export type BreakKind = "changed" | "deleted" | "reordered";

export interface ChainBreak {
  chain: string;
  kind: BreakKind;
  /** The first row found broken; null when the rows missing are the newest (nothing after them). */
  rowId: string | null;
  seq: string | null;
  reason: string;
}

export interface ChainReport {
  chain: string;
  /** Rows checked. */
  rows: number;
  /** Rows purged by retention before the first row (0: none). */
  purgedThrough: string;
  /** The head: the newest row's seq and hash (record it elsewhere to detect a rewrite of the whole chain). */
  headSeq: string;
  headHash: string;
  broken: ChainBreak | null;
}

interface HeadRow {
  chain: string;
  seq: bigint;
  lastHash: string;
  purgedThrough: bigint;
}

/** Walks every chain (or the ones named) in order and reports each one's first break, if any. */
export async function verifyAuditChains(prisma: PrismaClient, chains?: readonly string[]): Promise<ChainReport[]> {
  const heads = await prisma.$queryRaw<HeadRow[]>`
    SELECT chain, seq, last_hash AS "lastHash", purged_through AS "purgedThrough" FROM audit_chain_head ORDER BY chain COLLATE "C"`;
  const reports: ChainReport[] = [];
  for (const head of heads) {
    if (chains && !chains.includes(head.chain)) continue;
    reports.push(await verifyChain(prisma, head));
  }
  // A row in a chain with no head was moved there, or its head deleted.
  const orphans = await prisma.$queryRaw<{ chain: string; id: bigint; seq: bigint }[]>`
    SELECT e.chain, min(e.id) AS id, min(e.seq) AS seq FROM audit_event e
    WHERE NOT EXISTS (SELECT 1 FROM audit_chain_head h WHERE h.chain = e.chain) GROUP BY e.chain`;
  for (const orphan of orphans) {
    if (chains && !chains.includes(orphan.chain)) continue;
    reports.push({
      chain: orphan.chain,
      rows: 0,
      purgedThrough: "0",
      headSeq: "0",
      headHash: "",
      broken: { chain: orphan.chain, kind: "changed", rowId: orphan.id.toString(), seq: orphan.seq.toString(), reason: `chain ${orphan.chain} has rows but no head: a row was moved to it, or its head deleted` },
    });
  }
  return reports;
}

async function verifyChain(prisma: PrismaClient, head: HeadRow): Promise<ChainReport> {
  const report = (rows: number, broken: ChainBreak | null): ChainReport => ({
    chain: head.chain,
    rows,
    purgedThrough: head.purgedThrough.toString(),
    headSeq: head.seq.toString(),
    headHash: head.lastHash,
    broken,
  });
  const breakAt = (kind: BreakKind, row: ChainedRow | null, reason: string): ChainBreak => ({
    chain: head.chain,
    kind,
    rowId: row ? row.id.toString() : null,
    seq: row ? row.seq.toString() : null,
    reason,
  });

  let expectedSeq = 1n;
  let expectedPrev = GENESIS_HASH;
  if (head.purgedThrough > 0n) {
    // Rows up to purgedThrough were purged; the newest checkpoint saying so carries the last one's hash.
    const [checkpoint] = await prisma.$queryRaw<{ lastHash: string | null }[]>`
      SELECT detail ->> 'last_purged_hash' AS "lastHash" FROM audit_event
      WHERE chain = ${head.chain} AND action = ${PURGE_ACTION} AND (detail ->> 'purged_through_seq')::bigint = ${head.purgedThrough}
      ORDER BY seq DESC LIMIT 1`;
    if (!checkpoint?.lastHash) {
      return report(0, breakAt("deleted", null, `the chain head says rows up to seq ${head.purgedThrough} were purged, but no ${PURGE_ACTION} checkpoint in the chain records it`));
    }
    expectedSeq = head.purgedThrough + 1n;
    expectedPrev = checkpoint.lastHash;
  }

  let rows = 0;
  let last: ChainedRow | null = null;
  let after = -1n;
  for (;;) {
    const page = await prisma.$queryRaw<ChainedRow[]>`
      SELECT id, at, action, request_id AS "requestId", request_ids AS "requestIds", client_id AS "clientId", user_id AS "userId", consent_id AS "consentId",
             country::text AS country, scopes, fields, detail::text AS "detailText", chain, seq,
             subject_digest AS "subjectDigest", subject_salt AS "subjectSalt", prev_hash AS "prevHash", hash
      FROM audit_event WHERE chain = ${head.chain} AND seq > ${after} ORDER BY seq LIMIT ${PAGE}`;
    for (const row of page) {
      rows++;
      if (row.seq < expectedSeq) {
        return report(rows, breakAt("reordered", row, `seq ${row.seq} is at or before the purge point or a row already checked (expected ${expectedSeq})`));
      }
      const content = contentProblem(row);
      if (content) return report(rows, breakAt("changed", row, content));
      if (row.seq > expectedSeq) {
        return report(rows, breakAt("deleted", row, `rows seq ${expectedSeq}..${row.seq - 1n} before it are missing`));
      }
      if (row.prevHash !== expectedPrev) {
        const moved = await hashExists(prisma, head.chain, row.prevHash);
        return report(
          rows,
          moved
            ? breakAt("reordered", row, `it follows a row that is elsewhere in the chain, not the row before it (seq ${expectedSeq - 1n})`)
            : breakAt("deleted", row, `the row it follows (hash ${row.prevHash.slice(0, 12)}…) is not in the chain`),
        );
      }
      expectedPrev = row.hash;
      expectedSeq = row.seq + 1n;
      last = row;
    }
    if (page.length < PAGE) break;
    after = page.at(-1)!.seq;
  }

  const lastSeq = last ? last.seq : head.purgedThrough;
  const lastHash = last ? last.hash : expectedPrev;
  if (head.seq > lastSeq) {
    return report(rows, breakAt("deleted", null, `the newest rows (seq ${lastSeq + 1n}..${head.seq}) are missing: the chain head is at seq ${head.seq}`));
  }
  if (head.seq !== lastSeq || head.lastHash !== lastHash) {
    return report(rows, breakAt("changed", last, `the chain head (seq ${head.seq}) does not match the newest row (seq ${lastSeq})`));
  }
  return report(rows, null);
}

/** Why the row's content does not match its hash, or null. */
function contentProblem(row: ChainedRow): string | null {
  if (row.userId !== null) {
    if (row.subjectSalt === null || row.subjectDigest === null) return "it names a person but has no subject salt or digest";
    if (subjectDigest(row.subjectSalt, row.userId) !== row.subjectDigest) return "its person (user_id) is not the one the chain recorded";
  } else if (row.subjectSalt !== null) {
    return "it has a subject salt but no person";
  }
  if (rowHash(row) !== row.hash) return "its content does not match its hash";
  return null;
}

async function hashExists(prisma: PrismaClient, chain: string, hash: string): Promise<boolean> {
  const found = await prisma.$queryRaw<unknown[]>`SELECT 1 FROM audit_event WHERE chain = ${chain} AND hash = ${hash} LIMIT 1`;
  return found.length > 0;
}
