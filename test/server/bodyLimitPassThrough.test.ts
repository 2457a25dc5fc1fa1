/**
 * limitRequestBody counts a body only when no Content-Length bounds it: a
 * declared length within the limit is trusted (Node's HTTP parser delivers no
 * more), so the request is passed on as it came, without a counting stream.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_BODY_BYTES, limitRequestBody } from '../../src/server/bodyLimit';
import { appRouter } from '../../src/server/routers/_app';

const url = 'http://localhost/api/trpc/orders.create';
const body = JSON.stringify({ json: { customer: 'A', items: [{ productId: 'p', quantity: 1 }] } });

describe('limitRequestBody', () => {
  it('passes a request on unchanged when its declared Content-Length is within the limit', () => {
    const req = new Request(url, { method: 'POST', headers: { 'content-length': String(body.length) }, body });
    expect(limitRequestBody(req, appRouter, '/api/trpc')).toBe(req);
  });

  it('counts a streamed body without a Content-Length and fails it past the limit', async () => {
    const big = new Uint8Array(DEFAULT_MAX_BODY_BYTES + 1);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(big);
        controller.close();
      },
    });
    const req = new Request(url, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    const limited = limitRequestBody(req, appRouter, '/api/trpc');
    expect(limited).not.toBe(req);
    await expect((limited as Request).arrayBuffer()).rejects.toThrow(/larger than 1,048,576 bytes/);
  });

  it('answers a declared Content-Length over the limit with 413 without reading', () => {
    const req = new Request(url, { method: 'POST', headers: { 'content-length': String(DEFAULT_MAX_BODY_BYTES + 1) }, body: 'x' });
    const answer = limitRequestBody(req, appRouter, '/api/trpc') as Response;
    expect(answer.status).toBe(413);
    expect(req.bodyUsed).toBe(false);
  });
});
