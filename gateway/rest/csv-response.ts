import type { ServerResponse } from "node:http";

/** A whole CSV file as a download (200, attachment named `filename`). */
export function sendCsv(response: ServerResponse, filename: string, body: string): void {
  response.writeHead(200, {
    "content-type": "text/csv; charset=utf-8",
    "content-disposition": `attachment; filename="${filename}"`,
    "content-length": Buffer.byteLength(body),
  });
  response.end(body);
}
