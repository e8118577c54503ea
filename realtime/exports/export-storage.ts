import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

/** A stored file, ready to stream. */
export interface StoredFile {
  body: Readable;
  bytes: number;
}

/**
 * Where finished exports live. Keys are flat names the export jobs choose (`exp_….1.csv`). The
 * local filesystem serves by default; an object store (S3: PutObject with multipart upload,
 * GetObject, DeleteObject) fits the same three calls.
 */
export interface ExportStorage {
  /** Streams `body` into `key`; the file appears under `key` only once it is complete. */
  write(key: string, body: Readable, options?: { signal?: AbortSignal }): Promise<{ bytes: number }>;
  /** The file under `key`, or undefined when there is none. */
  read(key: string): Promise<StoredFile | undefined>;
  /** Deletes `key`; deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
}

const KEY = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}$/;

/** Files in one directory (EXPORT_DIR, default `<DATA_DIR>/exports`). */
export class LocalExportStorage implements ExportStorage {
  constructor(private readonly dir: string) {}

  async write(key: string, body: Readable, options: { signal?: AbortSignal } = {}): Promise<{ bytes: number }> {
    const path = this.pathOf(key);
    await mkdir(this.dir, { recursive: true });
    // Written aside and renamed: a reader never sees half a file, and a worker that dies leaves
    // only a `.partial` behind, never a truncated export under the real key.
    const partial = `${path}.${randomBytes(6).toString("hex")}.partial`;
    const file = createWriteStream(partial);
    try {
      await pipeline(body, file, options.signal ? { signal: options.signal } : {});
      await rename(partial, path);
      return { bytes: file.bytesWritten };
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  async read(key: string): Promise<StoredFile | undefined> {
    let handle;
    try {
      handle = await open(this.pathOf(key), "r");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    const { size } = await handle.stat();
    return { body: handle.createReadStream(), bytes: size };
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  private pathOf(key: string): string {
    if (!KEY.test(key) || key.includes("..")) throw new Error(`Not an export key: ${key}`);
    return join(this.dir, key);
  }
}

/** The export storage configuration names (the local filesystem; an object store joins here). */
export function createExportStorage(config: { dir: string }): ExportStorage {
  return new LocalExportStorage(config.dir);
}
