/**
 * True when the path of `url` (a request target: path and query) has a
 * malformed %-encoding (`/orders/%E0%A4%A`). Such a path names no page;
 * Next 16.4 answers it with a 500 on a dynamic route (found by a black-box
 * probe of `npm start`), so the Node entry answers 400 before Next sees it.
 */
export function hasMalformedPath(url: string | undefined): boolean {
  if (!url) return false;
  const query = url.indexOf('?');
  const path = query < 0 ? url : url.slice(0, query);
  if (!path.includes('%')) return false;
  try {
    decodeURIComponent(path);
    return false;
  } catch {
    return true;
  }
}
