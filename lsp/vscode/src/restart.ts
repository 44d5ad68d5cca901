// When the server dies, restart it after a short, growing pause, but at most `limit` times within
// `windowMs`: a server that keeps crashing is left stopped and the person is told why. Pure: the
// clock is passed in.

export const RESTART_LIMIT = 4;
export const RESTART_WINDOW_MS = 3 * 60 * 1000;
export const FIRST_DELAY_MS = 250;
export const MAX_DELAY_MS = 4000;

export class RestartPolicy {
  private restarts: number[] = [];

  constructor(
    private readonly now: () => number = Date.now,
    readonly limit: number = RESTART_LIMIT,
    readonly windowMs: number = RESTART_WINDOW_MS,
  ) {}

  /** The server stopped unexpectedly: true to restart it (and count the restart), false to give up. */
  onCrash(): boolean {
    const t = this.now();
    this.restarts = this.restarts.filter((r) => t - r < this.windowMs);
    if (this.restarts.length >= this.limit) {
      return false;
    }
    this.restarts.push(t);
    return true;
  }

  /** How long to wait before the restart just allowed: 250 ms, doubling with each recent restart. */
  delayMs(): number {
    return Math.min(FIRST_DELAY_MS * 2 ** Math.max(0, this.recent - 1), MAX_DELAY_MS);
  }

  /** A restart the person asked for starts the count again. */
  reset(): void {
    this.restarts = [];
  }

  /** Restarts counted in the current window. */
  get recent(): number {
    const t = this.now();
    return this.restarts.filter((r) => t - r < this.windowMs).length;
  }

  giveUpMessage(): string {
    const minutes = Math.round(this.windowMs / 60000);
    return (
      `The mpac-bridge language server stopped ${this.limit + 1} times in ${minutes} minutes and will not be ` +
      'restarted automatically. Its log is in the "mpac-bridge" output; run "mpac-bridge: Restart the language server" to try again.'
    );
  }
}
