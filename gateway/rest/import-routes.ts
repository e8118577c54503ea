import type { IncomingMessage } from "node:http";
import { z } from "zod";
import { IMPORT_FORMATS } from "../../domain/imports/format.ts";
import { ImportPersonNotFound, ImportRefused, type ImportOutcome, type ImportRequest } from "../../domain/imports/outcome.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import { sendJson } from "../../platform/http/graphql-http-server.ts";
import type { AuthApi } from "../auth/auth-api.ts";
import type { AuthServices } from "../auth/services.ts";
import { requireApp } from "./callers.ts";
import { RestError } from "./envelope.ts";
import { param } from "./query-params.ts";
import type { RestRoutes } from "./rest-routes.ts";
import type { RouteSpec } from "./route-spec.ts";

/**
 * Runs an import. The runtime gives it to the gateway: the import ends with the person's
 * diagnosis and prevention rules, which are the subgraphs' services, out of the gateway's reach.
 */
export type ExpenseImporter = (prisma: PrismaClient, request: ImportRequest) => Promise<ImportOutcome>;

/** An export of a few years of a person's expenses is well under this. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;
const CSV_TYPES = ["text/csv", "application/csv", "text/plain", "application/vnd.ms-excel"];

const importQuery = z.object({
  format: param(z.enum(IMPORT_FORMATS).describe("The app the file was exported from"), `one of ${IMPORT_FORMATS.join(", ")}`),
  user_id: param(z.string().min(1).max(128).regex(/^[A-Za-z0-9_-]+$/).describe("The person whose history it is"), "a person's id (letters, digits, `_` and `-`)"),
});

const rowNote = z.object({ line: z.number().int().describe("The file's line the row starts on (the header is line 1)"), reason: z.string() });

const importAnswer = z
  .object({
    format: z.enum(IMPORT_FORMATS),
    user_id: z.string(),
    rows: z.number().int().describe("Data rows in the file"),
    imported: z.number().int().describe("Expenses added now"),
    already_imported: z.number().int().describe("Expenses of the file already there from an earlier import of the same rows: importing a file again adds nothing"),
    skipped: z.array(rowNote).describe("Rows that are not expenses (transfers between accounts, income, refunds), by line with the reason"),
    by_category: z.record(z.string(), z.number().int()).describe("The file's expenses per category of ours"),
    unmapped_categories: z.array(z.string()).describe("The app's categories the category map does not know: imported as `other` (MCC 5999)"),
    diagnosis: z
      .object({ snapshot_date: z.iso.date(), score: z.number().int(), band: z.enum(["GREEN", "AMBER", "RED"]) })
      .nullable()
      .describe("The diagnosis run after the import; null when nothing was added"),
    alerts_raised: z.array(z.string()).describe("Prevention alerts the import raised, by type (also sent as `alert.created` webhooks)"),
  })
  .describe("What the import did");

const SPEC = {
  summary: "Import a person's expense history from another app (Kamina app, for the person)",
  description: [
    "The body is the app's own CSV export, as the app writes it (`Content-Type: text/csv`), or a `multipart/form-data` upload whose first file is it.",
    "Formats: `monefy` (date,account,category,amount,currency,converted amount,currency,description; dates day first), `ynab` (the register export: Outflow and Inflow columns, MM/DD/YYYY, splits as `Split (n/m)` memo rows), `goodbudget` (Date,Envelope,Account,Name,Notes,Amount,Status,Details) and `mint` (transactions.csv: Amount positive, Transaction Type debit or credit).",
    "Decimal commas, `;` delimiters, a byte-order mark and CRLF are read. Transfers, income and refunds are skipped and listed. Categories become ours and MCCs by domain/imports/category-map.json.",
    "All or nothing: any bad row and the answer is a 400 `BAD_USER_INPUT` whose message names every bad row by line with its reason, and nothing is written. Importing the same file again adds nothing (`already_imported`).",
    "After an import that added expenses, the person's diagnosis and prevention rules run, so alerts follow.",
  ].join(" "),
  tag: "imports",
  caller: "app",
  query: importQuery,
  fileBody: { contentTypes: ["text/csv", "multipart/form-data"], description: "The app's CSV export as it wrote it (UTF-8, with or without a byte-order mark), at most 4 MiB" },
  responses: { 200: { description: "The import", schema: importAnswer } },
  errors: ["NOT_FOUND"],
} satisfies RouteSpec;

/** The file, from a CSV body or the first file of a multipart upload. */
async function readFile(request: IncomingMessage): Promise<string> {
  const type = (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  const multipart = type === "multipart/form-data";
  if (!multipart && !CSV_TYPES.includes(type)) {
    throw new RestError("UNSUPPORTED_MEDIA_TYPE", `The body came with ${type === "" ? "no Content-Type" : `Content-Type ${type}`}: send the export as text/csv, or as a multipart/form-data upload`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FILE_BYTES) throw new RestError("PAYLOAD_TOO_LARGE", `The file exceeds ${MAX_FILE_BYTES} bytes: split it`);
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  if (!multipart) return decode(body);
  let form: FormData;
  try {
    form = await new Response(body, { headers: { "content-type": String(request.headers["content-type"]) } }).formData();
  } catch {
    throw new RestError("BAD_REQUEST", "The multipart body does not parse");
  }
  const file = [...form.values()].find((value) => typeof value !== "string") as Blob | undefined;
  if (!file) throw new RestError("BAD_USER_INPUT", "The multipart body holds no file");
  return decode(Buffer.from(await file.arrayBuffer()));
}

function decode(body: Buffer): string {
  const text = new TextDecoder("utf-8", { fatal: false }).decode(body);
  if (text.includes("\0")) throw new RestError("BAD_USER_INPUT", "The file holds a NUL character: it is not a CSV export (UTF-16 files: save as UTF-8)");
  if (text.trim() === "") throw new RestError("BAD_USER_INPUT", "The file is empty");
  return text;
}

function answerOf(outcome: ImportOutcome): z.infer<typeof importAnswer> {
  return {
    format: outcome.format,
    user_id: outcome.userId,
    rows: outcome.rows,
    imported: outcome.imported,
    already_imported: outcome.alreadyImported,
    skipped: outcome.skipped,
    by_category: outcome.byCategory,
    unmapped_categories: outcome.unmappedCategories,
    diagnosis: outcome.diagnosis ? { snapshot_date: outcome.diagnosis.snapshotDate, score: outcome.diagnosis.score, band: outcome.diagnosis.band as "GREEN" | "AMBER" | "RED" } : null,
    alerts_raised: outcome.alertsRaised,
  };
}

/** A person's history from Monefy, YNAB, Goodbudget or Mint, through the Kamina app. */
export function addImportRoutes(router: RestRoutes, api: AuthApi, services: AuthServices, importer: ExpenseImporter | undefined): void {
  router.add(
    "POST",
    "/v1/imports",
    async (request, response, _params, _info, query) => {
      requireApp(api, request);
      const { format, user_id: userId } = query();
      const csv = await readFile(request);
      if (!importer) throw new RestError("SERVICE_UNAVAILABLE", "This gateway was started without the import service", 60);
      try {
        sendJson(response, 200, answerOf(await importer(services.prisma, { format, userId, csv })));
      } catch (error) {
        if (error instanceof ImportRefused) throw new RestError("BAD_USER_INPUT", error.message);
        if (error instanceof ImportPersonNotFound) throw new RestError("NOT_FOUND", `No person ${userId}`);
        throw error;
      }
    },
    SPEC,
  );
}
