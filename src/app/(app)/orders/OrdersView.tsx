'use client';

import { useMutation, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { useTRPC } from '../../../trpc/react';
import { count, money, when } from '../format';
import { CreateOrder } from './CreateOrder';
import { STATUSES, type Status } from './statuses';

const PAGE = 50;

/** Orders list with filters and inline status changes, and a create form. No invalidation code: the live link does it. */
export function OrdersView() {
  const trpc = useTRPC();
  const [status, setStatus] = useState<Status | ''>('');
  const [search, setSearch] = useState('');
  const filter = { ...(status ? { status } : {}), ...(search.trim() ? { search: search.trim() } : {}), limit: PAGE };
  const orders = useQuery(trpc.orders.list.queryOptions(filter));
  const stats = useQuery(trpc.dashboard.stats.queryOptions());
  const updateStatus = useMutation(trpc.orders.updateStatus.mutationOptions());
  const total = stats.data ? (status ? stats.data.byStatus[status] : stats.data.orders) : null;

  return (
    <div className="page">
      <div className="page-head">
        <h1>Orders</h1>
        <p className="muted">
          {total !== null && !search.trim()
            ? `${count(total)} ${status || ''} orders${total > PAGE ? ` · newest ${PAGE} shown` : ''}`
            : 'Filter by status or customer.'}
        </p>
      </div>
      <div className="grid">
        <div className="card">
          <div className="row filters">
            <select aria-label="Filter by status" value={status} onChange={(e) => setStatus(e.target.value as Status | '')}>
              <option value="">All statuses</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
            <input
              aria-label="Search customer"
              type="search"
              placeholder="Search customer"
              value={search}
              onChange={(e) => setSearch(e.target.value)}
            />
          </div>
          {orders.error && <p className="error">{orders.error.message}</p>}
          <table data-testid="orders">
            <thead>
              <tr>
                <th>#</th>
                <th>Customer</th>
                <th>Status</th>
                <th className="num">Total</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {orders.data?.map((order) => (
                <tr key={order.id} data-testid={`order-${order.id}`}>
                  <td className="num">{order.number}</td>
                  <td>
                    <Link href={`/orders/${order.id}`} prefetch={false}>
                      {order.customer}
                    </Link>
                    {order.source === 'import' && <span className="tag">imported</span>}
                  </td>
                  <td>
                    <select
                      aria-label={`Status of order ${order.number}`}
                      className={`badge ${order.status}`}
                      value={order.status}
                      onChange={(e) => updateStatus.mutate({ id: order.id, status: e.target.value as Status })}
                    >
                      {STATUSES.map((s) => (
                        <option key={s} value={s}>
                          {s}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td className="num">{money(order.totalCents)}</td>
                  <td className="muted">{when(order.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {orders.data?.length === 0 && <p className="muted">No orders match.</p>}
          {updateStatus.error && <p className="error">{updateStatus.error.message}</p>}
        </div>
        <div>
          <CreateOrder />
        </div>
      </div>
    </div>
  );
}
