import { expect } from 'vitest';
import type { VerifyResult } from '../../soak/lib/protocol';

/** The record oracle's verdict over `streams` streams: all judged, something expected, nothing lost, twice or unaccounted for. */
export function expectEveryPublishReceived(verify: VerifyResult, streams: number): void {
  expect(verify.streams).toBe(streams);
  expect(verify.expected).toBeGreaterThan(0);
  expect(
    { lost: verify.lost, duplicates: verify.duplicates, unexpected: verify.unexpected },
    `lost e.g. ${JSON.stringify(verify.samples.slice(0, 3))}`,
  ).toEqual({ lost: 0, duplicates: 0, unexpected: 0 });
}
