'use client';

import { useLiveStatus } from 'trpc-live/react';

const TEXT: Record<string, string> = {
  connecting: 'Connecting…',
  leader: 'Live',
  follower: 'Live',
  standalone: 'Live',
  closed: 'Offline',
};

/** Whether this tab holds the browser's live stream or shares another tab's, and whether it is paused. */
export function LiveBadge() {
  const status = useLiveStatus();
  const detail =
    status.role === 'leader'
      ? status.tabs > 1
        ? `this tab holds the stream for ${status.tabs} tabs`
        : 'this tab holds the stream'
      : status.role === 'follower'
        ? 'shared with another tab'
        : status.role === 'standalone'
          ? 'own stream'
          : '';
  return (
    <span
      className={`live-badge ${status.connected ? status.role : 'connecting'}${status.paused ? ' paused' : ''}`}
      data-testid="live-status"
      data-role={status.role}
      data-tabs={status.tabs}
      data-connected={status.connected}
      title={detail}
    >
      <span className="dot" aria-hidden />
      {status.paused ? 'Paused' : status.role !== 'closed' && !status.connected ? 'Connecting…' : TEXT[status.role]}
      {detail && <span className="detail"> · {detail}</span>}
    </span>
  );
}
