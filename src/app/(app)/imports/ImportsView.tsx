'use client';

import { useMutation, useQuery } from '@tanstack/react-query';
import { useCallback, useRef, useState } from 'react';
import { useLiveMessages } from 'trpc-live/react';
import type { LiveMessage } from 'trpc-live/shared';
import { topics } from '../../../trpc/resources';
import { useTRPC } from '../../../trpc/react';
import { count, when } from '../format';
import { sampleOrderCsv } from './sampleCsv';

interface LiveProgress {
  current: number;
  total: number;
  imported: number;
  failed: number;
  /** Progress frames this tab received for the import. */
  frames: number;
  done: boolean;
  ok: boolean;
}

const SAMPLE_ROWS = 10_000;

/**
 * CSV import of orders. The server processes rows in the background; the bar
 * follows progress signals on the coalesced lane (the latest value per flush
 * window, never one frame per chunk), completion arrives on the instant lane,
 * and the imported orders then appear on every page by invalidation.
 */
export function ImportsView() {
  const trpc = useTRPC();
  const imports = useQuery(trpc.imports.list.queryOptions());
  const products = useQuery(trpc.products.list.queryOptions());
  const start = useMutation(trpc.imports.start.mutationOptions());
  const [progress, setProgress] = useState<Record<string, LiveProgress>>({});
  const fileInput = useRef<HTMLInputElement>(null);

  const onMessage = useCallback((message: LiveMessage) => {
    // Key and extras come from the `imports` job declaration the server's worker publishes with.
    const update = topics.imports.parse(message);
    if (!update) return;
    const id = update.id;
    setProgress((all) => {
      const before = all[id] ?? { current: 0, total: 0, imported: 0, failed: 0, frames: 0, done: false, ok: false };
      if (update.kind === 'progress') {
        return {
          ...all,
          [id]: {
            ...before,
            current: Math.max(before.current, update.current),
            total: update.total,
            imported: update.extra.imported,
            failed: update.extra.failed,
            frames: before.frames + 1,
          },
        };
      }
      const { extra } = update;
      const total = extra.total || before.total;
      const current = Math.max(before.current, extra.processed);
      return { ...all, [id]: { ...before, total, current, imported: extra.imported, failed: extra.failed, done: true, ok: update.ok } };
    });
  }, []);
  useLiveMessages(onMessage);

  const upload = async (fileName: string, csv: string) => {
    start.mutate({ fileName, csv });
  };
  const useSample = () => {
    const skus = products.data?.map((p) => p.sku) ?? [];
    if (skus.length) void upload(`sample-${SAMPLE_ROWS}-orders.csv`, sampleOrderCsv(SAMPLE_ROWS, skus));
  };
  const downloadSample = () => {
    const skus = products.data?.map((p) => p.sku) ?? [];
    const blob = new Blob([sampleOrderCsv(SAMPLE_ROWS, skus)], { type: 'text/csv' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `sample-${SAMPLE_ROWS}-orders.csv`;
    a.click();
    URL.revokeObjectURL(a.href);
  };

  return (
    <div className="page">
      <div className="page-head">
        <h1>Import orders</h1>
        <p className="muted">
          A CSV with the columns <code>customer,sku,quantity[,status][,created_at]</code>. Imported orders are records of past sales:
          they do not take stock.
        </p>
      </div>
      <div className="grid">
        <div className="card">
          <h2>Upload</h2>
          <div className="stack">
            <input
              ref={fileInput}
              type="file"
              accept=".csv,text/csv"
              aria-label="CSV file"
              data-testid="csv-file"
              onChange={async (e) => {
                const file = e.target.files?.[0];
                if (file) await upload(file.name, await file.text());
                if (fileInput.current) fileInput.current.value = '';
              }}
            />
            <div className="row">
              <button onClick={useSample} disabled={start.isPending || !products.data?.length}>
                Import a sample of {count(SAMPLE_ROWS)} orders
              </button>
              <button className="secondary" onClick={downloadSample} disabled={!products.data?.length}>
                Download the sample
              </button>
            </div>
            {start.isPending && <p className="muted">Uploading…</p>}
            {start.error && <p className="error">{start.error.message}</p>}
          </div>
        </div>
        <div className="card">
          <h2>How it travels</h2>
          <ol className="muted small steps">
            <li>The upload answers at once; rows are processed in chunks in the background.</li>
            <li>After each chunk the server publishes progress on the coalesced lane: your browser gets the latest value per flush window.</li>
            <li>Completion goes on the instant lane, followed by an invalidation of orders: lists and the dashboard refetch.</li>
          </ol>
        </div>
      </div>
      <div className="card">
        <h2>Imports</h2>
        {imports.data?.length === 0 && <p className="muted">No imports yet.</p>}
        <table data-testid="imports">
          <thead>
            <tr>
              <th>File</th>
              <th>Progress</th>
              <th className="num">Imported</th>
              <th className="num">Skipped</th>
              <th>Started</th>
            </tr>
          </thead>
          <tbody>
            {imports.data?.map((record) => {
              const live = progress[record.id];
              const finished = record.status === 'done' || record.status === 'failed';
              const current = finished ? record.processedRows : Math.max(live?.current ?? 0, record.processedRows);
              const total = record.totalRows;
              const pct = total ? Math.floor((current / total) * 100) : 0;
              const status = finished ? record.status : live?.done ? (live.ok ? 'done' : 'failed') : record.status;
              return (
                <tr key={record.id} data-testid={`import-${record.id}`} data-status={status}>
                  <td>
                    <div>{record.fileName}</div>
                    <div className="muted small">
                      {count(total)} rows · <span className={`badge ${status === 'done' ? 'paid' : status === 'failed' ? 'cancelled' : 'pending'}`}>{status}</span>
                      {live && live.frames > 0 && <span> · {live.frames} progress updates received</span>}
                    </div>
                    {record.error && <div className="muted small">{record.error}</div>}
                  </td>
                  <td className="progress-cell">
                    <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} data-testid={`import-progress-${record.id}`}>
                      <div className={`progress-fill ${status}`} style={{ width: `${pct}%` }} />
                    </div>
                    <span className="num small">{pct}%</span>
                  </td>
                  <td className="num">{count(finished ? record.importedRows : (live?.imported ?? record.importedRows))}</td>
                  <td className="num">{count(finished ? record.failedRows : (live?.failed ?? record.failedRows))}</td>
                  <td className="muted">{when(record.createdAt)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}
