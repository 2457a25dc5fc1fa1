import { TRPCClientError } from '@trpc/client';
import { TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { makeQueryClient, retryOnceUnlessRefused } from '../../src/trpc/queryClient';

/** A TRPCClientError as the browser's link builds it from an HTTP answer with this status. */
const answered = (httpStatus: number) =>
  TRPCClientError.from({ error: { message: 'x', code: -32600, data: { code: 'X', httpStatus } } } as never);

describe('query retries (browser and server render)', () => {
  it('is the query default', () => {
    expect(makeQueryClient().getDefaultOptions().queries?.retry).toBe(retryOnceUnlessRefused);
  });

  it('does not retry an answer that says no: 4xx in the browser, their codes on the server', () => {
    for (const status of [400, 401, 403, 404, 413, 415]) expect(retryOnceUnlessRefused(0, answered(status)), String(status)).toBe(false);
    for (const code of ['NOT_FOUND', 'FORBIDDEN', 'UNAUTHORIZED', 'BAD_REQUEST'] as const) {
      expect(retryOnceUnlessRefused(0, new TRPCError({ code })), code).toBe(false);
    }
  });

  it('retries once what may pass on a second try: 5xx, 408, 429, network errors', () => {
    for (const status of [500, 502, 503, 408, 429]) expect(retryOnceUnlessRefused(0, answered(status)), String(status)).toBe(true);
    expect(retryOnceUnlessRefused(0, new TRPCError({ code: 'INTERNAL_SERVER_ERROR' }))).toBe(true);
    expect(retryOnceUnlessRefused(0, new TRPCError({ code: 'TOO_MANY_REQUESTS' }))).toBe(true);
    expect(retryOnceUnlessRefused(0, new TypeError('fetch failed'))).toBe(true);
    expect(retryOnceUnlessRefused(1, new TypeError('fetch failed'))).toBe(false);
  });
});
