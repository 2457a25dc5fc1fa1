import type { PublishedEntry } from './backend.ts';
import type { LiveConnection } from './connection.ts';
import { groupsMatch } from './groups.ts';
import { matchTopic } from '../shared/topic.ts';

/**
 * True when the hub routes `entry` to `connection`: the same scope, a topic
 * pattern of the connection matching the entry's topic, and the entry's
 * group filter matching the connection's groups (an intersection, as the
 * fan-out routes). For code that acts on an entry per recipient, e.g.
 * pushing a watched query's result only to streams that got its change.
 * O(patterns); the fan-out itself walks a trie instead.
 */
export function receives(connection: LiveConnection, entry: Pick<PublishedEntry, 'scope' | 'topic' | 'groups'>): boolean {
  if (connection.scope !== entry.scope || !groupsMatch(entry.groups, connection.groups)) return false;
  for (const pattern of connection.patterns) if (matchTopic(pattern, entry.topic)) return true;
  return false;
}
