/** What {@link SeenSerials.check} found. */
export type SerialCheck = 'new' | 'seen' | 'unknown';

/** Serials remembered per origin (a sliding window below the highest seen). */
const DEFAULT_WINDOW = 4096;
/** Origins remembered (the least recently seen is forgotten first). */
const DEFAULT_MAX_ORIGINS = 1024;

interface OriginWindow {
  /** Highest serial seen. */
  max: number;
  /** Bit `s % window` set when serial `s` (in `(max - window, max]`) was seen. */
  bits: Uint32Array;
}

/**
 * Which published signals (origin, serial) one backend already delivered to
 * its hub, so a second copy of the same signal is dropped: the local copy
 * delivered when Redis missed a deadline, then the same publish run by Redis
 * after it thawed, then a copy forwarded into a new epoch after Redis lost
 * its data. Memory: one window of `window` bits per origin (512 bytes with
 * the default), at most `maxOrigins` origins.
 *
 * A serial below the window cannot be told apart (a first copy or a repeat):
 * `unknown`, and the caller drops it and resets its clients, so nothing is
 * applied twice and nothing is lost without a reset. Copies arrive within
 * seconds of the first (a freeze, a rejoin), thousands of serials apart at
 * most, so this is not expected.
 */
export class SeenSerials {
  private readonly origins = new Map<string, OriginWindow>();

  constructor(
    private readonly window = DEFAULT_WINDOW,
    private readonly maxOrigins = DEFAULT_MAX_ORIGINS,
  ) {
    if (window % 32 !== 0 || window <= 0) throw new Error('window must be a positive multiple of 32');
  }

  /** Records `serial` of `origin` and tells whether it was new. */
  check(origin: string, serial: number): SerialCheck {
    let w = this.origins.get(origin);
    if (w === undefined) {
      w = { max: serial, bits: new Uint32Array(this.window / 32) };
      this.set(w, serial);
      this.origins.set(origin, w);
      if (this.origins.size > this.maxOrigins) this.origins.delete(this.origins.keys().next().value!);
      return 'new';
    }
    // Most recently seen last: the first key is the one to forget.
    this.origins.delete(origin);
    this.origins.set(origin, w);
    if (serial > w.max) {
      const from = Math.max(w.max + 1, serial - this.window + 1);
      if (serial - w.max >= this.window) w.bits.fill(0);
      else for (let s = from; s <= serial; s++) this.clear(w, s);
      w.max = serial;
      this.set(w, serial);
      return 'new';
    }
    if (serial <= w.max - this.window) return 'unknown';
    if (this.has(w, serial)) return 'seen';
    this.set(w, serial);
    return 'new';
  }

  private index(serial: number): [number, number] {
    const bit = serial % this.window;
    return [bit >>> 5, 1 << (bit & 31)];
  }
  private has(w: OriginWindow, serial: number): boolean {
    const [word, mask] = this.index(serial);
    return (w.bits[word]! & mask) !== 0;
  }
  private set(w: OriginWindow, serial: number): void {
    const [word, mask] = this.index(serial);
    w.bits[word] = w.bits[word]! | mask;
  }
  private clear(w: OriginWindow, serial: number): void {
    const [word, mask] = this.index(serial);
    w.bits[word] = w.bits[word]! & ~mask;
  }
}
