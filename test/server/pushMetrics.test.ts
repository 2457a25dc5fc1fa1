import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GET } from '../../src/app/api/metrics/route';
import { setupApp, type TestApp } from '../helpers/app';

// live.pushStats() in GET /api/metrics (issue 17: the bench and operators can see computations per change).

const TOKEN = randomBytes(16).toString('base64url');

async function scrape(): Promise<Map<string, number>> {
  const res = await GET(new Request('http://localhost/api/metrics', { headers: { authorization: `Bearer ${TOKEN}` } }));
  const values = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

describe('GET /api/metrics: pushed results', () => {
  let app: TestApp;
  const abort = new AbortController();
  beforeEach(async () => {
    vi.stubEnv('METRICS_TOKEN', TOKEN);
    app = await setupApp();
  });
  afterEach(async () => {
    abort.abort();
    vi.unstubAllEnvs();
    await app.close();
  });

  it('counts the computations and result frames of a change two users of a tenant watch', async () => {
    const before = await scrape();
    const bob = await app.openStreamAs('bob@acme.test', abort.signal);
    const alicesStream = await app.openStreamAs('alice@acme.test', abort.signal);
    const watched = { path: 'orders.byId', input: { id: 'ord_acme_2' } };
    await (await app.callerAs('bob@acme.test')).live.watch({ connectionId: bob.id, add: [watched] });
    const alice = await app.callerAs('alice@acme.test');
    await alice.live.watch({ connectionId: alicesStream.id, add: [watched] });
    const order = await alice.orders.byId({ id: 'ord_acme_2' });
    await alice.orders.updateStatus({ id: 'ord_acme_2', status: order.status === 'shipped' ? 'paid' : 'shipped' });
    let after = await scrape();
    const results = () => (after.get('trpc_live_push_frames_total{kind="result"}') ?? 0) - (before.get('trpc_live_push_frames_total{kind="result"}') ?? 0);
    for (let i = 0; i < 100 && results() < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      after = await scrape();
    }
    const delta = (key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
    // One computation for the tenant, its result written to both streams.
    expect(delta('trpc_live_push_computations_total')).toBe(1);
    expect(delta('trpc_live_push_frames_total{kind="result"}')).toBe(2);
    expect(delta('trpc_live_push_frames_total{kind="delta"}')).toBe(0);
    expect(after.has('trpc_live_push_refetches_total{reason="too-large"}')).toBe(true);
    expect(delta('trpc_live_push_refetches_total{reason="error"}')).toBe(0);
    // Both writes observed in the push latency histogram (each one batch with one pushed frame).
    expect(delta('trpc_live_push_to_write_seconds_count')).toBe(2);
  });
});
