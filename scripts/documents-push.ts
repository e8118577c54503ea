// `npm run documents:push -- --client <client_id> <file.graphql...>`: an operator registers the
// GraphQL documents a client may run when the gateway enforces trusted documents
// (TRUSTED_DOCUMENTS=enforce). `--client '*'` registers them in the shared first-party set
// (for the clients TRUSTED_DOCUMENTS_FIRST_PARTY_CLIENTS names). Each file is one document,
// registered under the SHA-256 of its exact text: the client sends that hash
// (`extensions.persistedQuery.sha256Hash` or `documentId`), printed here. Registering again is a
// no-op. Works on DATABASE_URL, else the embedded PGlite under DATA_DIR (server stopped).
// Exit codes: 0 done, 1 failed (no such client, a document that does not parse), 2 bad arguments.
import { readFile } from "node:fs/promises";
import { FIRST_PARTY, InvalidDocumentError, TrustedDocumentStore } from "../gateway/trusted-documents/trusted-document-store.ts";
import { runCommand, withDatabase } from "./operator-command.ts";

const USAGE = `usage: npm run documents:push -- --client <client_id | '*'> <file.graphql>...
environment: DATABASE_URL (else embedded PGlite under DATA_DIR, default .data)`;

class Failure extends Error {}

function parseArguments(argv: readonly string[]): { clientId: string; files: string[] } | undefined {
  const index = argv.indexOf("--client");
  const clientId = index === -1 ? undefined : argv[index + 1];
  const files = argv.filter((_, position) => position !== index && position !== index + 1);
  if (!clientId || clientId.startsWith("-") || files.length === 0 || files.some((file) => file.startsWith("-"))) return undefined;
  return { clientId, files };
}

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseArguments(argv);
  if (!parsed) {
    console.error(USAGE);
    return 2;
  }
  const documents = await Promise.all(parsed.files.map((file) => readFile(file, "utf8").catch(() => Promise.reject(new Failure(`cannot read ${file}`)))));
  return withDatabase(async (prisma, where) => {
    try {
      if (parsed.clientId !== FIRST_PARTY && !(await prisma.partnerClient.findUnique({ where: { id: parsed.clientId }, select: { id: true } }))) {
        throw new Failure(`no client ${parsed.clientId} (${where})`);
      }
      const registered = await new TrustedDocumentStore(prisma).register(parsed.clientId, documents);
      const owner = parsed.clientId === FIRST_PARTY ? "the first-party set" : `client ${parsed.clientId}`;
      registered.forEach((document, position) => {
        console.log(`${document.sha256}  ${parsed.files[position]}${document.name ? ` (${document.name})` : ""}  ${document.created ? "registered" : "already registered"}`);
      });
      console.log(`${registered.filter((document) => document.created).length} new of ${registered.length} for ${owner} (${where})`);
      return 0;
    } catch (error) {
      if (error instanceof InvalidDocumentError) throw new Failure(`${parsed.files[error.index]}: ${error.message}; nothing was registered`);
      throw error;
    }
  });
}

runCommand("documents:push", main);
