import { fmt } from '../lib/report';
import type { VariantRun } from './runVariant';

/**
 * How the users' own request count compares with the server's over every
 * phase of every run: the largest difference, per user per minute and as a
 * share. Requests in flight at a phase boundary land on either side, so a
 * few apart is expected; more means one of the counts is wrong.
 */
export function requestCountCheck(runs: readonly VariantRun[], users: number): string {
  let worst: { requests: number; perUserMinute: number; share: number; where: string } | null = null;
  for (const r of runs) {
    for (const p of r.phases) {
      if (!Number.isFinite(p.serverRequestsPerUserMinute)) continue;
      const perUserMinute = p.serverRequestsPerUserMinute - p.requestsPerUserMinute;
      const requests = Math.round(perUserMinute * users * p.simMinutes);
      const share = p.requestsPerUserMinute > 0 ? Math.abs(perUserMinute) / p.requestsPerUserMinute : requests === 0 ? 0 : Infinity;
      if (!worst || Math.abs(requests) > Math.abs(worst.requests)) worst = { requests, perUserMinute, share, where: `${r.variant} run ${r.run}, ${p.name}` };
    }
  }
  if (!worst) return 'no server count recorded';
  if (worst.requests === 0) return 'the two counts are equal in every phase of every run';
  const sign = worst.requests > 0 ? '+' : '−';
  return `largest difference ${sign}${Math.abs(worst.requests)} request(s) at the server (${sign}${fmt(Math.abs(worst.perUserMinute), 3)} per user per minute, ${Number.isFinite(worst.share) ? `${fmt(worst.share * 100, 1)}%` : 'against none'}; ${worst.where})`;
}
