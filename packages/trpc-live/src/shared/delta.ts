// Deltas between two results of one watched query: computed once on the server, applied in the browser.
// Hand-written rather than a library, from a measurement on the demo's own results for one new order
// (test/server/pushDeltaSize.test.ts data; superjson frame characters, diff / apply µs on this machine):
// jsondiffpatch 0.7.7 (MIT; keyed arrays through `objectHash`) gives orders.list (50 rows) 647 vs 375 here,
// dashboard.stats 261 vs 246, products.list 257 vs 215; diff 150 vs 45 µs on orders.list; it patches in
// place, so a structurally shared apply needs a clone of the base first (53 vs 1 µs) and loses the identity
// of unchanged rows; its browser bundle is 16.7 KB minified (5.3 KB gzip) against 2.3 KB (1.1 KB) for this
// file. microdiff and fast-json-patch diff arrays by index (a new order on top rewrites every row).
// Dates travel as values inside the ops (the hub's serializer encodes them). Imports nothing.

/**
 * How one value became another (`null` when nothing changed):
 * - `{ v }`: replaced by `v`;
 * - `{ o, x? }`: an object whose members `o` changed and whose members `x` were removed; each member of `o`
 *   is a patch, or a string, number, boolean or `null` that replaces it (the usual change of a counter or a
 *   status, without the `{ v }` wrapper: a new order's dashboard.stats frame 282 -> 246 characters);
 * - `{ a }`: an array, rebuilt in order from `a`: `[from, count]` copies `count` old items from index
 *   `from`, `[index, patch]` is the old item at `index` patched (never a replacement), `{ v }` is a new item. Arrays whose
 *   items are all objects with a distinct `id` (string or number) are matched by `id`, so an item added
 *   on top costs one `{ v }` and a copied run; other arrays are matched by index.
 */
export type DeltaPatch =
  | { readonly v: unknown }
  | { readonly o: { readonly [key: string]: DeltaMember }; readonly x?: readonly string[] }
  | { readonly a: readonly DeltaEntry[] };

/** A member of an object patch: a patch, or the primitive that replaces the member (see {@link DeltaPatch}). */
export type DeltaMember = DeltaPatch | string | number | boolean | null;

/** One entry of an array patch (see {@link DeltaPatch}). */
export type DeltaEntry = readonly [number, number] | readonly [number, DeltaPatch] | { readonly v: unknown };

type Plain = Record<string, unknown>;

const isPlain = (value: unknown): value is Plain => {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
};

/** The patch from `before` to `after`, or `null` when they are equal as values (Dates by time). */
export function diffValues(before: unknown, after: unknown): DeltaPatch | null {
  if (Object.is(before, after)) return null;
  if (before instanceof Date && after instanceof Date) return before.getTime() === after.getTime() ? null : { v: after };
  if (Array.isArray(before) && Array.isArray(after)) return diffArrays(before, after);
  if (isPlain(before) && isPlain(after)) return diffObjects(before, after);
  return { v: after };
}

function diffObjects(before: Plain, after: Plain): DeltaPatch | null {
  const o: Record<string, DeltaMember> = {};
  const x: string[] = [];
  let changed = false;
  for (const key of Object.keys(after)) {
    const patch = Object.hasOwn(before, key) ? diffValues(before[key], after[key]) : { v: after[key] };
    if (!patch) continue;
    o[key] = 'v' in patch && isBare(patch.v) ? patch.v : patch;
    changed = true;
  }
  for (const key of Object.keys(before)) if (!Object.hasOwn(after, key)) x.push(key);
  if (!changed && !x.length) return null;
  return x.length ? { o, x } : { o };
}

/** A value an object patch carries without the `{ v }` wrapper. */
const isBare = (value: unknown): value is string | number | boolean | null =>
  value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));

/** Index of each item by its `id`, or null when some item has none (or two share one). */
function idIndex(items: readonly unknown[]): Map<unknown, number> | null {
  const index = new Map<unknown, number>();
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (!isPlain(item)) return null;
    const id = item.id;
    if ((typeof id !== 'string' && typeof id !== 'number') || index.has(id)) return null;
    index.set(id, i);
  }
  return index;
}

function diffArrays(before: readonly unknown[], after: readonly unknown[]): DeltaPatch | null {
  const byId = before.length && after.length ? idIndex(before) : null;
  const keyed = byId !== null && idIndex(after) !== null;
  const a: DeltaEntry[] = [];
  let run: [number, number] | null = null;
  let changed = before.length !== after.length;
  for (let i = 0; i < after.length; i++) {
    const item = after[i];
    const from = keyed ? byId.get((item as Plain).id) : i < before.length ? i : undefined;
    if (from === undefined) {
      a.push({ v: item });
      run = null;
      changed = true;
      continue;
    }
    const patch = diffValues(before[from], item);
    if (patch && 'v' in patch) {
      // Replaced: written as a new item, shorter than `[index, { v }]`.
      a.push(patch);
      run = null;
      changed = true;
    } else if (patch) {
      a.push([from, patch]);
      run = null;
      changed = true;
    } else if (run && run[0] + run[1] === from) {
      run[1]++;
    } else {
      if (from !== i) changed = true;
      run = [from, 1];
      a.push(run);
    }
  }
  return changed ? { a } : null;
}

/** Thrown by {@link applyDelta} when the patch does not fit the value it is applied to. */
export class DeltaMismatch extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeltaMismatch';
  }
}

/**
 * `base` with `patch` applied, without changing `base`: unchanged members
 * and items keep their identity (structural sharing). `null` returns `base`.
 * @throws DeltaMismatch when the patch names members or items `base` lacks.
 */
export function applyDelta(base: unknown, patch: DeltaPatch | null): unknown {
  if (patch === null) return base;
  if ('v' in patch) return patch.v;
  if ('o' in patch) {
    if (!isPlain(base)) throw new DeltaMismatch('object patch over a non-object');
    const out: Plain = Object.getPrototypeOf(base) === null ? Object.create(null) : {};
    const removed = new Set(patch.x ?? []);
    for (const key of Object.keys(base)) if (!removed.has(key)) define(out, key, base[key]);
    for (const key of Object.keys(patch.o)) {
      const member = patch.o[key]!;
      define(out, key, isBare(member) ? member : applyDelta(Object.hasOwn(base, key) ? base[key] : undefined, member));
    }
    return out;
  }
  if (!Array.isArray(base)) throw new DeltaMismatch('array patch over a non-array');
  const out: unknown[] = [];
  for (const entry of patch.a) {
    if (!Array.isArray(entry)) {
      out.push((entry as { v: unknown }).v);
      continue;
    }
    const [from, second] = entry as readonly [number, number | DeltaPatch];
    if (!Number.isInteger(from) || from < 0) throw new DeltaMismatch('bad array index');
    if (typeof second === 'number') {
      if (from + second > base.length) throw new DeltaMismatch('array run past the end');
      for (let i = from; i < from + second; i++) out.push(base[i]);
    } else {
      if (from >= base.length) throw new DeltaMismatch('array index past the end');
      out.push(applyDelta(base[from], second));
    }
  }
  return out;
}

/** Sets `key` as an own data member, `__proto__` included (never the prototype). */
function define(target: Plain, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
