/** What the gateway knows about a request; the verified token joins it with authentication. */
export interface GatewayContext {
  requestId: string;
}
