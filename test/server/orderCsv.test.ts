import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { orderRows, readOrderCsv, validateOrderRow, MAX_IMPORT_ROWS } from '../../src/server/imports/orderCsv';
import { countCsvRows, parseCsv, readCsvRows } from '../../src/server/imports/parseCsv';

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

/** The character-at-a-time parser parseCsv replaced (its oracle): same rows for any text. */
function parseCsvByCharacter(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // byte-order mark from spreadsheet exports
  const endRow = () => {
    row.push(field);
    field = '';
    if (row.length > 1 || row[0] !== '') rows.push(row);
    row = [];
  };
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        field += c;
      }
      i++;
      continue;
    }
    if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') endRow();
    else if (c !== '\r') field += c;
    i++;
  }
  if (field !== '' || row.length) endRow();
  return rows;
}

describe('parseCsv against the character-at-a-time parser', () => {
  it('returns the same rows for any text made of separators, quotes, line ends and letters', () => {
    const text = fc.string({ unit: fc.constantFrom(',', '"', '\n', '\r', 'a', 'b', ' ', '\ufeff'), maxLength: 60 });
    fc.assert(
      fc.property(text, (t) => {
        expect(parseCsv(t)).toEqual(parseCsvByCharacter(t));
      }),
      { numRuns: 5000 },
    );
  });

  it('reads the same rows a few at a time, and counts them without reading them', () => {
    const text = fc.string({ unit: fc.constantFrom(',', '"', '\n', '\r', 'a', ' ', '\ufeff'), maxLength: 60 });
    fc.assert(
      fc.property(text, fc.integer({ min: 1, max: 3 }), (t, step) => {
        const all = parseCsvByCharacter(t);
        const read: string[][] = [];
        for (let at = 0, guard = 0; at < t.length && guard < 100; guard++) {
          const { rows, next } = readCsvRows(t, at, step);
          read.push(...rows);
          at = next;
        }
        expect(read).toEqual(all);
        expect(countCsvRows(t)).toBe(all.length);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('order CSV', () => {
  const products = new Map([['ACM-TENT', { id: 'prd_acme_1', priceCents: 24900 }]]);
  const now = Date.parse('2025-06-01T12:00:00Z');

  it('maps header names case-insensitively and numbers rows as lines of the file', () => {
    const csv = readOrderCsv('Customer,SKU,Quantity\nAda,acm-tent,2\n');
    expect(csv.rowCount).toBe(1);
    const rows = orderRows(csv).next(10);
    expect(rows).toEqual([{ line: 2, fields: { customer: 'Ada', sku: 'acm-tent', quantity: '2' } }]);
    expect(validateOrderRow(rows[0]!.fields, products, now)).toEqual({
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
