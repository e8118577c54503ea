// `COPY ... FROM STDIN` over node-postgres without an extra dependency. pg accepts any
// object with `submit(connection)` as a query (the "Submittable" extension point that
// pg-cursor and pg-copy-streams build on) and forwards the protocol messages of the active
// query to it; COPY needs only the four handlers below.
import type pg from "pg";

/** The slice of pg's internal Connection a submittable uses. */
interface CopyConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

const CHUNK_BYTES = 1 << 20;

class CopyFromStdin {
  readonly done: Promise<number>;
  private resolve!: (rows: number) => void;
  private reject!: (error: Error) => void;
  private rows = 0;

  constructor(
    private readonly text: string,
    private readonly payload: Buffer,
  ) {
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  submit(connection: CopyConnection): void {
    connection.query(this.text);
  }

  handleCopyInResponse(connection: CopyConnection): void {
    for (let offset = 0; offset < this.payload.length; offset += CHUNK_BYTES) {
      connection.sendCopyFromChunk(this.payload.subarray(offset, offset + CHUNK_BYTES));
    }
    connection.endCopyFrom();
  }

  handleCommandComplete(message: { text?: string }): void {
    this.rows = Number(/(\d+)$/.exec(message.text ?? "")?.[1] ?? 0);
  }

  handleReadyForQuery(): void {
    this.resolve(this.rows);
  }

  /** pg detaches the query before calling this, so no ReadyForQuery follows for it. */
  handleError(error: Error): void {
    this.reject(error);
  }

  handleEmptyQuery(): void {}
}

/** Runs `COPY <sql-target> FROM STDIN` with `payload` (COPY text format); resolves to the row count. */
export function copyFromStdin(client: pg.Client, copyTarget: string, payload: string): Promise<number> {
  const copy = new CopyFromStdin(`COPY ${copyTarget} FROM STDIN`, Buffer.from(payload, "utf8"));
  // The submittable overload of `query` is not in @types/pg.
  (client as unknown as { query(query: CopyFromStdin): unknown }).query(copy);
  return copy.done;
}
