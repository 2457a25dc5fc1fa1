import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { performance } from 'node:perf_hooks';
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
        expect(countCsvRows(t).rows).toBe(all.length);
      }),
      { numRuns: 3000 },
    );
  });

  it('stops counting after maxRows + 1 rows, and never calls a row long when the text is no longer than the limit', () => {
    const text = fc.string({ unit: fc.constantFrom(',', '"', '\n', '\r', 'a', ' '), maxLength: 60 });
    fc.assert(
      fc.property(text, fc.integer({ min: 0, max: 5 }), (t, maxRows) => {
        const all = parseCsvByCharacter(t);
        expect(countCsvRows(t, 0, maxRows, t.length)).toEqual({ rows: Math.min(all.length, maxRows + 1) });
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

/** Least of 10 timed calls after a warm-up, in ms (the machine is shared: the least is the code's own cost). */
function leastMs(call: () => unknown): number {
  const attempt = () => {
    try {
      call();
    } catch {
      // refusals are timed too
    }
  };
  attempt();
  let least = Infinity;
  for (let i = 0; i < 10; i++) {
    const start = performance.now();
    attempt();
    least = Math.min(least, performance.now() - start);
  }
  return least;
}

/** A flat copy, as a request's JSON.parse gives it (a string built with repeat() is flattened on first read). */
const flat = (text: string): string => JSON.parse(JSON.stringify(text)) as string;

describe('order CSV limits (the probe of the production server held the event loop with these)', () => {
  const H = 'customer,sku,quantity\n';

  it('refuses a header wider than 128 columns or longer than 8 KiB before mapping any row to it', () => {
    // The probe's file: 200,000 extra columns, then 100 rows mapped over all of them (the worker held the loop ~5 s).
    const wide = `customer,sku,quantity${',c'.repeat(200_000)}\n${'Ann,ACM-LAMP,1\n'.repeat(100)}`;
    expect(() => readOrderCsv(wide)).toThrow("The header line is longer than 8,192 characters; an order file's header is a few column names");
    expect(() => readOrderCsv(`customer,sku,quantity${',c'.repeat(126)}\nAnn,ACM-LAMP,1\n`)).toThrow(
      'The header has 129 columns; an order file has at most 128',
    );
    expect(readOrderCsv(`customer,sku,quantity${',c'.repeat(125)}\nAnn,ACM-LAMP,1\n`).rowCount).toBe(1);
    // A header of exactly 8,192 characters is whole; one more is not.
    const header = (chars: number) => `customer,sku,quantity,${'n'.repeat(chars - 22)}`;
    expect(header(8_192)).toHaveLength(8_192);
    expect(readOrderCsv(`${header(8_192)}\nAnn,ACM-LAMP,1,x\n`).rowCount).toBe(1);
    expect(() => readOrderCsv(`${header(8_193)}\nAnn,ACM-LAMP,1,x\n`)).toThrow('The header line is longer than 8,192 characters');
  });

  it('picks only the order columns from a row, however many fields the header or the row has', () => {
    const csv = readOrderCsv(`Note,customer,sku,quantity,Status,extra\nhi,Ann,ACM-LAMP,2,paid,x${',y'.repeat(8_000)}\n`);
    expect(orderRows(csv).next(10)).toEqual([{ line: 2, fields: { customer: 'Ann', sku: 'ACM-LAMP', quantity: '2', status: 'paid' } }]);
  });

  it('refuses a row longer than 16 KiB with its line number, without reading on', () => {
    expect(() => readOrderCsv(`${H}Ann,ACM-LAMP,1\n\n"${'""'.repeat(8_200)}",ACM-LAMP,1\nBob,ACM-LAMP,1\n`)).toThrow(
      'Line 3 is longer than 16,384 characters; an order row is a few dozen',
    );
    expect(() => readOrderCsv(`${H}Ann,ACM-LAMP,1${','.repeat(16_400)}\n`)).toThrow('Line 2 is longer than 16,384 characters');
    const longest = `Ann,ACM-LAMP,1,${'x'.repeat(16_384 - 15)}`;
    expect(longest).toHaveLength(16_384);
    expect(readOrderCsv(`customer,sku,quantity,note\n${longest}\n`).rowCount).toBe(1);
  });

  it('refuses more than 50,000 rows without counting them all', () => {
    expect(() => readOrderCsv(flat(`${H}${'a"b,ACM-LAMP,1\n'.repeat(300_000)}`))).toThrow('At most 50,000 rows per import; this file has more');
  });

  // Before: 650 ms for the first two on the production server (health stalled 538-565 ms); 1.3 s, 2.8 s,
  // 1.3 s and 0.9 s (the last in the worker's first chunk) with tsx on this machine, and 7.8 s for this
  // test. After: 0.1-0.6 ms for the refusals; 11-12 ms (least of 5, nothing else running) for the two
  // slowest files accepted, quoted fields full of escaped quotes or commas, read a character at a time
  // (maxQuoted, escapes). With this file's neighbours running in parallel (load average 5 on 2 cores)
  // the least of 10 reached 23-26 ms. The bound is 200 ms, for a CI machine busy with other test files: it still
  // refuses the old costs (0.9-2.8 s) by a factor of 4 or more.
  it('checks a 5 MB file in a bounded time, whatever it holds', () => {
    const files = {
      quotesHeader: `"${'""'.repeat(2_400_000)}`,
      commasHeader: `customer,sku,quantity${','.repeat(4_900_000)}`,
      quotesRow: `${H}"${'""'.repeat(2_400_000)}",ACM-LAMP,1\n`,
      commasRow: `${H}a,ACM-LAMP,1${','.repeat(4_900_000)}\n`,
      maxQuoted: `${H}${`a,ACM-LAMP,1${',""'.repeat(5_400)}\n`.repeat(300)}`,
      escapes: `${H}${`"${'""'.repeat(45)}",ACM-LAMP,1\n`.repeat(49_000)}`,
    };
    const times = Object.fromEntries(Object.entries(files).map(([name, text]) => {
      const file = flat(text);
      expect(file.length).toBeGreaterThan(4_500_000);
      return [name, leastMs(() => readOrderCsv(file))];
    }));
    expect(Object.entries(times).filter(([, ms]) => ms > 200)).toEqual([]);
  });

  it('reads a chunk of long rows up to 64 KiB, not its 250 rows (the slowest chunk well under the old 4 MB read)', () => {
    // 300 rows of 16,215 characters (~4.9 MB): in 250-row chunks the worker read 4 MB in one go.
    const csv = readOrderCsv(flat(`${H}${`a,ACM-LAMP,1${',""'.repeat(5_400)}\n`.repeat(300)}`));
    const rows = orderRows(csv);
    const sizes: number[] = [];
    let slowest = 0;
    for (;;) {
      const start = performance.now();
      const chunk = rows.next(250);
      slowest = Math.max(slowest, performance.now() - start);
      if (!chunk.length) break;
      sizes.push(chunk.length);
    }
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(300);
    expect(Math.max(...sizes)).toBe(5); // 4 rows make 64,860 characters, under 65,536: the 5th starts
    // A 64 KiB chunk takes ~1 ms here; the slowest of 60 chunks is a maximum, so the bound leaves room for a
    // busy CI machine while still refusing the old 4 MB chunk (~0.9 s).
    expect(slowest).toBeLessThan(200);
  });
});
