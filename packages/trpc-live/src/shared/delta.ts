// Deltas between two results of one watched query: computed once on the server, applied in the browser.
// Hand-written rather than a library (measured in test/server/pushDeltaSize.test.ts, demo data):
// jsondiffpatch 0.7.7 (MIT, keyed arrays through `objectHash`) is ~40 KB of JS for the browser and
// patches in place (a structurally shared apply needs a deep clone first, which drops the identity of
// unchanged rows); microdiff and fast-json-patch diff arrays by index (a new order on top of a list
// rewrites every row). This file is ~150 lines, keeps identity and carries Dates as values (the hub's
// serializer encodes them inside the ops). Imports nothing.

/**
 * How one value became another (`null` when nothing changed):
 * - `{ v }`: replaced by `v`;
 * - `{ o, x? }`: an object whose members `o` changed (each a patch, a new member is `{ v }`) and whose
 *   members `x` were removed;
 * - `{ a }`: an array, rebuilt in order from `a`: `[from, count]` copies `count` old items from index
 *   `from`, `[index, patch]` is the old item at `index` patched, `{ v }` is a new item. Arrays whose
 *   items are all objects with a distinct `id` (string or number) are matched by `id`, so an item added
 *   on top costs one `{ v }` and a copied run; other arrays are matched by index.
 */
export type DeltaPatch =
  | { readonly v: unknown }
  | { readonly o: { readonly [key: string]: DeltaPatch }; readonly x?: readonly string[] }
  | { readonly a: readonly DeltaEntry[] };

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
  const o: Record<string, DeltaPatch> = {};
  const x: string[] = [];
  let changed = false;
  for (const key of Object.keys(after)) {
    const patch = Object.hasOwn(before, key) ? diffValues(before[key], after[key]) : { v: after[key] };
    if (!patch) continue;
    o[key] = patch;
    changed = true;
  }
  for (const key of Object.keys(before)) if (!Object.hasOwn(after, key)) x.push(key);
  if (!changed && !x.length) return null;
  return x.length ? { o, x } : { o };
}

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
    if (patch) {
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
    for (const key of Object.keys(patch.o)) define(out, key, applyDelta(Object.hasOwn(base, key) ? base[key] : undefined, patch.o[key]!));
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
