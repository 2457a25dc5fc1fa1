'use client';

import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useTRPC } from '../../../trpc/react';
import { money } from '../format';

interface Line {
  productId: string;
  quantity: number;
}

/** New order form: a customer and one or more product lines. Stock is taken when it succeeds. */
export function CreateOrder() {
  const trpc = useTRPC();
  const products = useQuery(trpc.products.list.queryOptions());
  const [customer, setCustomer] = useState('');
  const [lines, setLines] = useState<Line[]>([{ productId: '', quantity: 1 }]);
  const create = useMutation(
    trpc.orders.create.mutationOptions({
      onSuccess: () => {
        setCustomer('');
        setLines([{ productId: '', quantity: 1 }]);
      },
    }),
  );
  const first = products.data?.[0]?.id ?? '';
  const resolved = lines.map((line) => ({ ...line, productId: line.productId || first }));
  const priceOf = (id: string) => products.data?.find((p) => p.id === id)?.priceCents ?? 0;
  const total = resolved.reduce((sum, line) => sum + priceOf(line.productId) * (line.quantity || 0), 0);
  const update = (i: number, patch: Partial<Line>) => setLines((all) => all.map((line, k) => (k === i ? { ...line, ...patch } : line)));

  return (
    <div className="card">
      <h2>New order</h2>
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate({ customer, items: resolved });
        }}
      >
        <input aria-label="Customer" placeholder="Customer" value={customer} onChange={(e) => setCustomer(e.target.value)} required />
        {resolved.map((line, i) => (
          <div className="row" key={i}>
            <select aria-label={i === 0 ? 'Product' : `Product ${i + 1}`} value={line.productId} onChange={(e) => update(i, { productId: e.target.value })}>
              {products.data?.map((p) => (
                <option key={p.id} value={p.id} disabled={p.stock === 0}>
                  {p.name} · {money(p.priceCents)} · {p.stock} left
                </option>
              ))}
            </select>
            <input
              aria-label={i === 0 ? 'Quantity' : `Quantity ${i + 1}`}
              type="number"
              min={1}
              max={1000}
              value={line.quantity}
              onChange={(e) => update(i, { quantity: Number(e.target.value) })}
              className="qty"
            />
            {lines.length > 1 && (
              <button type="button" className="ghost" aria-label={`Remove line ${i + 1}`} onClick={() => setLines((all) => all.filter((_, k) => k !== i))}>
                ×
              </button>
            )}
          </div>
        ))}
        <div className="row spread">
          <button type="button" className="secondary" onClick={() => setLines((all) => [...all, { productId: '', quantity: 1 }])}>
            + Add line
          </button>
          <span className="muted">Total {money(total)}</span>
        </div>
        <button type="submit" disabled={create.isPending || !first}>
          {create.isPending ? 'Creating…' : 'Create order'}
        </button>
        {create.error && <p className="error">{create.error.message}</p>}
        {create.data && !create.isPending && <p className="ok-text">Order #{create.data.number} created.</p>}
      </form>
    </div>
  );
}
