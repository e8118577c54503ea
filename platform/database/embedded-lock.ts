// PGlite is one process's database: a second process that opens the same directory does not
// fail cleanly, it dies later inside PGlite's WebAssembly with a bare `Aborted()` (or, worse,
// writes beside the first). A lock file beside the data, holding the owner's pid, turns that into
// one clear sentence before anything is opened.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";

export class EmbeddedDatabaseInUseError extends Error {
  constructor(
    readonly directory: string,
    readonly pid: number,
  ) {
    super(`the embedded database at ${directory} is open in another process (pid ${pid}): stop it or set DATABASE_URL`);
    this.name = "EmbeddedDatabaseInUseError";
  }
}

/** Whether a process with this pid is running (ours counts: a second open in one process is a second owner too). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is someone else's.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes `lockPath` for this process, or throws EmbeddedDatabaseInUseError naming `directory` when
 * a running process holds it. A lock left by a process that is gone (killed, crashed) is taken over.
 * Returns the release, which is also run at exit.
 */
export function lockEmbeddedDatabase(lockPath: string, directory: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        process.off("exit", release);
        rmSync(lockPath, { force: true });
      };
      process.on("exit", release);
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number.parseInt(readFileSync(lockPath, "utf8"), 10);
      if (Number.isSafeInteger(owner) && owner > 0 && running(owner)) throw new EmbeddedDatabaseInUseError(directory, owner);
      rmSync(lockPath, { force: true });
    }
  }
  throw new Error(`could not take the lock ${lockPath}: another process keeps taking it`);
}
