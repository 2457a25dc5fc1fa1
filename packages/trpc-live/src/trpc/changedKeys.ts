import type { PublishedEntry } from '../core/index.ts';
import type { ChangedKey } from '../shared/queryMatcher.ts';

/** The resource keys an entry invalidates: an invalidation's, and those inside a batch; none for other signals. */
export function changedKeys(entry: Pick<PublishedEntry, 'signal'>): ChangedKey[] {
  const signal = entry.signal;
  if (signal.kind === 'invalidate') return [signal.id === undefined ? { resource: signal.resource } : { resource: signal.resource, id: signal.id }];
  if (signal.kind !== 'batch') return [];
  const keys: ChangedKey[] = [];
  for (const event of signal.events) {
    if (event.kind !== 'invalidate') continue;
    keys.push(event.id === undefined ? { resource: event.resource } : { resource: event.resource, id: event.id });
  }
  return keys;
}
