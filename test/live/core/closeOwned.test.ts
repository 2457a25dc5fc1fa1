import { describe, expect, it } from 'vitest';
import { createHub } from 'trpc-live/core';
import { RecordingSink } from '../../helpers/sink';

describe('hub.closeOwned', () => {
  it('closes exactly the connections of the owner, with the reason given', async () => {
    const hub = createHub();
    const open = (scope: string, groups: Record<string, string>) => {
      const sink = new RecordingSink();
      hub.connect({ scope, groups, sink });
      return sink;
    };
    const revoked = [open('acme', { user: 'u1', session: 's1' }), open('acme', { user: 'u1', session: 's1' })];
    const otherSession = open('acme', { user: 'u1', session: 's2' });
    const otherTenant = open('globex', { user: 'u1', session: 's1' });
    const noSession = open('acme', { user: 'u1' });

    expect(hub.closeOwned({ scope: 'acme', groups: { session: 's1' } }, 'unauthorized')).toBe(2);
    expect(revoked.map((sink) => sink.closed)).toEqual(['unauthorized', 'unauthorized']);
    expect([otherSession, otherTenant, noSession].map((sink) => sink.closed)).toEqual([null, null, null]);
    expect(hub.connectionCount).toBe(3);
    expect(hub.closeOwned({ scope: 'acme', groups: { session: 's1' } }, 'unauthorized')).toBe(0);
    await hub.close();
  });
});
