import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GET } from '../../src/app/api/metrics/route';
import { setupApp, type TestApp } from '../helpers/app';
import { RecordingSink } from '../helpers/sink';

describe('GET /api/metrics', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await setupApp();
  });
  afterEach(async () => {
    await app.close();
  });

  it('serves Prometheus text with the open live connections and signals published by lane', async () => {
    app.hub.connect({ scope: 'acme', sink: new RecordingSink() });
    app.hub.connect({ scope: 'globex', sink: new RecordingSink() });
    await app.hub.invalidate('acme', { resource: 'orders' });
    await app.hub.progress('acme', 'imports.x', 1, 2);
    const res = await GET();
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toContain('# TYPE trpc_live_connections gauge');
    expect(text).toMatch(/^trpc_live_connections 2$/m);
    expect(text).toMatch(/^trpc_live_published_signals\{lane="instant"\} 1$/m);
    expect(text).toMatch(/^trpc_live_published_signals\{lane="coalesced"\} 1$/m);
    expect(text).toMatch(/^trpc_live_draining 0$/m);
    expect(text).toContain('process_cpu_user_seconds_total');
  });
});
