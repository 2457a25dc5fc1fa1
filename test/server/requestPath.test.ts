import { describe, expect, it } from 'vitest';
import { hasMalformedPath } from '../../src/server/requestPath';

describe('hasMalformedPath (the Node entry answers 400 before Next)', () => {
  it('finds a malformed %-encoding in the path', () => {
    for (const url of ['/orders/%E0%A4%A', '/orders/%E0', '/%', '/orders/%zz?x=1']) expect(hasMalformedPath(url), url).toBe(true);
  });

  it('passes well-formed paths, paths without %, and leaves the query to the page', () => {
    for (const url of [undefined, '', '/', '/orders/ord_1', '/orders/%E0%A4%A4', '/orders/a%20b', '/orders?q=%E0']) {
      expect(hasMalformedPath(url), String(url)).toBe(false);
    }
  });
});
