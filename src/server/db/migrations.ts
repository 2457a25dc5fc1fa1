import { dashboardAggregatesMigration } from './aggregatesMigration';
import { orderCustomersMigration } from './customersMigration';
import { orderSearchMigration } from './searchMigration';

/**
 * Schema migrations, applied in order on start. `PRAGMA user_version` holds
 * how many have run; never edit a shipped migration, add a new one.
 */
export const migrations: readonly string[] = [
  `
  CREATE TABLE tenants (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL
  );
  CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'staff')),
    password_hash TEXT NOT NULL
  );
  CREATE TABLE products (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT NOT NULL REFERENCES tenants(id),
    sku                 TEXT NOT NULL,
    name                TEXT NOT NULL,
    price_cents         INTEGER NOT NULL CHECK (price_cents >= 0),
    stock               INTEGER NOT NULL CHECK (stock >= 0),
    low_stock_threshold INTEGER NOT NULL DEFAULT 5,
    updated_at          INTEGER NOT NULL,
    UNIQUE (tenant_id, sku)
  );
  CREATE TABLE orders (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    number      INTEGER NOT NULL,
    customer    TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'shipped', 'cancelled')),
    total_cents INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, number)
  );
  CREATE INDEX orders_by_tenant_created ON orders (tenant_id, created_at DESC);
  CREATE TABLE order_items (
    order_id         TEXT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    product_id       TEXT NOT NULL REFERENCES products(id),
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_cents INTEGER NOT NULL,
    PRIMARY KEY (order_id, product_id)
  );
  `,
  // 2: notifications (a query-able list behind the instant-lane toasts), CSV imports,
  // where an order came from, and the index the status filter and dashboard read.
  `
  CREATE TABLE notifications (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    kind       TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL DEFAULT '',
    link       TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX notifications_by_tenant_created ON notifications (tenant_id, created_at DESC);
  CREATE TABLE imports (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id),
    user_id        TEXT NOT NULL,
    file_name      TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    total_rows     INTEGER NOT NULL,
    processed_rows INTEGER NOT NULL DEFAULT 0,
    imported_rows  INTEGER NOT NULL DEFAULT 0,
    failed_rows    INTEGER NOT NULL DEFAULT 0,
    error          TEXT,
    created_at     INTEGER NOT NULL,
    finished_at    INTEGER
  );
  CREATE INDEX imports_by_tenant_created ON imports (tenant_id, created_at DESC);
  ALTER TABLE orders ADD COLUMN source TEXT NOT NULL DEFAULT 'manual';
  CREATE INDEX orders_by_tenant_status ON orders (tenant_id, status);
  `,
  // 3: single-use stream tickets for non-browser clients (only a SHA-256 of each ticket is kept).
  `
  CREATE TABLE stream_tickets (
    hash       TEXT PRIMARY KEY,
    claims     TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    spent_at   INTEGER
  );
  CREATE INDEX stream_tickets_by_expiry ON stream_tickets (expires_at);
  `,
  // 4: dashboard aggregates kept by triggers (and backfilled), covering indexes for orders.list.
  dashboardAggregatesMigration,
  // 5: sign-in sessions (the token's `sid`) and their revocations, read incrementally by seq by every instance.
  `
  CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
  );
  CREATE INDEX sessions_by_expiry ON sessions (expires_at);
  CREATE TABLE session_revocations (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    tenant_id  TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX session_revocations_by_expiry ON session_revocations (expires_at);
  `,
  // 6: a trigram index of order customers for orders.list's search, kept by triggers (and backfilled).
  orderSearchMigration,
  // 7: each tenant's distinct order customers (kept by triggers, and backfilled) for searches of 1-2 characters.
  orderCustomersMigration,
];
