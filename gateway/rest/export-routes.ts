import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { z } from "zod";
import type { ExportJob } from "../../generated/prisma/client.ts";
import { cohortTags } from "../../domain/cohorts/cohorts.ts";
import { USER_SCOPES } from "../../platform/auth/scopes.ts";
import type { Viewer } from "../../platform/auth/viewer.ts";
import { sendJson } from "../../platform/http/graphql-http-server.ts";
import { EXPORT_FORMATS, ExportJobs, type ExportFormat } from "../../realtime/exports/export-jobs.ts";
import { createExportStorage, type StoredFile } from "../../realtime/exports/export-storage.ts";
import { EXPORT_CONTENT_TYPES } from "../../realtime/exports/wellness-export.ts";
import { requestUrl } from "../auth/request-url.ts";
import type { AuthServices } from "../auth/services.ts";
import { DownloadSigner } from "../exports/download-signature.ts";
import { RestError } from "./envelope.ts";
import type { RestRoutes } from "./rest-routes.ts";
import { parseInput, readBody } from "./request-body.ts";
import type { RouteSpec } from "./route-spec.ts";
import { authenticateRest } from "./stored-operations.ts";

const EXPORT_SCOPE = "exports.create";
const COHORTS_SCOPE = "cohorts.read";
const JOBS_PATH = "/v1/exports/wellness";
const FILES_PATH = "/v1/exports/files";

// Optional as a whole: an empty body (read as `{}`) is a CSV export.
const createBody = z
  .strictObject({
    format: z
      .enum(EXPORT_FORMATS, { error: `must be one of ${EXPORT_FORMATS.join(", ")}` })
      .optional()
      .describe("The file's format: `csv` (the default) or `jsonl` (JSON Lines)"),
    cohort: z
      .enum(cohortTags(), { error: `must be one of ${cohortTags().join(", ")} (docs/cohorts.md)` })
      .optional()
      .describe("Only the people who carry this behavioural cohort tag now (docs/cohorts.md) and whose consent grants cohorts.read; needs cohorts.read"),
  })
  .optional();

const jobId = z.string().describe("The export's id, `exp_...`");
const formatField = z.enum(EXPORT_FORMATS).describe("The file's format");
const createdAt = z.string().describe("ISO 8601 date-time the export was asked for");
const finishedAt = z.string().nullable().describe("ISO 8601 date-time the worker finished");
const pollUrl = z.string().describe("Where to poll the job (a path on this gateway)");

/** GET /v1/exports/wellness/:id: which keys come depends on `status`. */
const jobStatus = z.discriminatedUnion("status", [
  z.object({ id: jobId, status: z.enum(["queued", "running"]).describe("Not written yet: poll again"), format: formatField, created_at: createdAt, poll_url: pollUrl }),
  z.object({
    id: jobId,
    status: z.literal("succeeded").describe("Written: download it"),
    format: formatField,
    created_at: createdAt,
    rows: z.number().int().nullable().describe("How many people the file holds"),
    finished_at: finishedAt,
    download_url: z.string().describe("The signed URL of the file, needing no token (a fresh one at every call)"),
    expires_at: z.string().describe("ISO 8601 date-time the download URL stops working"),
  }),
  z.object({
    id: jobId,
    status: z.literal("failed").describe("Given up on after the last attempt"),
    format: formatField,
    created_at: createdAt,
    error: z.string().nullable().describe("Why, for the partner"),
    finished_at: finishedAt,
  }),
  z.object({ id: jobId, status: z.literal("expired").describe("The file is deleted: create a new export"), format: formatField, created_at: createdAt }),
]);

// The download's query, for the document. The handler checks the two by hand: a missing or
// malformed one is a 403 FORBIDDEN (as an S3 presigned URL answers), not a 400.
const downloadQuery = z.object({
  expires: z
    .string()
    .regex(/^\d+$/)
    .describe("Unix seconds the URL stops working, as the signed URL carries it"),
  signature: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}$/)
    .describe("The URL's signature, as the signed URL carries it"),
});

const SPECS = {
  create: {
    summary: "Queue a wellness export",
    description:
      "The brief's scenario 4: every person who consented to the client, each with only what their consent (and the token's scopes) grants. Needs a partner (client-credentials) token with the client scope `exports.create`; answers a `Location` header to poll. `cohort` narrows the file to one behavioural cohort tag (the CRM's segment) and needs cohorts.read.",
    tag: "exports",
    caller: "partner-token",
    body: createBody,
    errors: ["UNAUTHORIZED_FIELD_OR_TYPE"],
    responses: {
      202: {
        description: "Queued",
        schema: z.object({ id: jobId, status: z.literal("queued"), format: formatField.describe("The file's format (`csv` unless asked otherwise)"), poll_url: pollUrl }),
      },
    },
  },
  status: {
    summary: "An export's status",
    description: "Needs a partner token with the client scope `exports.create`. Another client's export is a 404.",
    tag: "exports",
    caller: "partner-token",
    responses: { 200: { description: "The job, with a signed download URL once it succeeded", schema: jobStatus } },
    errors: ["BAD_REQUEST", "NOT_FOUND"],
  },
  file: {
    summary: "Download an export's file",
    description:
      "The signed URL from the export's status; needs no token. Streamed as an attachment: `text/csv; charset=utf-8` for a CSV export, `application/jsonl; charset=utf-8` for a JSON Lines one. A signature that does not match, a missing one, or a URL past `expires` is a 403; an unknown export, or one whose file is gone, a 404.",
    tag: "exports",
    caller: "public",
    query: downloadQuery,
    responses: { 200: { description: "The file, in the format the export asked for", contentType: ["text/csv", "application/jsonl"] } },
    errors: ["BAD_REQUEST", "FORBIDDEN", "NOT_FOUND"],
  },
} satisfies Record<string, RouteSpec>;

/**
 * The brief's scenario 4, a CRM's nightly batch: a partner (client-credentials token with the
 * client scope exports.create) queues an export of every person who consented to it, polls the
 * job, and downloads the file from a signed URL that needs no token (as an S3 presigned URL), for
 * a while. The export worker (realtime/exports/) writes the file.
 */
export function addExportRoutes(router: RestRoutes, services: AuthServices): void {
  const jobs = new ExportJobs(services.prisma);
  const storage = createExportStorage(services.config.exports);
  const signer = new DownloadSigner(services.config.tokens.keyEncryptionKey, services.config.tokens.previousKeyEncryptionKeys);
  const userScopes: ReadonlySet<string> = new Set(USER_SCOPES);

  async function exporter(request: IncomingMessage): Promise<Extract<Viewer, { kind: "client" }>> {
    const { viewer } = await authenticateRest(services, request);
    if (viewer.kind !== "client") throw new RestError("FORBIDDEN", "Exports are a partner's: use a client-credentials token");
    if (!viewer.scopes.has(EXPORT_SCOPE)) throw new RestError("FORBIDDEN", `Exports need the client scope ${EXPORT_SCOPE}`);
    return viewer;
  }

  router.add("POST", JOBS_PATH, async (request, response) => {
    const viewer = await exporter(request);
    const body = parseInput(createBody, await readBody(request));
    const format: ExportFormat = body?.format ?? "csv";
    if (body?.cohort !== undefined && !viewer.scopes.has(COHORTS_SCOPE)) throw new RestError("UNAUTHORIZED_FIELD_OR_TYPE", `Filtering by \`cohort\` needs ${COHORTS_SCOPE}`);
    const job = await jobs.create({ clientId: viewer.clientId, format, scopes: [...viewer.scopes].filter((scope) => userScopes.has(scope)).sort(), cohort: body?.cohort });
    response.setHeader("location", `${JOBS_PATH}/${job.id}`);
    sendJson(response, 202, { id: job.id, status: "queued", format, poll_url: `${JOBS_PATH}/${job.id}` });
  }, SPECS.create);

  router.add("GET", `${JOBS_PATH}/:id`, async (request, response, params) => {
    const viewer = await exporter(request);
    const job = await jobs.find(params.id!, viewer.clientId);
    if (!job) throw new RestError("NOT_FOUND", "No such export for this client");
    response.setHeader("cache-control", "no-store");
    sendJson(response, 200, status(request, job));
  }, SPECS.status);

  router.add("GET", `${FILES_PATH}/:id`, async (request, response, params) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    const expires = Number(url.searchParams.get("expires"));
    const signature = url.searchParams.get("signature") ?? "";
    if (!Number.isSafeInteger(expires) || !/^[A-Za-z0-9_-]{1,100}$/.test(signature)) {
      throw new RestError("FORBIDDEN", "The download URL needs its `expires` and `signature`; GET the export for a signed URL");
    }
    const job = await jobs.findById(params.id!);
    if (!job) throw new RestError("NOT_FOUND", "No such export");
    const check = signer.check("GET", `${FILES_PATH}/${job.id}`, job.clientId, expires, signature);
    if (check === "bad-signature") throw new RestError("FORBIDDEN", "The download URL's signature does not match");
    if (check === "expired") throw new RestError("FORBIDDEN", "The download URL has expired; GET the export again for a fresh one");
    // A URL needs no token, so suspension (which revokes tokens) must be checked here too.
    const client = await services.prisma.partnerClient.findUnique({ where: { id: job.clientId }, select: { status: true } });
    if (client?.status !== "ACTIVE") throw new RestError("FORBIDDEN", `Client ${job.clientId} is suspended: its download URLs do not work`);
    const file = job.status === "SUCCEEDED" && job.fileKey ? await storage.read(job.fileKey) : undefined;
    if (!file) throw new RestError("NOT_FOUND", "The export's file is no longer kept; create a new export");
    await stream(response, job, file);
  }, SPECS.file);

  function status(request: IncomingMessage, job: ExportJob): Record<string, unknown> {
    const base = { id: job.id, status: job.status.toLowerCase(), format: job.format, created_at: job.createdAt.toISOString() };
    switch (job.status) {
      case "QUEUED":
      case "RUNNING":
        return { ...base, poll_url: `${JOBS_PATH}/${job.id}` };
      case "SUCCEEDED": {
        const expires = Math.floor(Math.min(Date.now() + services.config.exports.urlTtlSeconds * 1000, job.expiresAt!.getTime()) / 1000);
        const path = `${FILES_PATH}/${job.id}`;
        const query = new URLSearchParams({ expires: String(expires), signature: signer.sign("GET", path, job.clientId, expires) });
        return {
          ...base,
          rows: job.rows,
          finished_at: job.finishedAt?.toISOString() ?? null,
          download_url: `${origin(request)}${path}?${query}`,
          expires_at: new Date(expires * 1000).toISOString(),
        };
      }
      case "FAILED":
        return { ...base, error: job.error, finished_at: job.finishedAt?.toISOString() ?? null };
      case "EXPIRED":
        return base;
    }
  }

  /** Where the partner reaches this gateway: PUBLIC_URL, else this server's scheme and the Host header. */
  function origin(request: IncomingMessage): string {
    const here = requestUrl(services.config.publicUrl, request);
    const path = (request.url ?? "/").split("?")[0]!;
    return here.slice(0, here.length - path.length);
  }

  async function stream(response: ServerResponse, job: ExportJob, file: StoredFile): Promise<void> {
    const format = job.format as ExportFormat;
    response.writeHead(200, {
      "content-type": EXPORT_CONTENT_TYPES[format],
      "content-length": file.bytes,
      "content-disposition": `attachment; filename="wellness-${job.id}.${format}"`,
      "cache-control": "no-store",
    });
    try {
      await pipeline(file.body, response);
    } catch {
      // The partner hung up mid-download; the headers are gone, so there is nothing to answer.
      response.destroy();
    }
  }
}
