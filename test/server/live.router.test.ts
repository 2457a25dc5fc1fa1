import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveError, type LiveErrorCode } from 'trpc-live/shared';
import { setupApp, type TestApp } from '../helpers/app';

describe('live.pause / live.resume', () => {
  let app: TestApp;
  let controller: AbortController;
  beforeEach(async () => {
    app = await setupApp();
    controller = new AbortController();
  });
  afterEach(async () => {
    controller.abort();
    await app.close();
  });

  const openStream = async () => (await app.openStreamAs('bob@acme.test', controller.signal)).id;

  it('pauses and resumes the caller own stream', async () => {
    const id = await openStream();
    const bob = await app.callerAs('bob@acme.test');
    expect(await bob.live.pause({ connectionId: id })).toEqual({ paused: true });
    expect(app.hub.connection(id)!.paused).toBe(true);
    expect(await bob.live.resume({ connectionId: id })).toEqual({ paused: false });
    expect(app.hub.connection(id)!.paused).toBe(false);
  });

  it('answers NOT_FOUND for the stream of another user or tenant, and leaves it running', async () => {
    const id = await openStream();
    for (const email of ['alice@acme.test', 'carol@globex.test'] as const) {
      const other = await app.callerAs(email);
      await expect(other.live.pause({ connectionId: id })).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'No such live connection' });
    }
    expect(app.hub.connection(id)!.paused).toBe(false);
  });

  it('answers NOT_FOUND for an unknown stream', async () => {
    const bob = await app.callerAs('bob@acme.test');
    await expect(bob.live.resume({ connectionId: 'nope' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  // The library's documented error mapping (LiveErrorCode's JSDoc, packages/trpc-live/src/shared/errors.ts):
  // written out here as the oracle, so the router cannot drift from it by mapping codes by hand.
  const DOCUMENTED: Record<LiveErrorCode, string> = {
    BAD_TOPIC: 'BAD_REQUEST',
    BAD_CURSOR: 'BAD_REQUEST',
    BAD_SIGNAL: 'BAD_REQUEST',
    BAD_OPTIONS: 'BAD_REQUEST',
    UNAUTHORIZED: 'UNAUTHORIZED',
    FORBIDDEN: 'FORBIDDEN',
    NOT_FOUND: 'NOT_FOUND',
    DRAINING: 'SERVICE_UNAVAILABLE',
    CLOSED: 'INTERNAL_SERVER_ERROR',
    BACKEND: 'INTERNAL_SERVER_ERROR',
  };

  it('answers every hub error with the tRPC code the library maps it to when pausing fails', async () => {
    const bob = await app.callerAs('bob@acme.test');
    const answered: Record<string, string> = {};
    for (const code of Object.keys(DOCUMENTED) as LiveErrorCode[]) {
      const setPaused = vi.spyOn(app.hub, 'setPaused').mockImplementation(() => {
        throw new LiveError(code, `hub says ${code}`);
      });
      try {
        await bob.live.pause({ connectionId: 'conn_1' });
        answered[code] = 'no error';
      } catch (error) {
        answered[code] = (error as { code: string }).code;
      } finally {
        setPaused.mockRestore();
      }
    }
    expect(answered).toEqual(DOCUMENTED);
  });
});
