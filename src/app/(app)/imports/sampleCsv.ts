const CUSTOMERS = [
  'Ada Lovelace',
  'Grace Hopper',
  'Alan Turing',
  'Katherine Johnson',
  'Edsger Dijkstra',
  'Barbara Liskov',
  'Donald Knuth',
  'Margaret Hamilton',
];
const STATUSES = ['paid', 'paid', 'shipped', 'pending', 'cancelled'] as const;

/**
 * A CSV of `rows` demo orders over `skus`, spread over the last 30 days:
 * the import page's "sample file" and the tests' fixture. Pure, isomorphic.
 */
export function sampleOrderCsv(rows: number, skus: readonly string[], now = Date.now()): string {
  const lines = ['customer,sku,quantity,status,created_at'];
  for (let i = 0; i < rows; i++) {
    const created = new Date(now - ((i * 7919 * 1000) % (30 * 86_400_000)) - 60_000).toISOString();
    lines.push(
      `${CUSTOMERS[i % CUSTOMERS.length]},${skus[i % skus.length]},${(i % 3) + 1},${STATUSES[i % STATUSES.length]},${created}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
