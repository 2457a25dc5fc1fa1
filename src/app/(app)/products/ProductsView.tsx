'use client';

import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useTRPC } from '../../../trpc/react';
import { count, money, when } from '../format';

/** Products and inventory. Stock falls when orders are created, in every open tab, without a reload. */
export function ProductsView() {
  const trpc = useTRPC();
  const products = useQuery(trpc.products.list.queryOptions());
  const adjust = useMutation(trpc.products.adjustStock.mutationOptions());
  const threshold = useMutation(trpc.products.setLowStockThreshold.mutationOptions());
  const [amounts, setAmounts] = useState<Record<string, number>>({});
  const maxStock = Math.max(1, ...(products.data?.map((p) => p.stock) ?? [1]));
  const units = products.data?.reduce((sum, p) => sum + p.stock, 0) ?? 0;
  const value = products.data?.reduce((sum, p) => sum + p.stock * p.priceCents, 0) ?? 0;

  return (
    <div className="page">
      <div className="page-head">
        <h1>Products &amp; inventory</h1>
        <p className="muted">
          {products.data ? `${count(products.data.length)} products · ${count(units)} units in stock · ${money(value)} at list price` : ' '}
        </p>
      </div>
      <div className="card">
        {products.error && <p className="error">{products.error.message}</p>}
        <table data-testid="products">
          <thead>
            <tr>
              <th>SKU</th>
              <th>Product</th>
              <th className="num">Price</th>
              <th>Stock</th>
              <th className="num">Low at</th>
              <th>Receive / write off</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {products.data?.map((p) => {
              const low = p.stock <= p.lowStockThreshold;
              const amount = amounts[p.id] ?? 10;
              return (
                <tr key={p.id} data-testid={`product-${p.id}`}>
                  <td className="mono muted">{p.sku}</td>
                  <td>{p.name}</td>
                  <td className="num">{money(p.priceCents)}</td>
                  <td className="stock-cell">
                    <span className="bar-track small">
                      <span className={`bar-fill ${low ? 'cancelled' : 'paid'}`} style={{ width: `${(p.stock / maxStock) * 100}%` }} />
                    </span>
                    <span className={`num ${low ? 'warn-text' : ''}`} data-testid={`stock-${p.id}`}>
                      {count(p.stock)}
                    </span>
                    {p.stock === 0 ? <span className="badge cancelled">out</span> : low ? <span className="badge pending">low</span> : null}
                  </td>
                  <td className="num">
                    <input
                      aria-label={`Low stock threshold of ${p.name}`}
                      type="number"
                      min={0}
                      max={10000}
                      className="qty"
                      defaultValue={p.lowStockThreshold}
                      key={p.lowStockThreshold}
                      onBlur={(e) => {
                        const next = Number(e.target.value);
                        if (Number.isInteger(next) && next !== p.lowStockThreshold) threshold.mutate({ id: p.id, threshold: next });
                      }}
                    />
                  </td>
                  <td>
                    <div className="row nowrap">
                      <input
                        aria-label={`Units of ${p.name}`}
                        type="number"
                        min={1}
                        className="qty"
                        value={amount}
                        onChange={(e) => setAmounts((all) => ({ ...all, [p.id]: Number(e.target.value) }))}
                      />
                      <button className="secondary" disabled={adjust.isPending || !(amount > 0)} onClick={() => adjust.mutate({ id: p.id, delta: amount })}>
                        Receive
                      </button>
                      <button
                        className="secondary"
                        disabled={adjust.isPending || !(amount > 0) || amount > p.stock}
                        onClick={() => adjust.mutate({ id: p.id, delta: -amount })}
                      >
                        Write off
                      </button>
                    </div>
                  </td>
                  <td className="muted">{when(p.updatedAt)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {(adjust.error || threshold.error) && <p className="error">{(adjust.error ?? threshold.error)!.message}</p>}
      </div>
    </div>
  );
}
