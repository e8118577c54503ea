// Loaded into the server child with --import. If the launcher's graceful shutdown has not ended
// the process a few seconds after SIGTERM/SIGINT, say so on stderr and exit, so the child
// always stops and a --cpu-prof profile is always written (V8 writes it on a normal exit only).
const GRACE_MS = 5_000;
const MARKER = "[exit-guard]"; // server-child.ts looks for it

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    setTimeout(() => {
      process.stderr.write(`${MARKER} graceful shutdown did not end the process ${GRACE_MS} ms after ${signal}; exiting\n`);
      process.exit(0);
    }, GRACE_MS).unref();
  });
}
