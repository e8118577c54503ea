/**
 * Drains a queue of work one pass at a time: `step` handles one batch and says how many items
 * it took; the loop calls it again until it takes none. A wake-up while a pass is running is
 * not lost: it earns one more round once the current one is done. A failed step is reported
 * and the loop waits for the next wake-up (a timer or a notification) to try again.
 */
export class DrainLoop {
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly step: () => Promise<number>,
    private readonly onError: (error: unknown) => void,
  ) {}

  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        while (!this.stopped && (await this.step()) > 0);
      } while (this.again && !this.stopped);
    })()
      .catch(this.onError)
      .finally(() => (this.running = undefined));
  }

  /** Also wakes every `intervalMs` (a safety net beside the notifications), after `onTick`; the timer keeps no process alive. */
  pollEvery(intervalMs: number, onTick?: () => void): void {
    this.timer = setInterval(() => {
      onTick?.();
      this.wake();
    }, intervalMs);
    this.timer.unref();
  }

  /** No new passes and no more polling; resolves when the current pass, if any, is over. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.stopped = true;
    await this.running;
  }
}
