import pg from "pg";
import type { DatabaseTarget } from "./database.ts";
import type { Logger } from "../logger.ts";

const RECONNECT_DELAY_MS = 1_000;

/**
 * `LISTEN channel` on the database, PostgreSQL or the embedded PGlite. On a server it holds one
 * dedicated connection (NOTIFY is not delivered through a pool) and reconnects after a failure;
 * `onNotify` is called once after every reconnect too, because notifications sent while the
 * connection was down are gone and the listener must look at the record itself.
 */
export async function listen(
  target: DatabaseTarget,
  channel: string,
  onNotify: (payload: string) => void,
  logger: Logger,
): Promise<() => Promise<void>> {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`Channel name ${channel} must be a lowercase identifier`);
  if (target.kind === "pglite") {
    const unlisten = await target.pglite.listen(channel, (payload) => onNotify(payload));
    return async () => {
      await unlisten().catch(() => undefined);
    };
  }

  let stopped = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: target.url });
    next.on("notification", (message) => onNotify(message.payload ?? ""));
    next.on("error", (error) => {
      logger.warn({ err: error, channel }, "event listener connection failed; reconnecting");
      void next.end().catch(() => undefined);
      if (client === next) client = undefined;
      schedule();
    });
    await next.connect();
    await next.query(`LISTEN ${channel}`);
    if (stopped) {
      await next.end();
      return;
    }
    client = next;
  };
  const schedule = () => {
    if (stopped || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      connect()
        .then(() => onNotify(""))
        .catch((error: unknown) => {
          logger.warn({ err: error, channel }, "event listener could not reconnect");
          schedule();
        });
    }, RECONNECT_DELAY_MS);
    retry.unref();
  };
  await connect();
  return async () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    await client?.end().catch(() => undefined);
  };
}
