import type { ModeMachine } from './modeMachine.ts';
import { after, type PublishDeadlines } from './publishDeadlines.ts';
import { messageOf } from './redisErrors.ts';

/** What {@link HealthPing} needs from its backend. */
export interface HealthPingOptions {
  readonly intervalMs: number;
  readonly unreachableAfterMs: number;
  readonly mode: Pick<ModeMachine, 'shared'>;
  readonly deadlines: Pick<PublishDeadlines, 'tick' | 'heard' | 'silentFor' | 'stalled'>;
  /** The command connection can take a PING now. */
  readonly canPing: () => boolean;
  readonly ping: () => Promise<void>;
  readonly now: () => number;
  /** Redis answered nothing for `unreachableAfterMs`, or failed the PING. */
  readonly onUnreachable: (why: string) => void;
}

/**
 * A PING every `intervalMs` while shared: a Redis that stops answering is
 * noticed without a publish. Its timer also ticks {@link PublishDeadlines},
 * which tells a stall of this process's own loop from Redis's silence.
 */
export class HealthPing {
  private timer: ReturnType<typeof setInterval> | null = null;
  private outstanding = false;

  constructor(private readonly options: HealthPingOptions) {}

  /** Starts the interval (unref'd: it never keeps a process alive). */
  start(): void {
    this.timer = setInterval(() => this.ping(), this.options.intervalMs);
    this.timer.unref?.();
  }

  /** Stops the interval (on close). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private ping(): void {
    const { mode, deadlines, unreachableAfterMs, onUnreachable } = this.options;
    deadlines.tick();
    if (!mode.shared || this.outstanding || !this.options.canPing()) return;
    this.outstanding = true;
    const sentAt = this.options.now();
    let answered = false;
    let timer: ReturnType<typeof setTimeout>;
    // Silence, not latency: a PING queued behind a burst of publishes waits, but their answers flow.
    const check = () => {
      if (answered || !mode.shared) return;
      const silentFor = deadlines.silentFor(sentAt);
      // A stalled loop of our own may not have read Redis's answer yet: look again after a turn.
      if (silentFor >= unreachableAfterMs && deadlines.stalled()) timer = after(0, check);
      else if (silentFor >= unreachableAfterMs) onUnreachable(`no answer from Redis for ${unreachableAfterMs} ms`);
      else timer = after(unreachableAfterMs - silentFor, check);
    };
    timer = after(unreachableAfterMs, check);
    const done = () => {
      answered = true;
      this.outstanding = false;
      clearTimeout(timer);
    };
    this.options.ping().then(
      () => {
        deadlines.heard();
        done();
      },
      (error: unknown) => {
        done();
        // A command timeout shorter than the PING's: the same verdict.
        if (mode.shared) onUnreachable(messageOf(error));
      },
    );
  }
}
