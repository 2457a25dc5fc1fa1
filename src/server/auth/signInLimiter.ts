/**
 * Failed sign-in attempts allowed per window (15 min, sliding), by key:
 *
 * - `emailAtAddress` 5: one address guessing one account (the usual attack);
 *   a correct password from the same address clears it.
 * - `address` 30: one address spraying many accounts (an office behind NAT
 *   mistyping now and then stays well under it).
 * - `email` 50: one account guessed from many addresses. Above what a single
 *   address can contribute (30), so one attacker's address can never lock
 *   the real user out; a distributed attack locks the account for the window.
 *
 * An attempt is counted when it starts (and uncounted when it succeeds), so
 * concurrent guesses cannot all slip past the check. Limits are per process:
 * N instances allow N times as many.
 */
export const SIGN_IN_LIMITS = { windowMs: 15 * 60_000, emailAtAddress: 5, address: 30, email: 50 } as const;

/** Keys tracked per counter; past it the least recently failed key is forgotten (bounded memory: ~3 × 10,000 keys). */
const MAX_KEYS = 10_000;

/** Failure times per key within a sliding window; at most `limit` kept per key. */
class SlidingCounter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** 0 when `key` may try again, else ms until its oldest failure leaves the window. */
  waitMs(key: string, now: number): number {
    const times = this.live(key, now);
    return times.length < this.limit ? 0 : times[0]! + this.windowMs - now;
  }

  add(key: string, at: number): void {
    const times = this.live(key, at);
    times.push(at);
    if (times.length > this.limit) times.shift();
    // Most recently failed last: eviction takes the key that failed longest ago.
    this.failures.delete(key);
    this.failures.set(key, times);
    if (this.failures.size > MAX_KEYS) this.failures.delete(this.failures.keys().next().value!);
  }

  /** Takes back one failure recorded `at` (an attempt that succeeded). */
  remove(key: string, at: number): void {
    const times = this.failures.get(key);
    const index = times?.lastIndexOf(at) ?? -1;
    if (index >= 0) times!.splice(index, 1);
    if (times?.length === 0) this.failures.delete(key);
  }

  clear(key: string): void {
    this.failures.delete(key);
  }

  get size(): number {
    return this.failures.size;
  }

  private live(key: string, now: number): number[] {
    const times = this.failures.get(key) ?? [];
    while (times.length && times[0]! <= now - this.windowMs) times.shift();
    return times;
  }
}

/** One sign-in attempt: refused with the seconds to wait, or counted until it reports success. */
export type SignInAttempt = { readonly ok: true; succeeded(): void } | { readonly ok: false; readonly retryAfterSeconds: number };

/** Limits failed sign-in attempts per email, per client address, and per both (see {@link SIGN_IN_LIMITS}). */
export class SignInLimiter {
  private readonly pair = new SlidingCounter(SIGN_IN_LIMITS.emailAtAddress, SIGN_IN_LIMITS.windowMs);
  private readonly address = new SlidingCounter(SIGN_IN_LIMITS.address, SIGN_IN_LIMITS.windowMs);
  private readonly email = new SlidingCounter(SIGN_IN_LIMITS.email, SIGN_IN_LIMITS.windowMs);

  /**
   * Starts an attempt for `email` from `address` (`null`: unknown, then the
   * per-pair limit is per email alone). Check it before verifying the
   * password, so a refused attempt costs no scrypt.
   */
  attempt(email: string, address: string | null, now = Date.now()): SignInAttempt {
    const pairKey = `${email}\u0000${address ?? ''}`;
    const wait = Math.max(
      this.pair.waitMs(pairKey, now),
      address === null ? 0 : this.address.waitMs(address, now),
      this.email.waitMs(email, now),
    );
    if (wait > 0) return { ok: false, retryAfterSeconds: Math.ceil(wait / 1000) };
    this.pair.add(pairKey, now);
    if (address !== null) this.address.add(address, now);
    this.email.add(email, now);
    return {
      ok: true,
      succeeded: () => {
        this.pair.clear(pairKey);
        if (address !== null) this.address.remove(address, now);
        this.email.remove(email, now);
      },
    };
  }

  /** Keys tracked, per counter (tests: memory stays bounded). */
  get tracked(): { pair: number; address: number; email: number } {
    return { pair: this.pair.size, address: this.address.size, email: this.email.size };
  }
}

const KEY = Symbol.for('trpc-live.app.signInLimiter');
type LimiterGlobal = { [KEY]?: SignInLimiter };

/** The process-wide limiter (on `globalThis`, shared by Next's bundles and the Node entry). */
export function signInLimiter(): SignInLimiter {
  const g = globalThis as LimiterGlobal;
  return (g[KEY] ??= new SignInLimiter());
}

/** Replaces the process-wide limiter with a fresh one (tests). */
export function resetSignInLimiter(): void {
  delete (globalThis as LimiterGlobal)[KEY];
}
