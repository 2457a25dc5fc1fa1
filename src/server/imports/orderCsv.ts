import { DomainError } from '../data/domainError';
import type { ImportedOrder } from '../data/imports';
import { ORDER_STATUSES, type OrderStatus } from '../data/orders';
import { countCsvRows, readCsvRows } from './parseCsv';

/** Columns of an order import; `status` and `created_at` may be left out. */
export const ORDER_CSV_COLUMNS = ['customer', 'sku', 'quantity', 'status', 'created_at'] as const;
/** Most data rows one import accepts. */
export const MAX_IMPORT_ROWS = 50_000;
/**
 * Most columns a header may have. An order file needs 5; an export from a
 * shop with its own columns renamed has more (Shopify's order export has
 * about 80), not thousands. A header of 200,000 columns was accepted and
 * each row then mapped over all of them: 100 rows held the loop ~5 s.
 */
export const MAX_IMPORT_COLUMNS = 128;
/**
 * Longest header line, in characters: 128 column names of 64 characters.
 * Read before anything else, so a file that is one long line (5 MB of
 * commas, or of escaped quotes) is refused after reading 8 KiB: reading such
 * a header took 0.6-2.8 s.
 */
export const MAX_HEADER_CHARS = 8_192;
/**
 * Longest data row, in characters. An order row is a few dozen (a customer is
 * at most 120); 16 KiB leaves room for the other columns of an export (notes,
 * addresses). Counting stops at a longer row, and the worker reads rows a
 * bounded number of characters at a time: one 4.9 MB row held the loop 0.8-1.6 s.
 */
export const MAX_ROW_CHARS = 16_384;

/** An order CSV whose header has been checked; its rows are read a chunk at a time ({@link orderRows}). */
export interface OrderCsv {
  /** Column names of the header, trimmed and lower-cased. */
  readonly names: readonly string[];
  /** Data rows (blank lines are not rows). */
  readonly rowCount: number;
  readonly text: string;
  /** Where the first data row starts in `text`. */
  readonly start: number;
}

/** One data row as named fields, numbered as in the file (header = line 1, blank lines not counted). */
export interface OrderCsvRow {
  readonly line: number;
  /** The order columns the header has ({@link ORDER_CSV_COLUMNS}); other columns are not read. */
  readonly fields: Record<string, string>;
}

const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * Checks the header and counts the rows of an order CSV, without building
 * them: the request that uploads a file only pays for a count. Its work is
 * bounded by the limits above, not by what the file holds past them.
 * @throws DomainError BAD_REQUEST for a missing column, a header too long or
 * too wide, a row too long, no rows or too many rows.
 */
export function readOrderCsv(text: string): OrderCsv {
  // The header from the first MAX_HEADER_CHARS + 2 characters (the longest header, its line end
  // and one more): it is whole if it ended before the last of them (readCsvRows stops before the
  // end only after a line end), or if they are the whole file.
  const head = text.length > MAX_HEADER_CHARS + 2 ? text.slice(0, MAX_HEADER_CHARS + 2) : text;
  const { rows: [header], next: start } = readCsvRows(head, 0, 1);
  if (head.length < text.length && start >= head.length) {
    throw new DomainError('BAD_REQUEST', `The header line is longer than ${fmt(MAX_HEADER_CHARS)} characters; an order file's header is a few column names`);
  }
  if (!header) throw new DomainError('BAD_REQUEST', 'The file is empty');
  if (header.length > MAX_IMPORT_COLUMNS) {
    throw new DomainError('BAD_REQUEST', `The header has ${fmt(header.length)} columns; an order file has at most ${MAX_IMPORT_COLUMNS}`);
  }
  const names = header.map((h) => h.trim().toLowerCase());
  for (const required of ['customer', 'sku', 'quantity']) {
    if (!names.includes(required)) {
      throw new DomainError('BAD_REQUEST', `Missing column "${required}" (expected: ${ORDER_CSV_COLUMNS.join(', ')})`);
    }
  }
  const { rows: rowCount, longRow } = countCsvRows(text, start, MAX_IMPORT_ROWS, MAX_ROW_CHARS);
  if (longRow !== undefined) {
    // Numbered as the worker numbers rows: the header is line 1, blank lines are not counted.
    throw new DomainError('BAD_REQUEST', `Line ${fmt(longRow + 1)} is longer than ${fmt(MAX_ROW_CHARS)} characters; an order row is a few dozen`);
  }
  if (!rowCount) throw new DomainError('BAD_REQUEST', 'The file has a header but no rows');
  if (rowCount > MAX_IMPORT_ROWS) {
    throw new DomainError('BAD_REQUEST', `At most ${fmt(MAX_IMPORT_ROWS)} rows per import; this file has more`);
  }
  return { names, rowCount, text, start };
}

/**
 * Characters of rows read per chunk at most (a row started is finished). A
 * chunk of the sample file's 250 rows is ~15,000 characters; rows of 16 KiB
 * would make a 250-row chunk the whole file.
 */
const MAX_CHUNK_CHARS = 65_536;

/** Reads the rows of `csv` in order, `max` at a time (an empty array at the end), fewer if they are long. */
export function orderRows(csv: OrderCsv): { next(max: number): OrderCsvRow[] } {
  // Only the order columns are picked from a row, whatever the header's width; a repeated name: its last column.
  const columns = ORDER_CSV_COLUMNS.map((name) => [name, csv.names.lastIndexOf(name)] as const).filter(([, k]) => k >= 0);
  let position = csv.start;
  let line = 2;
  return {
    next(max) {
      const { rows, next } = readCsvRows(csv.text, position, max, MAX_CHUNK_CHARS);
      position = next;
      return rows.map((fields) => ({
        line: line++,
        fields: Object.fromEntries(columns.map(([name, k]) => [name, (fields[k] ?? '').trim()])),
      }));
    },
  };
}

/** A product as row validation needs it. */
export interface ImportProduct {
  readonly id: string;
  readonly priceCents: number;
}

/** Validates one row; returns the order to insert or a message naming the problem. */
export function validateOrderRow(
  fields: Record<string, string>,
  productsBySku: ReadonlyMap<string, ImportProduct>,
  now: number,
): ImportedOrder | string {
  const customer = fields.customer ?? '';
  if (!customer || customer.length > 120) return 'customer must be 1 to 120 characters';
  const product = productsBySku.get((fields.sku ?? '').toUpperCase());
  if (!product) return `unknown SKU "${(fields.sku ?? '').slice(0, 40)}"`;
  const quantity = Number(fields.quantity);
  if (!Number.isInteger(quantity) || quantity < 1 || quantity > 1000) return 'quantity must be a whole number from 1 to 1000';
  const status = (fields.status || 'pending').toLowerCase() as OrderStatus;
  if (!ORDER_STATUSES.includes(status)) return `status must be one of ${ORDER_STATUSES.join(', ')}`;
  let createdAt = now;
  if (fields.created_at) {
    createdAt = Date.parse(fields.created_at);
    if (!Number.isFinite(createdAt) || createdAt > now + 86_400_000) return 'created_at must be a date, not in the future';
  }
  return { customer, productId: product.id, quantity, unitPriceCents: product.priceCents, status, createdAt };
}
