'use client';

import { useSubscription } from '@trpc/tanstack-react-query';
import { useLiveInvalidator, useLiveStatus } from 'trpc-live/react';
import { useTRPC } from '../../../trpc/react';
import { ago, count } from '../format';
import { LaneChart } from './LaneChart';

/**
 * A picture of the live layer a person can watch: this tenant's open
 * streams, signals per second by lane, recent signals, replay and resets.
 * Pushed once a second by the server over its own subscription while this
 * page is open (no polling, and not through the hub it is watching).
 */
export function InspectorView() {
  const trpc = useTRPC();
  const watch = useSubscription(trpc.inspector.watch.subscriptionOptions());
  const status = useLiveStatus();
  const invalidator = useLiveInvalidator();
  const s = watch.data;
  const resets = s ? Object.entries(s.totals.resets) : [];
  const resetTotal = resets.reduce((sum, [, n]) => sum + (n ?? 0), 0);

  return (
    <div className="page">
      <div className="page-head">
        <h1>Live inspector</h1>
        <p className="muted">
          {s ? (
            <>
              Epoch <code>{s.epoch}</code>
              {s.draining && <span className="badge cancelled">draining</span>} · updated every second
            </>
          ) : watch.error ? (
            <span className="error">{watch.error.message}</span>
          ) : (
            'Connecting…'
          )}
        </p>
      </div>
      <div className="stats">
        <div className="stat card">
          <div className="stat-label">Live connections</div>
          <div className="stat-value" data-testid="inspector-connections">
            {s ? s.connections.length : '—'}
          </div>
          <div className="stat-note muted">{s ? `your tenant · ${count(s.serverConnections)} on this server` : ''}</div>
        </div>
        <div className="stat card">
          <div className="stat-label">Signals published</div>
          <div className="stat-value">{s ? count(s.totals.publishedByTenant) : '—'}</div>
          <div className="stat-note muted">your tenant, since start</div>
        </div>
        <div className="stat card">
          <div className="stat-label">Replay</div>
          <div className="stat-value">{s ? `${count(s.totals.replayHits)} / ${count(s.totals.replayMisses)}` : '—'}</div>
          <div className="stat-note muted">{s ? `hits / misses · ${count(s.totals.replayedFrames)} frames replayed` : ''}</div>
        </div>
        <div className="stat card">
          <div className="stat-label">Resets sent</div>
          <div className="stat-value">{s ? count(resetTotal) : '—'}</div>
          <div className="stat-note muted">{resets.length ? resets.map(([reason, n]) => `${reason} ${n}`).join(' · ') : 'none'}</div>
        </div>
        <div className="stat card">
          <div className="stat-label">Publish → write</div>
          <div className="stat-value">{s && s.latencyMs.samples ? `${s.latencyMs.p50} ms` : '—'}</div>
          <div className="stat-note muted">{s && s.latencyMs.samples ? `p50 · p99 ${s.latencyMs.p99} ms` : 'no writes yet'}</div>
        </div>
      </div>
      <div className="grid even">
        <div className="card">{s && <LaneChart series={s.publishedPerSecond} label="Published per second, your tenant" />}</div>
        <div className="card">{s && <LaneChart series={s.deliveredPerSecond} label="Frames written per second, this server" />}</div>
      </div>
      <div className="grid">
        <div className="card">
          <h2>Recent signals</h2>
          <table data-testid="inspector-recent">
            <thead>
              <tr>
                <th>Cursor</th>
                <th>Lane</th>
                <th>Kind</th>
                <th>Signal</th>
                <th>When</th>
              </tr>
            </thead>
            <tbody>
              {s?.recent.map((r) => (
                <tr key={r.cursor}>
                  <td className="mono small">{r.cursor.split(':')[1]}</td>
                  <td>
                    <span className={`lane lane-${r.lane}`}>{r.lane}</span>
                  </td>
                  <td className="muted">{r.kind}</td>
                  <td className="mono small">{r.summary}</td>
                  <td className="muted small">{ago(r.at, s.at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {s?.recent.length === 0 && <p className="muted">No signals yet. Create an order in another tab.</p>}
        </div>
        <div>
          <div className="card">
            <h2>This browser</h2>
            <dl className="facts">
              <dt>This tab</dt>
              <dd data-testid="inspector-role">{status.role}</dd>
              <dt>Tabs sharing</dt>
              <dd>{status.tabs}</dd>
              <dt>Paused</dt>
              <dd>{status.paused ? 'yes (all tabs hidden)' : 'no'}</dd>
              <dt>Connection</dt>
              <dd className="mono small">{invalidator.connectionId ?? '—'}</dd>
              <dt>Last cursor</dt>
              <dd className="mono small">{invalidator.lastCursor ?? '—'}</dd>
            </dl>
          </div>
          <div className="card">
            <h2>Open connections</h2>
            <table data-testid="inspector-connection-list">
              <thead>
                <tr>
                  <th>Id</th>
                  <th>User</th>
                  <th className="num">Pending</th>
                  <th className="num">Flush</th>
                </tr>
              </thead>
              <tbody>
                {s?.connections.map((c) => (
                  <tr key={c.id} className={c.id === invalidator.connectionId ? 'me' : undefined}>
                    <td className="mono small" title={c.topics.join(' ')}>
                      {c.id.slice(0, 8)}
                      {c.paused && <span className="badge pending">paused</span>}
                    </td>
                    <td className="small">
                      {c.user ?? '—'} <span className="muted">{c.role}</span>
                    </td>
                    <td className="num small">
                      {c.pendingFrames}
                      {c.dirtyKeys ? ` +${c.dirtyKeys} keys` : ''}
                    </td>
                    <td className="num small">{c.flushIntervalMs} ms</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      </div>
    </div>
  );
}
