'use client';

import { useMutation, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useTRPC } from '../../../../trpc/react';
import { money, when } from '../../format';
import { STATUSES } from '../statuses';

/** One order: refetched when `orders/<id>` changes, by anyone, in any tab. */
export function OrderDetail({ id }: { id: string }) {
  const trpc = useTRPC();
  const order = useQuery(trpc.orders.byId.queryOptions({ id }));
  const updateStatus = useMutation(trpc.orders.updateStatus.mutationOptions());
  const o = order.data;
  return (
    <div className="page">
      <p>
        <Link href="/orders" prefetch={false}>
          ← Orders
        </Link>
      </p>
      {order.error && (
        <div className="card">
          <p className="error">{order.error.message}</p>
        </div>
      )}
      {o && (
        <div className="grid">
          <div className="card" data-testid="order-detail">
            <div className="card-head">
              <h1>
                Order #{o.number} <span className={`badge ${o.status}`} data-testid="order-status">{o.status}</span>
              </h1>
              {o.source === 'import' && <span className="tag">imported</span>}
            </div>
            <dl className="facts">
              <dt>Customer</dt>
              <dd>{o.customer}</dd>
              <dt>Created</dt>
              <dd>{when(o.createdAt)}</dd>
              <dt>Last change</dt>
              <dd>{when(o.updatedAt)}</dd>
            </dl>
            <table>
              <thead>
                <tr>
                  <th>Product</th>
                  <th className="num">Qty</th>
                  <th className="num">Unit price</th>
                  <th className="num">Amount</th>
                </tr>
              </thead>
              <tbody>
                {o.items.map((item) => (
                  <tr key={item.productId}>
                    <td>{item.productName}</td>
                    <td className="num">{item.quantity}</td>
                    <td className="num">{money(item.unitPriceCents)}</td>
                    <td className="num">{money(item.unitPriceCents * item.quantity)}</td>
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr>
                  <td colSpan={3}>Total</td>
                  <td className="num strong">{money(o.totalCents)}</td>
                </tr>
              </tfoot>
            </table>
          </div>
          <div className="card">
            <h2>Change status</h2>
            <div className="stack">
              {STATUSES.map((status) => (
                <button
                  key={status}
                  className={status === o.status ? 'secondary current' : 'secondary'}
                  disabled={status === o.status || updateStatus.isPending}
                  onClick={() => updateStatus.mutate({ id: o.id, status })}
                >
                  {status === o.status ? `✓ ${status}` : `Mark ${status}`}
                </button>
              ))}
            </div>
            {updateStatus.error && <p className="error">{updateStatus.error.message}</p>}
          </div>
        </div>
      )}
    </div>
  );
}
