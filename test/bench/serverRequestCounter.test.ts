import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ACTOR_HEADER, COUNTER_PATH } from '../../bench/lib/requestCounting.mjs';
import { freePort } from '../helpers/prodServer';

const counter = path.resolve(import.meta.dirname, '../../bench/lib/serverRequestCounter.mjs');
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** A plain node:http server answering 200 to everything, with the counter preloaded as the article benchmark preloads it. */
async function startCounted(token: string): Promise<string> {
  const port = await freePort();
  const app = `require('node:http').createServer((req, res) => res.end('app')).listen(${port}, '127.0.0.1')`;
  const child = spawn(process.execPath, ['--import', counter, '-e', app], { env: { ...process.env, BENCH_REQUEST_COUNTER_TOKEN: token }, stdio: 'ignore' });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 10_000; ; ) {
    try {
      await fetch(`${url}/ready`);
      return url;
    } catch {
      if (Date.now() > deadline) throw new Error('counted server not up within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describe('server-side request counter of the article benchmark', () => {
  it('counts tRPC requests as the server receives them, classified as the browsers classify theirs, actors apart', async () => {
    const url = await startCounted('secret');
    const trpc = `${url}/api/trpc`;
    await fetch(`${trpc}/orders.list,dashboard.stats?batch=1`);
    await fetch(`${trpc}/products.list?batch=1`);
    await fetch(`${trpc}/live.pause?batch=1`, { method: 'POST', body: '{}' });
    const stream = await fetch(`${trpc}/live.stream`, { headers: { accept: 'text/event-stream' } });
    await stream.text();
    await fetch(`${trpc}/orders.updateStatus?batch=1`, { method: 'POST', body: '{}', headers: { [ACTOR_HEADER]: '1' } });
    await fetch(`${url}/api/health`); // not tRPC: not counted
    const res = await fetch(`${url}${COUNTER_PATH}`, { headers: { authorization: 'Bearer secret' } });
    expect(await res.json()).toEqual({ queries: 2, mutations: 1, streams: 1, actors: 1 });
  });

  it('answers the counts only with the token, and passes the path to the app when no token is set', async () => {
    const url = await startCounted('secret');
    expect((await fetch(`${url}${COUNTER_PATH}`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const off = await startCounted('');
    expect(await (await fetch(`${off}${COUNTER_PATH}`)).text()).toBe('app');
  });
});
