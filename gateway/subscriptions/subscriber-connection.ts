import type { Viewer } from "../../platform/auth/viewer.ts";

/** One authenticated graphql-ws connection, as the hub sees it. */
export interface SubscriberConnection {
  viewer: Viewer;
  authorization: string;
  dpop: string | undefined;
  /** Bytes queued on the socket and not yet sent. */
  bufferedAmount(): number;
  close(code: number, reason: string): void;
}
