/**
 * Issue 15, item 5: a request another site makes a browser send cannot
 * change anything. Cookie-authenticated (and browser-sent) POSTs need a
 * same-origin `Origin` (or `Sec-Fetch-Site: same-origin`/`none`) and a JSON
 * body; bearer calls of non-browser clients keep working. Over HTTP, through
 * the handler the Next route and `TRPC_HTTP=direct` share.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { checkCrossSite } from '../../src/server/csrfGuard';
import { DEMO_PASSWORD } from '../../src/server/db/seed';
import { sessionCookieFor } from '../helpers/app';
import { useServedApp } from '../helpers/servedApp';

const EVIL = 'https://evil.example';
const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';
const newOrder = JSON.stringify({ json: { customer: 'CSRF probe', items: [{ productId: 'prd_acme_1', quantity: 1 }] } });

/** A multipart body as a cross-site `<form enctype="multipart/form-data">` posts it. */
function multipart(): { body: string; type: string } {
  const boundary = '----formboundary7MA4YWxkTrZu0gW';
  return {
    body: `--${boundary}\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n--${boundary}--\r\n`,
    type: `multipart/form-data; boundary=${boundary}`,
  };
}

describe('cross-site requests cannot mutate', () => {
  const served = useServedApp({ transport: 'fast' });
  let cookie: string;
  beforeAll(async () => {
    cookie = await sessionCookieFor('bob@acme.test');
  });

  const post = (path: string, headers: Record<string, string>, body: string = newOrder) =>
    fetch(`${served.url}/api/trpc/${path}`, { method: 'POST', headers, body });
  const ordersNamed = () =>
    served.app.db.prepare<[], { n: number }>("SELECT count(*) AS n FROM orders WHERE customer = 'CSRF probe'").get()!.n;
  /** The refusal as a tRPC client sees it: the router's error shape, with a message saying why. */
  async function refusal(res: Response) {
    const body = (await res.json()) as { error: { json: { message: string; data: { code: string; httpStatus: number } } } };
    expect(body.error.json.data.httpStatus).toBe(res.status);
    return { status: res.status, code: body.error.json.data.code, message: body.error.json.message };
  }

  it('refuses a cookie POST with a multipart, text/plain or urlencoded body with 415, and runs nothing', async () => {
    const form = multipart();
    const before = ordersNamed();
    for (const [type, body] of [
      [form.type, form.body],
      ['text/plain', newOrder],
      ['text/plain;charset=UTF-8', newOrder],
      ['application/x-www-form-urlencoded', 'json=1'],
    ] as const) {
      const res = await post('orders.create', { cookie, origin: served.url, 'content-type': type }, body);
      const refused = await refusal(res);
      expect(refused).toMatchObject({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
      expect(refused.message).toContain('Content-Type: application/json');
    }
    // Sign-out over multipart ran before (tRPC 11 parses FormData for a mutation): the cookie must still work.
    const signOut = await post('auth.signOut', { cookie, origin: served.url, 'content-type': form.type }, form.body);
    expect(signOut.status).toBe(415);
    expect(signOut.headers.get('set-cookie')).toBeNull();
    expect(ordersNamed()).toBe(before);
    expect((await fetch(`${served.url}/api/trpc/auth.me`, { headers: { cookie } })).status).toBe(200);
  });

  it('refuses a cookie POST from a foreign Origin with 403, whatever its body', async () => {
    const form = multipart();
    for (const [type, body] of [
      ['application/json', newOrder],
      [form.type, form.body],
      ['text/plain', newOrder],
    ] as const) {
      const refused = await refusal(await post('orders.create', { cookie, origin: EVIL, 'content-type': type }, body));
      expect(refused).toMatchObject({ status: 403, code: 'FORBIDDEN' });
      expect(refused.message).toContain(`Origin ${EVIL} is not this site`);
    }
    // A sandboxed frame or a file: page sends "null"; another port of the same host is another origin.
    const otherPort = `http://127.0.0.1:${Number(new URL(served.url).port) + 1}`;
    for (const origin of ['null', otherPort, 'not a url']) {
      expect((await post('orders.create', { cookie, origin, 'content-type': 'application/json' })).status).toBe(403);
    }
    expect(ordersNamed()).toBe(0);
  });

  it('refuses a cookie POST without an Origin from a browser-like request with 403', async () => {
    const json = { cookie, 'content-type': 'application/json' };
    const markers: Array<Record<string, string>> = [{ 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { 'user-agent': BROWSER_UA }, {}];
    for (const extra of markers) {
      const refused = await refusal(await post('orders.create', { ...json, ...extra }));
      expect(refused).toMatchObject({ status: 403, code: 'FORBIDDEN' });
      expect(refused.message).toMatch(/Origin header|Sec-Fetch-Site is/);
    }
    expect(ordersNamed()).toBe(0);
  });

  it('refuses a sign-in from another site (login CSRF) and a bearer call that also carries a cookie from a foreign Origin', async () => {
    const signIn = JSON.stringify({ json: { email: 'bob@acme.test', password: DEMO_PASSWORD } });
    const res = await post('auth.signIn', { origin: EVIL, 'content-type': 'text/plain' }, signIn);
    expect(res.status).toBe(403);
    expect(res.headers.get('set-cookie')).toBeNull();
    const form = await post('auth.signIn', { 'user-agent': BROWSER_UA, 'content-type': 'application/json' }, signIn);
    expect(form.status).toBe(403);
    const bearer = cookie.slice('live_session='.length);
    const both = await post('orders.create', { cookie, authorization: `Bearer ${decodeURIComponent(bearer)}`, origin: EVIL, 'content-type': 'application/json' });
    expect(both.status).toBe(403);
    expect(ordersNamed()).toBe(0);
  });

  it('accepts a same-origin JSON POST with the cookie, by Origin or by Sec-Fetch-Site', async () => {
    const json = { cookie, 'content-type': 'application/json' };
    expect((await post('orders.create', { ...json, origin: served.url })).status).toBe(200);
    expect((await post('orders.create', { ...json, 'content-type': 'application/json; charset=utf-8', origin: served.url })).status).toBe(200);
    expect((await post('orders.create', { ...json, 'sec-fetch-site': 'same-origin', 'user-agent': BROWSER_UA })).status).toBe(200);
    expect(ordersNamed()).toBe(3);
  });

  it('accepts bearer calls and sign-ins of non-browser clients without an Origin', async () => {
    const token = decodeURIComponent(cookie.slice('live_session='.length));
    const res = await post('orders.create', { authorization: `Bearer ${token}`, 'content-type': 'application/json' });
    expect(res.status).toBe(200);
    // A bearer call from a browser-like client: a page of another site cannot add Authorization without a preflight.
    const browser = await post('orders.create', { authorization: `Bearer ${token}`, 'user-agent': BROWSER_UA, 'content-type': 'application/json' });
    expect(browser.status).toBe(200);
    const signIn = await post('auth.signIn', { 'content-type': 'application/json' }, JSON.stringify({ json: { email: 'bob@acme.test', password: DEMO_PASSWORD } }));
    expect(signIn.status).toBe(200);
    expect(signIn.headers.get('set-cookie')).toContain('live_session=');
    // Reads are not guarded: a GET query with the cookie and a foreign Origin is answered (it changes nothing).
    expect((await fetch(`${served.url}/api/trpc/auth.me`, { headers: { cookie, origin: EVIL } })).status).toBe(200);
  });
});

describe('checkCrossSite', () => {
  const headers = (entries: Record<string, string>) => new Headers({ cookie: 'live_session=x', 'content-type': 'application/json', ...entries });

  it('compares the Origin with the Host, default ports included', () => {
    expect(checkCrossSite('POST', headers({ host: 'shop.example', origin: 'https://shop.example' }))).toBeNull();
    expect(checkCrossSite('POST', headers({ host: 'shop.example:443', origin: 'https://shop.example' }))).toBeNull();
    expect(checkCrossSite('POST', headers({ host: 'shop.example:8080', origin: 'https://shop.example' }))?.status).toBe(403);
    expect(checkCrossSite('POST', headers({ host: 'shop.example', origin: 'https://shop.example.evil.example' }))?.status).toBe(403);
    expect(checkCrossSite('DELETE', headers({ host: 'shop.example', origin: EVIL }))?.status).toBe(403);
    expect(checkCrossSite('GET', headers({ host: 'shop.example', origin: EVIL }))).toBeNull();
  });

  it('accepts listed origins and a trusted proxy’s X-Forwarded-Host, and nothing else forwarded', () => {
    const behindProxy = headers({ host: '10.0.0.5:3000', 'x-forwarded-host': 'shop.example', origin: 'https://shop.example' });
    expect(checkCrossSite('POST', behindProxy, { trustForwardedHost: false, allowedOrigins: [] })?.status).toBe(403);
    expect(checkCrossSite('POST', behindProxy, { trustForwardedHost: true, allowedOrigins: [] })).toBeNull();
    expect(checkCrossSite('POST', behindProxy, { trustForwardedHost: false, allowedOrigins: ['https://shop.example'] })).toBeNull();
    // The value the nearest proxy appended counts, not one the client wrote before it.
    const spoofed = headers({ host: '10.0.0.5:3000', 'x-forwarded-host': 'evil.example, shop.example', origin: EVIL });
    expect(checkCrossSite('POST', spoofed, { trustForwardedHost: true, allowedOrigins: [] })?.status).toBe(403);
  });

  it('checks the origin before the body type', () => {
    expect(checkCrossSite('POST', headers({ host: 'a.example', origin: EVIL, 'content-type': 'text/plain' }))?.status).toBe(403);
    expect(checkCrossSite('POST', headers({ host: 'a.example', origin: 'http://a.example', 'content-type': 'text/plain' }))?.status).toBe(415);
    expect(checkCrossSite('POST', new Headers({ cookie: 'a=1', 'sec-fetch-site': 'none' }))?.status).toBe(415);
  });
});
