import { describe, expect, it } from 'vitest';
import { readOrderCsv, validateOrderRow, MAX_IMPORT_ROWS } from '../../src/server/imports/orderCsv';
import { parseCsv } from '../../src/server/imports/parseCsv';

describe('parseCsv', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, CRLF and a byte-order mark', () => {
    const text = '\ufeffa,b\r\n"x, y","say ""hi"""\r\n"multi\nline",2\r\n\r\nlast,';
    expect(parseCsv(text)).toEqual([
      ['a', 'b'],
      ['x, y', 'say "hi"'],
      ['multi\nline', '2'],
      ['last', ''],
    ]);
  });
});

describe('order CSV', () => {
  const products = new Map([['ACM-TENT', { id: 'prd_acme_1', priceCents: 24900 }]]);
  const now = Date.parse('2025-06-01T12:00:00Z');

  it('maps header names case-insensitively and numbers rows as lines of the file', () => {
    const csv = readOrderCsv('Customer,SKU,Quantity\nAda,acm-tent,2\n');
    expect(csv.rows).toEqual([{ line: 2, fields: { customer: 'Ada', sku: 'acm-tent', quantity: '2' } }]);
    expect(validateOrderRow(csv.rows[0]!.fields, products, now)).toEqual({
      customer: 'Ada',
      productId: 'prd_acme_1',
      quantity: 2,
      unitPriceCents: 24900,
      status: 'pending',
      createdAt: now,
    });
  });

  it('refuses an empty file, a header without rows, and too many rows', () => {
    expect(() => readOrderCsv('')).toThrow('The file is empty');
    expect(() => readOrderCsv('customer,sku,quantity\n')).toThrow('The file has a header but no rows');
    const big = `customer,sku,quantity\n${'a,b,1\n'.repeat(MAX_IMPORT_ROWS + 1)}`;
    expect(() => readOrderCsv(big)).toThrow(/At most 50,000 rows per import/);
  });

  it('refuses a created_at in the future and takes a past one', () => {
    const row = { customer: 'Ada', sku: 'ACM-TENT', quantity: '1' };
    expect(validateOrderRow({ ...row, created_at: '2030-01-01' }, products, now)).toBe('created_at must be a date, not in the future');
    expect(validateOrderRow({ ...row, created_at: '2025-05-01T00:00:00Z' }, products, now)).toMatchObject({
      createdAt: Date.parse('2025-05-01T00:00:00Z'),
    });
  });
});
