import type { Db } from '../db/connection';

export interface Product {
  id: string;
  sku: string;
  name: string;
  priceCents: number;
  stock: number;
  lowStockThreshold: number;
}

/** Every product of a tenant, by name. */
export function listProducts(db: Db, tenantId: string): Product[] {
  return db
    .prepare(
      `SELECT id, sku, name, price_cents AS priceCents, stock, low_stock_threshold AS lowStockThreshold
       FROM products WHERE tenant_id = ? ORDER BY name`,
    )
    .all(tenantId) as Product[];
}
