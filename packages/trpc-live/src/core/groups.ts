import { LiveError } from '../shared/errors.ts';

/**
 * Attributes of a connection that publishes can target (role, plan, user…).
 * The tenant is not a group: it is the connection's scope, checked first.
 */
export type ConnectionGroups = { readonly [attribute: string]: string };

/**
 * Group attributes a publish targets: every attribute must match (AND);
 * an array means any of its values (OR). An empty array matches nobody.
 */
export type GroupFilter = { readonly [attribute: string]: string | readonly string[] };

const MAX_ATTRIBUTES = 16;
const MAX_VALUES = 64;
const MAX_LENGTH = 128;

const validString = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= MAX_LENGTH;

/** Throws BAD_OPTIONS unless `groups` is a small map of non-empty strings. */
export function assertGroups(groups: unknown): asserts groups is ConnectionGroups {
  if (typeof groups !== 'object' || groups === null || Array.isArray(groups)) {
    throw new LiveError('BAD_OPTIONS', 'Connection groups must be an object of attribute → string');
  }
  const entries = Object.entries(groups);
  if (entries.length > MAX_ATTRIBUTES) throw new LiveError('BAD_OPTIONS', `At most ${MAX_ATTRIBUTES} group attributes`);
  for (const [attribute, value] of entries) {
    if (!validString(attribute) || !validString(value)) {
      throw new LiveError('BAD_OPTIONS', `Group "${attribute.slice(0, 40)}" must be a non-empty string of at most ${MAX_LENGTH} characters`);
    }
  }
}

/** Throws BAD_SIGNAL unless `filter` is a valid {@link GroupFilter}. */
export function assertGroupFilter(filter: unknown): asserts filter is GroupFilter {
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
    throw new LiveError('BAD_SIGNAL', 'A group filter must be an object of attribute → string or string[]');
  }
  const entries = Object.entries(filter);
  if (entries.length > MAX_ATTRIBUTES) throw new LiveError('BAD_SIGNAL', `At most ${MAX_ATTRIBUTES} group attributes in a filter`);
  for (const [attribute, want] of entries) {
    const ok = Array.isArray(want) ? want.length <= MAX_VALUES && want.every(validString) : validString(want);
    if (!validString(attribute) || !ok) {
      throw new LiveError(
        'BAD_SIGNAL',
        `Group filter "${attribute.slice(0, 40)}" must be a non-empty string or at most ${MAX_VALUES} of them`,
      );
    }
  }
}

/** True when a connection with `groups` is targeted by `filter` (no filter: everyone). */
export function groupsMatch(filter: GroupFilter | undefined, groups: ConnectionGroups): boolean {
  if (!filter) return true;
  for (const attribute in filter) {
    const want = filter[attribute]!;
    const have = groups[attribute];
    if (have === undefined) return false;
    if (typeof want === 'string' ? want !== have : !want.includes(have)) return false;
  }
  return true;
}

/**
 * A canonical text of a filter, for compaction keys: two publishes of the
 * same key to different audiences must not replace each other in replay,
 * or a member of the first audience would miss its change.
 */
export function groupFilterKey(filter: GroupFilter | undefined): string {
  if (!filter) return '';
  const attributes = Object.keys(filter).sort();
  if (!attributes.length) return '';
  return JSON.stringify(
    attributes.map((attribute) => {
      const want = filter[attribute]!;
      return [attribute, typeof want === 'string' ? want : [...want].sort()];
    }),
  );
}
