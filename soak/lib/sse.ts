/**
 * A Server-Sent Events parser with EventSource's rules (WHATWG HTML,
 * "Interpreting an event stream"), small enough to run thousands at once:
 * fields per line, `id` kept in a buffer that survives events (so tRPC's
 * `id: ` + `restore-id` dance leaves the last real cursor in place), an event
 * dispatched on a blank line when it has data. LF line endings only: the
 * servers under test write nothing else.
 */
export interface SseEvent {
  /** `event:` field, or `message`. */
  readonly type: string;
  readonly data: string;
  /** The last event id after this event (what EventSource would resend on reconnect). */
  readonly lastEventId: string;
}

export class SseParser {
  private rest = '';
  private type = '';
  private data = '';
  private hasData = false;
  private idBuffer = '';
  /** EventSource's `lastEventId`: set from the id buffer at every dispatch. */
  lastEventId = '';
  /** `retry:` value in ms, when the server sent one. */
  retryMs: number | null = null;

  constructor(
    private readonly onEvent: (event: SseEvent) => void,
    initialLastEventId = '',
  ) {
    this.idBuffer = initialLastEventId;
    this.lastEventId = initialLastEventId;
  }

  feed(chunk: string): void {
    const text = this.rest ? this.rest + chunk : chunk;
    let start = 0;
    let nl: number;
    while ((nl = text.indexOf('\n', start)) !== -1) {
      const line = text.slice(start, nl);
      start = nl + 1;
      if (line === '') {
        this.dispatch();
        continue;
      }
      const colon = line.indexOf(':');
      if (colon === 0) continue;
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.charCodeAt(0) === 32) value = value.slice(1);
      switch (field) {
        case 'data':
          this.data = this.hasData ? `${this.data}\n${value}` : value;
          this.hasData = true;
          break;
        case 'event':
          this.type = value;
          break;
        case 'id':
          if (!value.includes('\0')) this.idBuffer = value;
          break;
        case 'retry':
          if (/^\d+$/.test(value)) this.retryMs = Number(value);
          break;
      }
    }
    this.rest = text.slice(start);
  }

  private dispatch(): void {
    this.lastEventId = this.idBuffer;
    if (!this.hasData) {
      this.type = '';
      return;
    }
    const event = { type: this.type || 'message', data: this.data, lastEventId: this.lastEventId };
    this.type = '';
    this.data = '';
    this.hasData = false;
    this.onEvent(event);
  }
}
