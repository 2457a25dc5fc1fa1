/**
 * Issue 15, item 2 on the tRPC HTTP handler: batches are bounded
 * (MAX_BATCH_SIZE, also through the fast transport's path), a user has at
 * most TRPC_MAX_REQUESTS_PER_SESSION requests in flight (streams apart), and
 * calls take round-robin turns.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { TRPCRequestInfo } from '@trpc/server/http';
import { createFairTurns } from '../../src/server/fairTurns';
import { createRequestLimits, DEFAULT_MAX_REQUESTS_PER_SESSION, getRequestLimits, type RequestAdmission } from '../../src/server/requestLimits';
import { MAX_BATCH_SIZE } from '../../src/trpc/batchLimit';
import { demoUsers } from '../../src/server/db/seed';
import { sessionCookieFor } from '../helpers/app';
import { createNodeClient } from '../helpers/client';
import { useServedApp } from '../helpers/servedApp';

const queryInfo = { type: 'query' } as TRPCRequestInfo;
const alice = demoUsers.find((u) => u.email === 'alice@acme.test')!;
const aliceSession = { userId: alice.id, tenantId: alice.tenantId, role: alice.role, name: alice.name, email: alice.email, exp: 0 };

const batchPath = (path: string, n: number) => `/api/trpc/${Array.from({ length: n }, () => path).join(',')}?batch=1`;

describe('tRPC HTTP handler limits', () => {
  const served = useServedApp({ transport: 'fast' });
  let cookie: string;
  beforeAll(async () => {
    cookie = await sessionCookieFor('bob@acme.test');
  });

  it('refuses a batch longer than MAX_BATCH_SIZE with 400 and runs a batch of exactly MAX_BATCH_SIZE', async () => {
    const over = await fetch(`${served.url}${batchPath('dashboard.stats', MAX_BATCH_SIZE + 1)}`, { headers: { cookie } });
    expect(over.status).toBe(400);
    // Refused before any call runs: one error for the whole request.
    const body = (await over.json()) as { error: { json: { message: string; data: { code: string } } } };
    expect(body.error.json.data.code).toBe('BAD_REQUEST');
    expect(body.error.json.message).toContain(`at most ${MAX_BATCH_SIZE} calls`);
    const fits = await fetch(`${served.url}${batchPath('dashboard.stats', MAX_BATCH_SIZE)}`, { headers: { cookie } });
    expect(fits.status).toBe(200);
    expect(((await fits.json()) as unknown[]).length).toBe(MAX_BATCH_SIZE);
  });

  it('refuses an over-long batch that names live.stream too (the fast transport declines batches)', async () => {
    const path = `/api/trpc/live.stream,${Array.from({ length: MAX_BATCH_SIZE }, () => 'dashboard.stats').join(',')}?batch=1`;
    const res = await fetch(`${served.url}${path}`, { headers: { cookie } });
    expect(res.status).toBe(400);
    await res.arrayBuffer();
  });

  it('splits a longer batch on the client into requests the server accepts', async () => {
    const client = createNodeClient(served.url, cookie);
    const results = await Promise.all(Array.from({ length: MAX_BATCH_SIZE * 2 + 1 }, () => client.dashboard.stats.query()));
    expect(results).toHaveLength(MAX_BATCH_SIZE * 2 + 1);
  });

  it('answers 429 with Retry-After when the user already has the most requests in flight, and serves others', async () => {
    const aliceCookie = await sessionCookieFor('alice@acme.test');
    const limits = getRequestLimits();
    // Hold alice's slots as requests that have not been answered yet would.
    const held: RequestAdmission[] = [];
    for (let i = 0; i < DEFAULT_MAX_REQUESTS_PER_SESSION; i++) {
      const admission = limits.begin();
      admission.admit({ session: aliceSession }, queryInfo, new Headers());
      held.push(admission);
    }
    try {
      const refused = await fetch(`${served.url}/api/trpc/dashboard.stats`, { headers: { cookie: aliceCookie } });
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
      const body = (await refused.json()) as { error: { json: { message: string; data: { code: string } } } };
      expect(body.error.json.data.code).toBe('TOO_MANY_REQUESTS');
      expect(body.error.json.message).toContain(`at most ${DEFAULT_MAX_REQUESTS_PER_SESSION} per user`);
      // Another user of the same tenant is not affected.
      expect((await fetch(`${served.url}/api/trpc/dashboard.stats`, { headers: { cookie } })).status).toBe(200);
      // The live stream is long-lived and not counted: alice still opens it.
      const stream = await fetch(`${served.url}/api/trpc/live.stream`, { headers: { cookie: aliceCookie } });
      expect(stream.status).toBe(200);
      expect(stream.headers.get('content-type')).toContain('text/event-stream');
      await stream.body!.cancel();
      held.pop()!.abandon();
      expect((await fetch(`${served.url}/api/trpc/dashboard.stats`, { headers: { cookie: aliceCookie } })).status).toBe(200);
    } finally {
      for (const admission of held) admission.abandon();
    }
    expect(limits.inFlight(aliceSession)).toBe(0);
  });

  it('releases a streamed batch (httpBatchStreamLink) once its body has been sent', async () => {
    const res = await fetch(`${served.url}${batchPath('dashboard.stats', 3)}`, { headers: { cookie, 'trpc-accept': 'application/jsonl' } });
    expect(res.status).toBe(200);
    await res.text();
    const bob = demoUsers.find((u) => u.email === 'bob@acme.test')!;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(getRequestLimits().inFlight({ userId: bob.id, tenantId: bob.tenantId })).toBe(0);
  });
});

describe('createRequestLimits', () => {
  it('counts per user, not per tenant, and frees a slot when the response is finished', () => {
    const limits = createRequestLimits({ maxPerSession: 2 });
    const a = limits.begin();
    const b = limits.begin();
    a.admit({ session: aliceSession }, queryInfo, new Headers());
    b.admit({ session: aliceSession }, queryInfo, new Headers());
    const headers = new Headers();
    expect(() => limits.begin().admit({ session: aliceSession }, queryInfo, headers)).toThrow(/at most 2 per user/);
    expect(headers.get('retry-after')).toBe('1');
    limits.begin().admit({ session: { ...aliceSession, userId: 'usr_other' } }, queryInfo, new Headers());
    a.finish(new Response('{}'));
    expect(limits.inFlight(aliceSession)).toBe(1);
    limits.begin().admit({ session: aliceSession }, queryInfo, new Headers());
    expect(limits.inFlight(aliceSession)).toBe(2);
  });

  it('does not count subscriptions or requests without a session', () => {
    const limits = createRequestLimits({ maxPerSession: 1 });
    for (let i = 0; i < 3; i++) {
      limits.begin().admit({ session: aliceSession }, { type: 'subscription' } as TRPCRequestInfo, new Headers());
      limits.begin().admit({ session: null }, queryInfo, new Headers());
    }
    expect(limits.inFlight(aliceSession)).toBe(0);
  });
});

describe('createFairTurns', () => {
  it('grants one turn per scheduled callback, rotating between keys', async () => {
    const pending: Array<() => void> = [];
    const turns = createFairTurns({ schedule: (grant) => pending.push(grant), now: () => 0 });
    const order: string[] = [];
    const take = (key: string, label: string) => void turns.take(key).then(() => order.push(label));
    take('heavy', 'h1');
    take('heavy', 'h2');
    take('heavy', 'h3');
    take('light', 'l1');
    expect(turns.waiting).toBe(4);
    const step = async () => {
      pending.shift()!();
      await Promise.resolve();
    };
    await step();
    expect(order).toEqual(['h1']);
    await step();
    expect(order).toEqual(['h1', 'l1']);
    await step();
    await step();
    expect(order).toEqual(['h1', 'l1', 'h2', 'h3']);
    expect(pending).toHaveLength(0);
    expect(turns.waiting).toBe(0);
  });

  it("paces a user's back-to-back turns by twice the time the last one took, and no one else's", async () => {
    let clock = 0;
    const pending: Array<() => void> = [];
    const delays: number[] = [];
    const turns = createFairTurns({
      schedule: (grant) => pending.push(grant),
      delay: (grant, ms) => {
        delays.push(ms);
        pending.push(grant);
      },
      now: () => clock,
    });
    const order: string[] = [];
    const take = (key: string, label: string) => void turns.take(key).then(() => order.push(label));
    const step = async (workMs: number) => {
      pending.shift()!();
      await Promise.resolve();
      clock += workMs;
    };
    take('a', 'a1');
    take('a', 'a2');
    await step(4); // a1 runs 4 ms
    await step(0); // a2 would follow a1 at once: paced by twice a1's 4 ms instead
    expect(order).toEqual(['a1']);
    expect(delays).toEqual([8]);
    await step(1);
    expect(order).toEqual(['a1', 'a2']);
    // Two users alternate without pacing.
    take('a', 'a3');
    take('b', 'b1');
    take('a', 'a4');
    clock += 100; // idle since a2: no pacing for a3 either
    await step(3);
    await step(3);
    await step(3);
    expect(order).toEqual(['a1', 'a2', 'a3', 'b1', 'a4']);
    expect(delays).toEqual([8]);
  });

  it("serves another user's call at once while a lone user's next turn is paced", async () => {
    let clock = 0;
    const pending: Array<() => void> = [];
    const timers: Array<() => void> = [];
    const turns = createFairTurns({ schedule: (grant) => pending.push(grant), delay: (grant) => timers.push(grant), now: () => clock });
    const order: string[] = [];
    const take = (key: string, label: string) => void turns.take(key).then(() => order.push(label));
    take('heavy', 'h1');
    take('heavy', 'h2');
    pending.shift()!();
    await Promise.resolve();
    clock += 5;
    pending.shift()!(); // h2 is paced: a timer, no grant
    await Promise.resolve();
    expect(timers).toHaveLength(1);
    take('light', 'l1');
    pending.shift()!();
    await Promise.resolve();
    expect(order).toEqual(['h1', 'l1']);
    timers.shift()!();
    await Promise.resolve();
    expect(order).toEqual(['h1', 'l1', 'h2']);
    expect(turns.waiting).toBe(0);
  });
});
