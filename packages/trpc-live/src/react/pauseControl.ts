/**
 * When the tab holding the stream pauses its connection on the server: once
 * no tab sharing the stream has been visible for `afterMs`, and at once when
 * one is visible again. The server is told only of a change, and only for
 * the connection the stream's last hello named (a new connection starts
 * unpaused on the server, so it is paused again if every tab is still hidden).
 */
export class PauseControl {
  /** The stream's connection on the server, from its last hello (null before the first). */
  private connectionId: string | null = null;
  /** What the server was last told for `connectionId`. */
  private serverPaused = false;
  /** Pending pause: every tab is hidden, for less than `afterMs` so far. */
  private timer: ReturnType<typeof setTimeout> | null = null;

  /**
   * @param setPaused pauses or resumes a connection on the server (undefined: never paused)
   * @param afterMs how long every tab must stay hidden first (0 or less: at once)
   * @param anyTabVisible whether any tab sharing the stream is visible now
   * @param onDelayedPause called after a pause that waited `afterMs` was sent
   */
  constructor(
    private readonly setPaused: ((connectionId: string, paused: boolean) => unknown) | undefined,
    private readonly afterMs: number,
    private readonly anyTabVisible: () => boolean,
    private readonly onDelayedPause: () => void,
  ) {}

  /** Whether the server was told to pause the current connection. */
  get paused(): boolean {
    return this.serverPaused;
  }

  /** The stream said hello on `connectionId`, which the server starts unpaused. Call {@link update} next. */
  connected(connectionId: string): void {
    this.connectionId = connectionId;
    this.serverPaused = false;
  }

  /** Re-evaluates after a tab was shown, hidden, joined or left, or the stream said hello. */
  update(): void {
    if (this.anyTabVisible()) {
      this.cancel();
      this.tell(false);
      return;
    }
    if (!this.setPaused || !this.connectionId || this.serverPaused || this.timer !== null) return;
    if (this.afterMs <= 0) {
      this.tell(true);
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.anyTabVisible()) return;
      this.tell(true);
      this.onDelayedPause();
    }, this.afterMs);
  }

  /** Cancels a pending pause (the stream is closing). */
  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private tell(paused: boolean): void {
    const { setPaused, connectionId } = this;
    if (!setPaused || !connectionId || paused === this.serverPaused) return;
    this.serverPaused = paused;
    void Promise.resolve()
      .then(() => setPaused(connectionId, paused))
      .catch(() => {
        // The connection closed meanwhile; its successor starts unpaused and is reconciled on hello.
      });
  }
}
