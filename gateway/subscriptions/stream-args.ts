/** What `Subscription.alertCreated`'s arguments ask of a stream. */
export interface StreamArgs {
  userId: string | undefined;
  minSeverity: string | undefined;
  after: bigint | undefined;
}
