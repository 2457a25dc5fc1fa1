/**
 * How a live stream ends when the server closes it for a drain or a rotation,
 * on both transports byte for byte: the hub's `reconnect` hint (an untracked
 * data frame, `afterMs` jittered), then `retry: <afterMs>`, then the end of
 * the response, with neither tRPC's `return` event (which stops
 * `httpSubscriptionLink` for good) nor a `serialized-error` event. The
 * `retry:` field sets the EventSource's reconnection delay, so a plain
 * `httpSubscriptionLink` consumer reconnects after the hinted, jittered delay
 * (0-2 s on a drain) instead of its EventSource's fixed default (3 s in
 * eventsource@4 and Chromium, 5 s in Firefox, every client at once), and
 * resumes from its cursor.
 *
 * The fast transport writes this itself (`SocketSink.close`). tRPC's own SSE
 * producer, behind the stock route, cannot write a `retry:` field: the stream
 * ends there silently (an abort, see {@link serverClosedStream}) and
 * {@link appendRetryHint} adds the field from the hint it saw go by.
 */

/** `retry: <ms>`: the EventSource reconnection delay (a standard SSE field; dispatches no event). */
export function sseRetry(ms: number): string {
  return `retry: ${Math.max(0, Math.floor(ms))}\n\n`;
}

/**
 * What a stock-route live stream throws when the server closed it for a
 * drain, a rotation or a backend error: an abort, which tRPC's producer
 * answers by ending the response without any event.
 */
export function serverClosedStream(): Error {
  return new DOMException('Stream closed by the server; reconnect', 'AbortError');
}

/** Events after which a stream must not get a retry hint (it ended for good, or with an error). */
const FINAL_EVENTS = new Set(['event: return', 'event: serialized-error']);

/**
 * The SSE `body` of a stock-route live stream with `retry: <afterMs>` added
 * at its end when a `reconnect` hint went by and the stream ended without
 * `return` or an error event. `deserialize` is the router transformer's
 * (the hint's data is its serialized value). Chunks pass through unchanged.
 */
export function appendRetryHint(
  body: ReadableStream<Uint8Array>,
  deserialize: (value: unknown) => unknown,
): ReadableStream<Uint8Array> {
  const decoder = new TextDecoder();
  let partial = '';
  let retryMs: number | null = null;
  let final = false;
  const readLine = (line: string) => {
    if (FINAL_EVENTS.has(line)) final = true;
    // Parse only what can be a hint: the hub's frames are serialized once, tiny next to the scan.
    else if (line.startsWith('data: ') && line.includes('"reconnect"')) {
      try {
        const message = deserialize(JSON.parse(line.slice(6))) as { kind?: unknown; afterMs?: unknown } | null;
        if (message?.kind === 'reconnect' && typeof message.afterMs === 'number') retryMs = message.afterMs;
      } catch {
        // Not a frame of ours.
      }
    }
  };
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        const lines = (partial + decoder.decode(chunk, { stream: true })).split('\n');
        partial = lines.pop()!;
        for (const line of lines) readLine(line);
        controller.enqueue(chunk);
      },
      flush(controller) {
        readLine(partial + decoder.decode());
        if (retryMs !== null && !final) controller.enqueue(new TextEncoder().encode(sseRetry(retryMs)));
      },
    }),
  );
}
