'use client';

import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useTRPC } from '../../../trpc/react';

const STATUSES = ['pending', 'paid', 'shipped', 'cancelled'] as const;
type Status = (typeof STATUSES)[number];

const money = (cents: number) => `$${(cents / 100).toFixed(2)}`;

/** Orders list, filters, status changes and a create form. No invalidation code: the live link does it. */
export function OrdersView() {
  const trpc = useTRPC();
  const [status, setStatus] = useState<Status | ''>('');
  const [search, setSearch] = useState('');
  const filter = { ...(status ? { status } : {}), ...(search.trim() ? { search: search.trim() } : {}) };
  const orders = useQuery(trpc.orders.list.queryOptions(filter));
  const updateStatus = useMutation(trpc.orders.updateStatus.mutationOptions());

  return (
    <div className="grid">
      <div>
        <h1>Orders</h1>
        <div className="card">
          <div className="row" style={{ marginBottom: 12 }}>
            <select aria-label="Filter by status" value={status} onChange={(e) => setStatus(e.target.value as Status | '')}>
              <option value="">All statuses</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
            <input aria-label="Search customer" placeholder="Search customer" value={search} onChange={(e) => setSearch(e.target.value)} />
          </div>
          {orders.error && <p className="error">{orders.error.message}</p>}
          <table data-testid="orders">
            <thead>
              <tr>
                <th>#</th>
                <th>Customer</th>
                <th>Status</th>
                <th>Total</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {orders.data?.map((order) => (
                <tr key={order.id} data-testid={`order-${order.id}`}>
                  <td>{order.number}</td>
                  <td>{order.customer}</td>
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
                  <td>{money(order.totalCents)}</td>
                  <td className="muted">{order.createdAt.toLocaleString()}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {orders.data?.length === 0 && <p className="muted">No orders match.</p>}
          {updateStatus.error && <p className="error">{updateStatus.error.message}</p>}
        </div>
      </div>
      <div>
        <CreateOrder />
        <Stock />
      </div>
    </div>
  );
}

function CreateOrder() {
  const trpc = useTRPC();
  const products = useQuery(trpc.products.list.queryOptions());
  const [customer, setCustomer] = useState('');
  const [productId, setProductId] = useState('');
  const [quantity, setQuantity] = useState(1);
  const create = useMutation(trpc.orders.create.mutationOptions({ onSuccess: () => setCustomer('') }));
  const selected = productId || products.data?.[0]?.id || '';
  return (
    <div className="card">
      <h2>New order</h2>
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate({ customer, items: [{ productId: selected, quantity }] });
        }}
      >
        <input aria-label="Customer" placeholder="Customer" value={customer} onChange={(e) => setCustomer(e.target.value)} required />
        <div className="row">
          <select aria-label="Product" value={selected} onChange={(e) => setProductId(e.target.value)}>
            {products.data?.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name} ({money(p.priceCents)})
              </option>
            ))}
          </select>
          <input
            aria-label="Quantity"
            type="number"
            min={1}
            max={1000}
            value={quantity}
            onChange={(e) => setQuantity(Number(e.target.value))}
            style={{ width: 80 }}
          />
        </div>
        <button type="submit" disabled={create.isPending || !selected}>
          {create.isPending ? 'Creating…' : 'Create order'}
        </button>
        {create.error && <p className="error">{create.error.message}</p>}
      </form>
    </div>
  );
}

function Stock() {
  const trpc = useTRPC();
  const products = useQuery(trpc.products.list.queryOptions());
  return (
    <div className="card">
      <h2>Stock</h2>
      <table data-testid="stock">
        <tbody>
          {products.data?.map((p) => (
            <tr key={p.id}>
              <td>{p.name}</td>
              <td className={p.stock <= p.lowStockThreshold ? 'error' : ''}>{p.stock}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
