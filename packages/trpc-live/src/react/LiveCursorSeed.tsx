'use client';

import { useRef } from 'react';
import { useLiveInvalidator } from './LiveProvider.tsx';

/** Props of {@link LiveCursorSeed}. */
export interface LiveCursorSeedProps {
  /** The hub's position the server render read before its queries ran (`live.cursor()`). */
  cursor: string;
}

/**
 * Hands a server render's cursor to the browser's live stream, so changes
 * committed after the render read its data reach the data it hydrated (see
 * `LiveInvalidator.seedCursor`). Render it inside `<LiveProvider>`, next to
 * the `HydrationBoundary` of the prefetched queries. Renders nothing.
 *
 * Seeds during render, not in an effect: the provider's effect opens the
 * stream, and effects of a first load run after every render of the tree,
 * so the stream opens from this cursor. Seeding is idempotent (the oldest
 * cursor wins), so a repeated render costs nothing; a new cursor (a
 * client-side navigation, `router.refresh()`) is seeded again.
 */
export function LiveCursorSeed({ cursor }: LiveCursorSeedProps): null {
  const invalidator = useLiveInvalidator();
  const seeded = useRef<string | null>(null);
  if (seeded.current !== cursor) {
    seeded.current = cursor;
    invalidator.seedCursor(cursor);
  }
  return null;
}
