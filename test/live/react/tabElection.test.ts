import { describe, expect, it } from 'vitest';
import { TabElection } from '../../../packages/trpc-live/src/react/tabElection.ts';
import { createLocks } from './fakeBrowser';

/** Lets the lock manager's grants (microtasks and promise callbacks) run. */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('TabElection (Web Locks: one leader at a time, the next in line when it leaves)', () => {
  it('elects the first tab, then the next in line once the leader leaves', async () => {
    const locks = createLocks();
    const elected: string[] = [];
    const a = new TabElection(locks, 'trpc-live:x', () => elected.push('a'));
    const b = new TabElection(locks, 'trpc-live:x', () => elected.push('b'));
    const c = new TabElection(locks, 'trpc-live:x', () => elected.push('c'));
    await settle();
    expect(elected).toEqual(['a']);
    a.leave();
    await settle();
    expect(elected).toEqual(['a', 'b']);
    b.leave();
    await settle();
    expect(elected).toEqual(['a', 'b', 'c']);
    c.leave();
    await settle();
    expect(locks.holder('trpc-live:x')).toBe(-1);
  });

  it('never elects a tab that left while it waited, and passes the lock to the one after it', async () => {
    const locks = createLocks();
    const elected: string[] = [];
    const a = new TabElection(locks, 'trpc-live:x', () => elected.push('a'));
    const b = new TabElection(locks, 'trpc-live:x', () => elected.push('b'));
    new TabElection(locks, 'trpc-live:x', () => elected.push('c'));
    await settle();
    b.leave();
    a.leave();
    await settle();
    expect(elected).toEqual(['a', 'c']);
  });

  it('never elects a tab that left before the lock manager answered', async () => {
    const locks = createLocks();
    const elected: string[] = [];
    new TabElection(locks, 'trpc-live:x', () => elected.push('a')).leave();
    await settle();
    expect(elected).toEqual([]);
    expect(locks.holder('trpc-live:x')).toBe(-1);
  });

  it('keeps elections of different names apart', async () => {
    const locks = createLocks();
    const elected: string[] = [];
    new TabElection(locks, 'trpc-live:alice', () => elected.push('alice'));
    new TabElection(locks, 'trpc-live:bob', () => elected.push('bob'));
    await settle();
    expect(elected.sort()).toEqual(['alice', 'bob']);
  });

  it('frees the lock once when left twice', async () => {
    const locks = createLocks();
    const a = new TabElection(locks, 'trpc-live:x', () => undefined);
    await settle();
    a.leave();
    a.leave();
    await settle();
    expect(locks.holder('trpc-live:x')).toBe(-1);
  });
});
