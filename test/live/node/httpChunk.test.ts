import { describe, expect, it } from 'vitest';
import { chunkBody, httpChunk, joinChunks } from '../../../packages/trpc-live/src/node/httpChunk';

describe('HTTP chunks built once per frame (node/httpChunk.ts)', () => {
  it('frames text as size line in hex of its UTF-8 bytes, the bytes, CRLF', () => {
    const text = 'data: "é✓"\n\n';
    const bytes = Buffer.byteLength(text);
    expect(bytes).toBe(text.length + 3);
    expect(httpChunk(text).toString()).toBe(`${bytes.toString(16)}\r\n${text}\r\n`);
    expect(Buffer.from(chunkBody(httpChunk(text))).toString()).toBe(text);
  });

  it('joins chunks into one chunk whose size counts every body, with no framing inside', () => {
    const texts = ['a'.repeat(300), 'data: "ü"\n\n\n', 'x'];
    const joined = joinChunks(texts.map(httpChunk));
    const body = texts.join('');
    expect(joined.toString()).toBe(`${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n`);
  });
});
