// What every operator command (audit:verify, client:suspend, documents:push, dsr:*,
// retention:purge) shares: the database it works on, and how it ends.
import { allTenants, createPrismaClient, type PrismaClient } from "../platform/database/database.ts";
import { openDatabaseFromEnvironment } from "../platform/database/database-from-environment.ts";

/**
 * Runs `main` with the command's arguments; the number it answers is the exit code. A failure
 * (a refusal such as AuthError included) prints one line, `name: message`, and exits 1: no stack.
 */
export function runCommand(name: string, main: (argv: string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    },
  );
}

/** The configured database (DATABASE_URL, else the embedded PGlite under DATA_DIR) for one command; closed after `work`. */
export async function withDatabase<T>(work: (prisma: PrismaClient, where: string) => Promise<T>): Promise<T> {
  const { target, where, close } = await openDatabaseFromEnvironment(1);
  const prisma = createPrismaClient(target, { access: allTenants("operator-command") });
  try {
    return await work(prisma, where);
  } finally {
    await prisma.$disconnect();
    await close();
  }
}
