/**
 * HTTP/1.1 chunked framing done once per frame instead of once per write:
 * a chunk is its size in hex, CRLF, the bytes, CRLF (RFC 9112 §7.1). A
 * published frame's chunk is built once and the same bytes go to every
 * recipient's socket in one write, which `ServerResponse.write` cannot do
 * (it measures the text's UTF-8 length and sends a size line, the text and
 * a CRLF as separate pieces on every call).
 */

const CR = 13;
const LF = 10;

/** `text` as one HTTP chunk (size line, UTF-8 bytes, CRLF). `text` must not be empty. */
export function httpChunk(text: string): Buffer {
  const size = Buffer.byteLength(text);
  const head = `${size.toString(16)}\r\n`;
  const chunk = Buffer.allocUnsafe(head.length + size + 2);
  chunk.write(head, 0, 'latin1');
  chunk.write(text, head.length, 'utf8');
  chunk[chunk.length - 2] = CR;
  chunk[chunk.length - 1] = LF;
  return chunk;
}

/** Where the bytes of a chunk made by {@link httpChunk} start (after its size line). */
function bodyStart(chunk: Uint8Array): number {
  let at = 0;
  while (chunk[at] !== LF) at++;
  return at + 1;
}

/** The bytes a chunk carries, without its framing (a view, not a copy). */
export function chunkBody(chunk: Uint8Array): Uint8Array {
  return chunk.subarray(bodyStart(chunk), chunk.length - 2);
}

/**
 * Several chunks as ONE chunk carrying all their bytes in order: one size
 * line for the whole write, so a client's HTTP parser hands the stream one
 * piece per write, as with a single `res.write`. Copies each body once.
 */
export function joinChunks(chunks: readonly Uint8Array[]): Buffer {
  let size = 0;
  const starts: number[] = [];
  for (const chunk of chunks) {
    const start = bodyStart(chunk);
    starts.push(start);
    size += chunk.length - 2 - start;
  }
  const head = `${size.toString(16)}\r\n`;
  const joined = Buffer.allocUnsafe(head.length + size + 2);
  joined.write(head, 0, 'latin1');
  let at = head.length;
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i]!;
    joined.set(chunk.subarray(starts[i]!, chunk.length - 2), at);
    at += chunk.length - 2 - starts[i]!;
  }
  joined[at] = CR;
  joined[at + 1] = LF;
  return joined;
}
