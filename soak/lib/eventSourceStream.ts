/**
 * One live stream run by the `eventsource` package (v4: the WHATWG
 * EventSource over fetch), beside the raw streams of soak/lib/clientWorker.ts.
 * It reconnects by itself, as a browser would: after its own reconnection
 * delay (3 s unless the server sent `retry:`), resending its last event id as
 * the `Last-Event-ID` header, which tRPC reads as `input.lastEventId`. The
 * raw streams reconnect by the runner's policy instead (often at once), so the
 * two populations answer different questions and are reported apart.
 */
import { EventSource } from 'eventsource';
import {
  epochOf,
  epochs,
  errorCode,
  errorSamples,
  now,
  resetReasons,
  resumeFirst,
  resumeHello,
  sample,
  seqOf,
  serializedErrors,
  totals,
} from './clientTotals';
import { ReceivedLog } from './oracle';
import { LIVE_STREAM_PATH, type StreamSpec } from './protocol';

export class EventSourceStream {
  /** Data frames and resets by epoch: what the record oracle reads. */
  readonly received = new ReceivedLog();
  resets = 0;
  data = 0;
  hellos = 0;
  /** Isolation is checked on raw streams only. */
  readonly violations = 0;
  lastEventId = '';
  connected = false;
  failed = false;
  /** Closed for good by the runner (`close`). */
  retired = false;
  private es: EventSource | null = null;
  private epoch = '';
  private goneAt: number | null = null;
  private awaitingFirst = false;
  private opened: ((ok: boolean) => void) | null = null;

  constructor(
    readonly spec: StreamSpec,
    private readonly baseUrl: URL,
  ) {}

  open(): Promise<boolean> {
    return new Promise((resolve) => {
      this.opened = resolve;
      const topics = this.spec.view.topics;
      const query = topics?.length ? `?input=${encodeURIComponent(JSON.stringify({ json: { topics } }))}` : '';
      const cookie = this.spec.cookie;
      const es = new EventSource(new URL(LIVE_STREAM_PATH + query, this.baseUrl), {
        // The session cookie a browser would send (Node's fetch has no cookie jar).
        fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, cookie } }),
      });
      this.es = es;
      es.addEventListener('open', () => {
        if (this.hellos > 0) totals.reconnects++;
      });
      es.addEventListener('message', (event) => this.onMessage(event.data as string, event.lastEventId));
      es.addEventListener('serialized-error', (event) => {
        serializedErrors[errorCode(event.data as string)] = (serializedErrors[errorCode(event.data as string)] ?? 0) + 1;
        if (!this.connected) this.fail(`serialized-error ${errorCode(event.data as string)}`);
        else this.teardown();
      });
      es.addEventListener('return', () => this.teardown());
      es.addEventListener('error', () => {
        if (this.retired || this.failed) return;
        if (es.readyState === es.CLOSED) {
          // EventSource gave up (a non-200 answer or a wrong content type): it will not come back.
          this.fail(this.hellos ? 'closed by EventSource after a failed reconnect' : 'refused');
          return;
        }
        // It will reconnect by itself after its reconnection delay.
        if (this.connected) totals.unexpectedEnds++;
        this.connected = false;
        this.goneAt ??= now();
      });
    });
  }

  private onMessage(data: string, id: string): void {
    let message: { kind: string; seq?: number; reason?: string; epoch?: string };
    try {
      message = (JSON.parse(data) as { json: typeof message }).json;
    } catch {
      sample(errorSamples, `eventsource stream ${this.spec.key}: unparsable frame ${data.slice(0, 80)}`);
      return;
    }
    if (id) this.lastEventId = id;
    const at = now();
    switch (message.kind) {
      case 'hello':
        this.hellos++;
        this.connected = true;
        if (message.epoch) {
          epochs.add(message.epoch);
          this.epoch = message.epoch;
          this.received.meet(message.epoch);
          // The first hello of a new stream (no Last-Event-ID yet) names the head: its window opens there.
          if (this.hellos === 1 && Number.isFinite(seqOf(id))) this.received.open(epochOf(id, message.epoch), seqOf(id));
        }
        if (this.goneAt !== null) {
          resumeHello.add(at - this.goneAt);
          this.awaitingFirst = true;
        }
        this.settleOpen(true);
        return;
      case 'reconnect':
        return;
      case 'reset':
        this.resets++;
        resetReasons[message.reason ?? '?'] = (resetReasons[message.reason ?? '?'] ?? 0) + 1;
        this.received.addReset(epochOf(id, this.epoch), message.seq ?? 0);
        this.resumed(at, 'reset');
        return;
      default:
        this.data++;
        if (typeof message.seq === 'number') this.received.addData(epochOf(id, this.epoch), message.seq);
        this.resumed(at, 'data');
    }
  }

  private resumed(at: number, by: 'reset' | 'data'): void {
    if (!this.awaitingFirst || this.goneAt === null) return;
    resumeFirst.add(at - this.goneAt);
    totals.resumedBy[by]++;
    this.awaitingFirst = false;
    this.goneAt = null;
  }

  private settleOpen(ok: boolean): void {
    const done = this.opened;
    this.opened = null;
    done?.(ok);
  }

  fail(reason: string): void {
    if (this.failed) return;
    this.failed = true;
    totals.openErrors++;
    sample(errorSamples, `eventsource stream ${this.spec.key}: ${reason}`);
    this.teardown();
    this.settleOpen(false);
  }

  /** Closes the EventSource (it will not reconnect); the mode of a raw stream's teardown does not apply. */
  teardown(_mode?: 'rst' | 'end'): void {
    this.connected = false;
    this.es?.close();
  }
}
