'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useTRPC } from '../../../trpc/react';
import { count, money, when } from '../format';

const STATUS_ORDER = ['pending', 'paid', 'shipped', 'cancelled'] as const;

/**
 * Revenue, counts, low stock and best sellers. `dashboard.stats` is declared
 * a dependent of `orders` and `products`: any change to either refreshes it.
 */
export function DashboardView() {
  const trpc = useTRPC();
  const stats = useQuery(trpc.dashboard.stats.queryOptions());
  const recent = useQuery(trpc.orders.list.queryOptions({ limit: 6 }));
  const s = stats.data;
  const maxStatus = s ? Math.max(1, ...STATUS_ORDER.map((k) => s.byStatus[k])) : 1;
  return (
    <div className="page">
      <div className="page-head">
        <h1>Dashboard</h1>
        <p className="muted">Refreshed by the server when orders or products change. Nothing here polls.</p>
      </div>
      {stats.error && <p className="error">{stats.error.message}</p>}
      <div className="stats" data-testid="dashboard-stats">
        <Stat label="Revenue" value={s ? money(s.revenueCents) : '—'} note="paid and shipped" testId="stat-revenue" />
        <Stat label="Orders" value={s ? count(s.orders) : '—'} note={s ? `${count(s.ordersToday)} today` : ''} testId="stat-orders" />
        <Stat label="Pending" value={s ? money(s.pendingCents) : '—'} note={s ? `${count(s.byStatus.pending)} orders` : ''} testId="stat-pending" />
        <Stat
          label="Low stock"
          value={s ? count(s.lowStock.length) : '—'}
          note="products at or under threshold"
          tone={s && s.lowStock.length ? 'warn' : undefined}
          testId="stat-low-stock"
        />
      </div>
      <div className="grid">
        <div className="card">
          <div className="card-head">
            <h2>Recent orders</h2>
            <Link href="/orders" prefetch={false}>
              All orders →
            </Link>
          </div>
          <table data-testid="recent-orders">
            <tbody>
              {recent.data?.map((order) => (
                <tr key={order.id} data-testid={`recent-${order.id}`}>
                  <td className="num">#{order.number}</td>
                  <td>
                    <Link href={`/orders/${order.id}`} prefetch={false}>
                      {order.customer}
                    </Link>
                  </td>
                  <td>
                    <span className={`badge ${order.status}`}>{order.status}</span>
                  </td>
                  <td className="num">{money(order.totalCents)}</td>
                  <td className="muted">{when(order.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div>
          <div className="card">
            <h2>Orders by status</h2>
            {STATUS_ORDER.map((status) => (
              <div className="bar-row" key={status}>
                <span className="bar-label">{status}</span>
                <span className="bar-track">
                  <span className={`bar-fill ${status}`} style={{ width: `${s ? (s.byStatus[status] / maxStatus) * 100 : 0}%` }} />
                </span>
                <span className="num" data-testid={`status-count-${status}`}>
                  {s ? count(s.byStatus[status]) : '—'}
                </span>
              </div>
            ))}
            {s && s.imported > 0 && <p className="muted small">{count(s.imported)} of these orders were imported.</p>}
          </div>
          <div className="card">
            <h2>Low stock</h2>
            {s?.lowStock.length === 0 && <p className="muted">Every product is above its threshold.</p>}
            <table>
              <tbody>
                {s?.lowStock.map((p) => (
                  <tr key={p.id}>
                    <td>{p.name}</td>
                    <td className="num warn-text">
                      {p.stock} <span className="muted">/ {p.lowStockThreshold}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="card">
            <h2>Best sellers</h2>
            <table>
              <tbody>
                {s?.topProducts.map((p) => (
                  <tr key={p.id}>
                    <td>{p.name}</td>
                    <td className="num">{count(p.units)} {p.units === 1 ? 'unit' : 'units'}</td>
                    <td className="num muted">{money(p.revenueCents)}</td>
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

function Stat({ label, value, note, tone, testId }: { label: string; value: string; note?: string; tone?: 'warn'; testId: string }) {
  return (
    <div className={`stat card${tone ? ` ${tone}` : ''}`}>
      <div className="stat-label">{label}</div>
      <div className="stat-value" data-testid={testId}>
        {value}
      </div>
      {note && <div className="stat-note muted">{note}</div>}
    </div>
  );
}
