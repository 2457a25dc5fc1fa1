import type { Db } from '../db/database';
import { DomainError } from './domainError';
import { statements } from '../db/statements';

export interface Product {
  id: string;
  sku: string;
  name: string;
  priceCents: number;
  stock: number;
  lowStockThreshold: number;
  updatedAt: Date;
}

interface ProductRow extends Omit<Product, 'updatedAt'> {
  updatedAt: number;
}

const SELECT = `SELECT id, sku, name, price_cents AS priceCents, stock, low_stock_threshold AS lowStockThreshold,
  updated_at AS updatedAt FROM products`;

const toProduct = (row: ProductRow): Product => ({ ...row, updatedAt: new Date(row.updatedAt) });

/** Every product of a tenant, by name. */
export function listProducts(db: Db, tenantId: string): Product[] {
  return (statements(db).prepare(`${SELECT} WHERE tenant_id = ? ORDER BY name`).all(tenantId) as ProductRow[]).map(toProduct);
}

/** One product of a tenant, or `null`. */
export function getProduct(db: Db, tenantId: string, id: string): Product | null {
  const row = statements(db).prepare(`${SELECT} WHERE tenant_id = ? AND id = ?`).get(tenantId, id) as ProductRow | undefined;
  return row ? toProduct(row) : null;
}

/** Largest stock a product may hold; keeps a typo from becoming a billion units. */
export const MAX_STOCK = 1_000_000;

/**
 * Adds (or, with a negative `delta`, removes) units of stock.
 * @throws DomainError NOT_FOUND for a product of another tenant or none; CONFLICT when stock would leave [0, MAX_STOCK].
 */
export function adjustStock(db: Db, tenantId: string, id: string, delta: number, now = Date.now()): Product {
  const result = statements(db)
    .prepare(
      `UPDATE products SET stock = stock + @delta, updated_at = @now
       WHERE tenant_id = @tenantId AND id = @id AND stock + @delta BETWEEN 0 AND ${MAX_STOCK}`,
    )
    .run({ delta, now, tenantId, id });
  if (result.changes !== 1) {
    const product = getProduct(db, tenantId, id);
    if (!product) throw new DomainError('NOT_FOUND', `Product ${id} does not exist`);
    throw new DomainError('CONFLICT', `Stock of ${product.name} cannot go from ${product.stock} to ${product.stock + delta}`);
  }
  return getProduct(db, tenantId, id)!;
}

/**
 * Changes the stock level under which a product counts as low.
 * @throws DomainError NOT_FOUND for a product of another tenant or none.
 */
export function setLowStockThreshold(db: Db, tenantId: string, id: string, threshold: number, now = Date.now()): Product {
  const result = statements(db)
    .prepare('UPDATE products SET low_stock_threshold = ?, updated_at = ? WHERE tenant_id = ? AND id = ?')
    .run(threshold, now, tenantId, id);
  if (result.changes !== 1) throw new DomainError('NOT_FOUND', `Product ${id} does not exist`);
  return getProduct(db, tenantId, id)!;
}
