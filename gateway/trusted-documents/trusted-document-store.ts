import { createHash } from "node:crypto";
import { Kind, parse } from "graphql";
import type { PrismaClient } from "../../platform/database/database.ts";
import { LruMap } from "../../platform/lru-map.ts";

/** The `client_id` of the shared set: documents every first-party app may run. */
export const FIRST_PARTY = "*";

/** How a request names a document: the lowercase hex SHA-256 of its exact text (Apollo's APQ hash). */
export function documentHash(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

export interface RegisteredDocument {
  sha256: string;
  /** The operations it holds, comma-separated, when they are named. */
  name: string | null;
  /** False when this client already had it. */
  created: boolean;
}

export class InvalidDocumentError extends Error {
  constructor(
    message: string,
    /** Which of the documents given (from 0). */
    readonly index = 0,
  ) {
    super(message);
  }
}

/** The largest document accepted for registration; the gateway's token limit refuses larger ones anyway. */
const MAX_DOCUMENT_BYTES = 64 * 1024;
/** Documents a gateway keeps in memory; a hash names one text forever, so a hit never goes stale. */
const CACHE_ENTRIES = 5_000;

/**
 * The trusted documents (table `trusted_document`), by (client, SHA-256). Registering never
 * rewrites a row: a hash names one text. Lookups answer from memory once found; an unknown hash
 * is asked of the database each time, so a document registered on one instance is served by all
 * at once.
 */
export class TrustedDocumentStore {
  private readonly cache = new LruMap<string, string>(CACHE_ENTRIES);

  constructor(
    private readonly prisma: PrismaClient,
    /** Clients that may also run the shared first-party documents. */
    private readonly firstPartyClients: readonly string[] = [],
  ) {}

  /** The document `clientId` may run under `sha256`, its own or (first-party clients) the shared set's. */
  async find(clientId: string, sha256: string): Promise<string | undefined> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) return undefined;
    const owners = this.firstPartyClients.includes(clientId) ? [clientId, FIRST_PARTY] : [clientId];
    for (const owner of owners) {
      const cached = this.cache.get(`${owner} ${sha256}`);
      if (cached !== undefined) return cached;
    }
    const rows = await this.prisma.trustedDocument.findMany({ where: { sha256, clientId: { in: owners } }, select: { clientId: true, document: true } });
    const row = rows[0];
    if (!row) return undefined;
    this.cache.set(`${row.clientId} ${sha256}`, row.document);
    return row.document;
  }

  /** Registers each document for `clientId` (or FIRST_PARTY); each must parse and hold an operation. */
  async register(clientId: string, documents: readonly string[]): Promise<RegisteredDocument[]> {
    const checked = documents.map((document, index) => {
      try {
        return { document, sha256: documentHash(document), name: operationNames(document) };
      } catch (error) {
        throw error instanceof InvalidDocumentError ? new InvalidDocumentError(error.message, index) : error;
      }
    });
    const registered: RegisteredDocument[] = [];
    for (const { document, sha256, name } of checked) {
      const { count } = await this.prisma.trustedDocument.createMany({ data: [{ clientId, sha256, document, name }], skipDuplicates: true });
      registered.push({ sha256, name, created: count === 1 });
    }
    return registered;
  }

  /** What `clientId` (or FIRST_PARTY) has registered, newest first. */
  async list(clientId: string): Promise<{ sha256: string; name: string | null; createdAt: Date }[]> {
    return this.prisma.trustedDocument.findMany({ where: { clientId }, select: { sha256: true, name: true, createdAt: true }, orderBy: { createdAt: "desc" } });
  }
}

/** The document's operation names; an InvalidDocumentError when it is not one a client could run. */
function operationNames(document: string): string | null {
  if (Buffer.byteLength(document, "utf8") > MAX_DOCUMENT_BYTES) throw new InvalidDocumentError(`A document may hold at most ${MAX_DOCUMENT_BYTES} bytes`);
  let parsed;
  try {
    parsed = parse(document, { noLocation: true });
  } catch (error) {
    throw new InvalidDocumentError(`The document does not parse: ${error instanceof Error ? error.message : String(error)}`);
  }
  const operations = parsed.definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION);
  if (operations.length === 0) throw new InvalidDocumentError("The document holds no operation");
  const names = operations.map((operation) => operation.name?.value).filter((name): name is string => name !== undefined);
  return names.length > 0 ? names.join(",") : null;
}
