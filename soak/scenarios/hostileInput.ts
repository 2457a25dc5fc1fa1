import { request } from 'node:http';
import fc from 'fast-check';
import superjson from 'superjson';
import { appRouter } from '../../src/server/routers/_app';
import { int, quietLog, type Check, type Log, type ScenarioResult } from '../lib/scenario';
import { startSoakServer, SOAK_AUTH_SECRET } from '../lib/server';
import { DEMO_PASSWORD } from '../../src/server/db/seed';
import { revokedSessionCookie, sessionCookie, streamCredential } from '../lib/sessions';
import { mulberry32 } from '../lib/random';

/** Parameters of the hostile-input sweep. */
export interface HostileParams {
  /** Fuzzed inputs per procedure and input shape (see the method notes). */
  readonly perProcedure: number;
  /** Fuzzed requests against the live stream's query parameters and headers. */
  readonly streamCases: number;
  /** Requests in flight at once. */
  readonly concurrency: number;
  readonly seed: number;
}

export const full: HostileParams = { perProcedure: 40, streamCases: 600, concurrency: 16, seed: 1 };
export const ci: HostileParams = { perProcedure: 6, streamCases: 80, concurrency: 8, seed: 1 };

/** How the server answered one request. */
type Outcome =
  | 'accepted' // 2xx: the input was valid
  | 'typed-client-error' // 4xx with tRPC's error shape (superjson), every error in it 4xx
  | 'stream-accepted' // SSE that started (hello or data)
  | 'stream-typed-error' // SSE that ended with a serialized-error of a 4xx code
  | 'node-4xx' // refused by Node's HTTP parser before the app (e.g. 431): no app code ran
  | 'untyped-4xx' // a 4xx without tRPC's error shape
  | 'server-error' // 5xx, or a typed error with a 5xx code
  | 'no-response';

interface Case {
  readonly kind: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

interface Answer {
  readonly outcome: Outcome;
  readonly status: number;
  readonly detail: string;
}

/** Case kind: a mutation with the session cookie from another site, or with a body that is not JSON. */
const CROSS_SITE = 'cross-site or non-JSON cookie POST';

const ERROR_CODES_4XX = new Set([
  'PARSE_ERROR',
  'BAD_REQUEST',
  'UNAUTHORIZED',
  'PAYMENT_REQUIRED',
  'FORBIDDEN',
  'NOT_FOUND',
  'METHOD_NOT_SUPPORTED',
  'TIMEOUT',
  'CONFLICT',
  'PRECONDITION_FAILED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'UNPROCESSABLE_CONTENT',
  'PRECONDITION_REQUIRED',
  'TOO_MANY_REQUESTS',
  'CLIENT_CLOSED_REQUEST',
]);

/** True for one element of tRPC's (superjson-transformed) response: a result, or an error with a 4xx code and status. */
function typedElement(value: unknown): 'ok' | 'client' | 'server' | 'untyped' {
  if (typeof value !== 'object' || value === null) return 'untyped';
  if ('result' in value) return 'ok';
  const error = (value as { error?: { json?: { message?: unknown; code?: unknown; data?: { code?: unknown; httpStatus?: unknown } } } }).error?.json;
  if (!error || typeof error.message !== 'string' || typeof error.code !== 'number' || typeof error.data?.code !== 'string') return 'untyped';
  const status = Number(error.data.httpStatus);
  if (status >= 500 || !ERROR_CODES_4XX.has(error.data.code)) return 'server';
  return status >= 400 ? 'client' : 'untyped';
}

function classifyJson(status: number, text: string): Answer {
  if (status >= 500) return { outcome: 'server-error', status, detail: text.slice(0, 300) };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { outcome: status >= 400 ? 'untyped-4xx' : 'accepted', status, detail: text.slice(0, 200) };
  }
  const parts = (Array.isArray(body) ? body : [body]).map(typedElement);
  if (parts.includes('server')) return { outcome: 'server-error', status, detail: text.slice(0, 300) };
  if (parts.includes('untyped')) return { outcome: status >= 400 ? 'untyped-4xx' : 'accepted', status, detail: text.slice(0, 200) };
  if (parts.includes('client')) return { outcome: 'typed-client-error', status, detail: '' };
  return { outcome: 'accepted', status, detail: '' };
}

/** Reads an SSE answer until it either starts (a data event) or ends with a serialized-error, at most `timeoutMs`. */
function classifySse(status: number, text: string): Answer | null {
  const error = /event: serialized-error\ndata: (.*)\n/.exec(text);
  if (error) {
    const kind = typedElement({ error: JSON.parse(error[1]!) as unknown });
    if (kind === 'client') return { outcome: 'stream-typed-error', status, detail: '' };
    return { outcome: kind === 'server' ? 'server-error' : 'untyped-4xx', status, detail: error[1]!.slice(0, 300) };
  }
  if (/\ndata: \{/.test(`\n${text.replace(/event: connected\ndata: [^\n]*\n/, '')}`)) return { outcome: 'stream-accepted', status, detail: '' };
  return null;
}

function send(base: URL, c: Case, timeoutMs = 5000): Promise<Answer> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (answer: Answer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done({ outcome: 'no-response', status: 0, detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
    // Keep-alive: a server that answers before reading a large body (e.g. 401) then discards the rest instead of
    // closing, so our upload does not fail with EPIPE before we read its answer (`Connection: close` makes it close).
    const headers = c.body !== undefined ? { ...c.headers, connection: 'keep-alive' } : c.headers;
    const req = request({ host: base.hostname, port: base.port, method: c.method, path: c.path, headers, agent: false }, (res) => {
      const status = res.statusCode ?? 0;
      const sse = String(res.headers['content-type'] ?? '').startsWith('text/event-stream');
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (sse && text.length < 1_000_000) {
          const answer = classifySse(status, text);
          if (answer) done(answer);
        }
      });
      res.on('end', () => {
        if (sse) done(classifySse(status, text) ?? { outcome: status >= 500 ? 'server-error' : 'untyped-4xx', status, detail: text.slice(0, 200) });
        else if (status === 431 || (status === 400 && text === '')) done({ outcome: 'node-4xx', status, detail: '' });
        else done(classifyJson(status, text));
      });
      res.on('error', () => done({ outcome: 'no-response', status, detail: 'response error' }));
    });
    req.on('error', (error) => done({ outcome: 'no-response', status: 0, detail: String(error) }));
    if (c.body !== undefined) req.write(c.body);
    req.end();
  });
}

/**
 * Hostile input: a fuzzed sweep over every procedure of the app router (as
 * the client would call it and as it would not), the live stream's query
 * parameters and headers, and credentials. Every answer must be a typed
 * client error (tRPC's error shape with a 4xx code), a success for input
 * that happens to be valid, or a refusal by Node's HTTP parser; never a
 * 5xx; and the server must still be up and healthy at the end.
 */
export async function run(params: HostileParams = full, log: Log = quietLog): Promise<ScenarioResult> {
  const started = Date.now();
  const server = await startSoakServer();
  try {
    const base = new URL(server.url);
    const random = mulberry32(params.seed);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const sample = <T>(arb: fc.Arbitrary<T>, n: number): T[] => fc.sample(arb, { seed: params.seed + n, numRuns: n });
    const cookie = await sessionCookie({ tenantId: 'acme', userId: 'usr_alice', role: 'admin' });
    const expired = await sessionCookie({ tenantId: 'acme', userId: 'usr_alice', role: 'admin' }, -3600);
    const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>).map(([path, p]) => ({
      path,
      type: p._def.type as 'query' | 'mutation' | 'subscription',
    }));

    // Credentials: valid, none, expired, forged (alg none, wrong secret), malformed.
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const forged = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'usr_alice', tid: 'globex', role: 'admin', exp: 4102444800 })}.`;
    const wrongSecret = await sessionCookie({ tenantId: 'globex', userId: 'usr_carol', role: 'admin' }, 3600, SOAK_AUTH_SECRET.split('').reverse().join(''));
    // A real session, signed out: revoked on the server.
    const revoked = await revokedSessionCookie(server.url, 'alice@acme.test', DEMO_PASSWORD);
    const auths: Array<Record<string, string>> = [
      { cookie },
      { cookie: revoked },
      {},
      { cookie: expired },
      { cookie: `live_session=${forged}` },
      { cookie: wrongSecret },
      { cookie: `live_session=${'A'.repeat(2000)}` },
      { cookie: 'live_session=%E0%A4%A' },
      { authorization: `Bearer ${forged}` },
      { authorization: 'Bearer \u00ff\u00fe' },
    ];
    const authFor = (i: number) => (i % 3 === 0 ? auths[0]! : auths[i % auths.length]!);

    // Inputs: arbitrary values (superjson-encoded, special types included), wrong shapes, huge strings, junk text.
    const anything = fc.anything({ maxDepth: 4, withDate: true, withMap: true, withSet: true, withBigInt: true, withNullPrototype: true, withObjectString: true });
    const encoded = (value: unknown): string => {
      try {
        return JSON.stringify(superjson.serialize(value));
      } catch {
        return JSON.stringify({ json: String(value) });
      }
    };
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    const textInputs = [
      '',
      '{',
      '{"json":',
      'null',
      '[]',
      '"string"',
      '{"json":{"id":{"$gt":""}}}',
      '{"json":{"__proto__":{"polluted":true}}}',
      '{"json":{"constructor":{"prototype":{"polluted":true}}}}',
      '{"json":{"a":1},"meta":{"values":{"__proto__.polluted":["undefined"]}}}',
      '{"json":{"a":1},"meta":{"values":{"a":["class","Nope"]}}}',
      '{"json":{"a":1},"meta":{"referentialEqualities":{"a":["__proto__"]}}}',
      '{"json":{"a":"1"},"meta":{"values":{"a":["bigint"]}}}',
      '{"json":{"a":"x"},"meta":{"values":{"a":["bigint"]}}}',
      '{"json":{"id":"x"},"meta":{"values":{"id":["Date"]}}}',
      '{"json":1e400}',
      `{"json":${deep(5000)}}`,
      `{"json":{"id":"${'x'.repeat(12_000)}"}}`,
      '\u0000\u0001\u0002',
      '{"json":{"id":"\\ud800"}}',
    ];
    const wrongShapes = [
      undefined,
      null,
      0,
      -1,
      1.5,
      Number.MAX_SAFE_INTEGER,
      true,
      'x',
      [],
      [1, 2],
      {},
      { id: 1 },
      { id: null },
      { id: '' },
      { id: 'x'.repeat(100) },
      { id: ['a'] },
      { connectionId: 'x'.repeat(65) },
      { delta: 0, id: 'prd_acme_1' },
      { delta: 1e12, id: 'prd_acme_1' },
      { id: 'prd_acme_1', delta: 1, extra: true },
      { items: [], customer: 'a' },
      { items: Array.from({ length: 51 }, () => ({ productId: 'prd_acme_1', quantity: 1 })), customer: 'a' },
      { customer: 'a', items: [{ productId: 'prd_acme_1', quantity: -1 }] },
      { email: 'not-an-email', password: 'x' },
      { email: 'alice@acme.test', password: 'x'.repeat(201) },
      { fileName: 'a.csv', csv: 'x'.repeat(5_000_001) },
      { limit: 10_000 },
      { status: 'bogus' },
      { threshold: -1, id: 'prd_acme_1' },
      { lastEventId: 'x' },
      { topics: ['..'] },
    ];

    const cases: Case[] = [];
    const queryPath = (path: string, input: string | undefined, extra = '') =>
      `/api/trpc/${path}${input === undefined ? (extra ? `?${extra}` : '') : `?input=${encodeURIComponent(input)}${extra ? `&${extra}` : ''}`}`;
    const add = (kind: string, type: string, path: string, input: string | undefined, i: number) => {
      const headers = { ...authFor(i) };
      if (type === 'mutation') {
        // As the app's own page sends it (same-origin JSON), so the input reaches the procedure.
        cases.push({ kind, method: 'POST', path: `/api/trpc/${path}`, headers: { ...headers, origin: server.url, 'content-type': 'application/json' }, body: input ?? '' });
      } else {
        // URLs past Node's 16 KiB header limit never reach the app (Node answers 431 or resets): one case below tests that.
        const url = queryPath(path, input);
        if (url.length > 14_000) return;
        cases.push({ kind, method: 'GET', path: url, headers: type === 'subscription' ? { ...headers, accept: 'text/event-stream' } : headers });
      }
    };
    for (const { path, type } of procedures) {
      sample(anything, params.perProcedure).forEach((value, i) => add('arbitrary value (superjson)', type, path, encoded(value), i));
      sample(fc.json({ maxDepth: 3 }), params.perProcedure).forEach((text, i) => add('raw JSON, no superjson envelope', type, path, text, i));
      sample(fc.string({ maxLength: 200 }), params.perProcedure).forEach((text, i) => add('random text', type, path, text, i));
      textInputs.forEach((text, i) => add('malformed or hostile JSON', type, path, text, i));
      wrongShapes.forEach((value, i) => add('wrong types and bounds', type, path, value === undefined ? undefined : encoded(value), i));
      // The wrong method and the batch form.
      cases.push({ kind: 'wrong method', method: type === 'mutation' ? 'GET' : 'POST', path: `/api/trpc/${path}`, headers: { ...auths[0] } });
      cases.push({
        kind: 'batch',
        method: type === 'mutation' ? 'POST' : 'GET',
        path: type === 'mutation' ? `/api/trpc/${path},${path}?batch=1` : queryPath(`${path},${path}`, '{"0":{"json":{}},"1":"x"}', 'batch=1'),
        headers: { ...auths[0], ...(type === 'mutation' ? { 'content-type': 'application/json' } : {}) },
        ...(type === 'mutation' ? { body: '{"0":{"json":{}},"1":{"json":[1]}}' } : {}),
      });
    }
    // A stream credential and a ticket-shaped string on every procedure but the stream (they open live.stream only).
    const credential = await streamCredential({ tenantId: 'acme', userId: 'usr_alice', role: 'admin' });
    for (const { path, type } of procedures) {
      if (path === 'live.stream') continue;
      for (const params of [{ credential }, { ticket: 'A'.repeat(43) }]) {
        const search = `connectionParams=${encodeURIComponent(JSON.stringify(params))}`;
        cases.push(
          type === 'mutation'
            ? { kind: 'stream credential on another procedure', method: 'POST', path: `/api/trpc/${path}?${search}`, headers: { 'content-type': 'application/json' }, body: '' }
            : { kind: 'stream credential on another procedure', method: 'GET', path: queryPath(path, undefined, search), headers: type === 'subscription' ? { accept: 'text/event-stream' } : {} },
        );
      }
    }
    // Paths that are not procedures.
    for (const path of ['nope', 'orders', 'orders.', '.list', 'orders.list.x', '__proto__', 'constructor', 'live.stream,live.stream', `${'a.'.repeat(500)}b`]) {
      cases.push({ kind: 'unknown path', method: 'GET', path: `/api/trpc/${encodeURIComponent(path).replace(/%2C/g, ',')}`, headers: { ...auths[0] } });
    }
    // A URL over Node's header limit, a batch of 500 procedures and a body of 20 MB.
    cases.push({ kind: 'URL over the header limit', method: 'GET', path: queryPath('orders.byId', encoded({ id: 'x'.repeat(20_000) })), headers: { ...auths[0] } });
    cases.push({ kind: 'huge batch', method: 'GET', path: `/api/trpc/${Array(500).fill('orders.list').join(',')}?batch=1`, headers: { ...auths[0] } });
    // Cross-site requests with the session cookie: a foreign Origin, no Origin from a browser, multipart and text bodies.
    for (const { path, type } of procedures) {
      if (type !== 'mutation') continue;
      const form = '--b\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n--b--\r\n';
      for (const [headers, body] of [
        [{ origin: 'https://evil.example', 'content-type': 'application/json' }, '{"json":{}}'],
        [{ 'user-agent': 'Mozilla/5.0', 'content-type': 'application/json' }, '{"json":{}}'],
        [{ origin: server.url, 'content-type': 'multipart/form-data; boundary=b' }, form],
        [{ origin: server.url, 'content-type': 'text/plain' }, '{"json":{}}'],
      ] as const) {
        cases.push({ kind: CROSS_SITE, method: 'POST', path: `/api/trpc/${path}`, headers: { ...auths[0], ...headers }, body });
      }
    }
    cases.push({
      kind: 'huge body',
      method: 'POST',
      path: '/api/trpc/imports.start',
      headers: { ...auths[0], origin: server.url, 'content-type': 'application/json' },
      body: JSON.stringify({ json: { fileName: 'big.csv', csv: 'x'.repeat(20_000_000) } }),
    });

    // The live stream: its input, cursors, topics, headers and connection params.
    const cursors = [
      'x',
      ':',
      ':1',
      'e:',
      'e:-1',
      'e:1.5',
      'e:1e3',
      'e:99999999999999999999',
      `${'e'.repeat(300)}:1`,
      'e:1:2',
      '\u202e:1',
      'epoch:0',
      '0:0',
    ];
    const topics = ['', '.', 'a..b', '>.a', 'a.>.b', '*a', 'a*', 'a b', 'a\u0000', 'x'.repeat(300), 'a.' + 'b.'.repeat(100) + 'c', '>', '*', 'orders.*'];
    const streamValues = (): unknown => {
      const r = random();
      if (r < 0.25) return { lastEventId: pick(cursors) };
      if (r < 0.5) return { topics: Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(topics)) };
      if (r < 0.6) return { topics: Array.from({ length: 40 }, () => 'orders') };
      if (r < 0.7) return { topics: pick(topics) };
      if (r < 0.8) return { lastEventId: 12345, topics: [1, 2] };
      if (r < 0.9) return { lastEventId: pick(cursors), topics: [pick(topics)], extra: 1 };
      return sample(anything, 1)[0];
    };
    for (let i = 0; i < params.streamCases; i++) {
      const headers: Record<string, string> = { ...authFor(i), accept: 'text/event-stream' };
      const r = random();
      let path: string;
      if (r < 0.55) path = queryPath('live.stream', encoded(streamValues()));
      else if (r < 0.65) path = queryPath('live.stream', undefined, `lastEventId=${encodeURIComponent(pick(cursors))}`);
      else if (r < 0.75) {
        // Header values must be Latin-1 without control characters, or Node refuses to send them.
        headers['last-event-id'] = pick(cursors.filter((c) => /^[\x20-\x7e]*$/.test(c)));
        path = queryPath('live.stream', undefined);
      } else if (r < 0.85) {
        path = queryPath('live.stream', undefined, `connectionParams=1&input=${encodeURIComponent(pick(['{', '{"json":{"ticket":1}}', '{"ticket":"x"}', '[]', 'null']))}`);
      } else if (r < 0.92) {
        path = queryPath('live.stream', pick(textInputs.filter((t) => t.length < 12_000)));
      } else {
        headers['content-type'] = pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']);
        path = queryPath('live.stream', encoded(streamValues()));
      }
      cases.push({ kind: 'live stream parameters', method: 'GET', path, headers });
    }

    log(`hostile: ${int(cases.length)} requests over ${procedures.length} procedures…`);
    const outcomes: Record<string, number> = {};
    let crossSiteServed = 0;
    const byKind: Record<string, Record<string, number>> = {};
    const failures: Array<{ kind: string; method: string; path: string; status: number; detail: string }> = [];
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const c = cases[next++]!;
        const answer = await send(base, c, c.kind === 'huge body' ? 30_000 : 5000);
        outcomes[answer.outcome] = (outcomes[answer.outcome] ?? 0) + 1;
        (byKind[c.kind] ??= {})[answer.outcome] = (byKind[c.kind]![answer.outcome] ?? 0) + 1;
        if (c.kind === CROSS_SITE && answer.status !== 403 && answer.status !== 415) crossSiteServed++;
        if (answer.outcome === 'server-error' || answer.outcome === 'no-response' || answer.outcome === 'untyped-4xx') {
          if (failures.length < 30) failures.push({ kind: c.kind, method: c.method, path: c.path.slice(0, 300), status: answer.status, detail: answer.detail });
        }
      }
    };
    await Promise.all(Array.from({ length: params.concurrency }, worker));
    const crossSiteCases = cases.filter((c) => c.kind === CROSS_SITE).length;
    const health = await server.health();
    const alive = server.alive();
    const output = server.output();
    const crashLines = output.split('\n').filter((line) => /INTERNAL_SERVER_ERROR|request failed|live transport failed|Unhandled|uncaught/i.test(line));
    const bad = (outcomes['server-error'] ?? 0) + (outcomes['no-response'] ?? 0);
    log(`hostile: ${JSON.stringify(outcomes)}`);

    const checks: Check[] = [
      {
        name: 'no 5xx, no dropped request',
        pass: bad === 0 && cases.length > 0,
        value: bad === 0 ? `0 of ${int(cases.length)}` : `${bad}: ${JSON.stringify(failures.find((f) => f.status >= 500 || f.status === 0))}`,
        target: '0',
      },
      {
        name: 'every refusal is a typed client error',
        pass: (outcomes['untyped-4xx'] ?? 0) === 0 && (outcomes['typed-client-error'] ?? 0) + (outcomes['stream-typed-error'] ?? 0) > 0,
        value: `${int((outcomes['typed-client-error'] ?? 0) + (outcomes['stream-typed-error'] ?? 0))} typed 4xx, ${outcomes['untyped-4xx'] ?? 0} untyped, ${outcomes['node-4xx'] ?? 0} refused by Node's parser`,
        target: '0 untyped',
      },
      {
        name: 'cookie POSTs from another site or with a non-JSON body refused (403/415)',
        pass: crossSiteCases > 0 && crossSiteServed === 0,
        value: `${int(crossSiteCases - crossSiteServed)} of ${int(crossSiteCases)} refused`,
        target: 'all',
      },
      {
        name: 'server up and healthy afterwards, no crash logged',
        pass: alive && health.status === 200 && crashLines.length === 0,
        value: `${alive ? 'up' : 'DOWN'}, /api/health ${health.status}, ${crashLines.length} error lines${crashLines[0] ? `: ${crashLines[0].slice(0, 200)}` : ''}`,
        target: 'up, 200, 0',
      },
    ];
    return {
      name: 'hostile-input',
      title: 'Hostile input',
      params: { ...params },
      summary:
        `${int(cases.length)} fuzzed requests over all ${procedures.length} procedures and the stream's parameters: ` +
        `${int((outcomes['typed-client-error'] ?? 0) + (outcomes['stream-typed-error'] ?? 0))} typed 4xx, ` +
        `${int((outcomes.accepted ?? 0) + (outcomes['stream-accepted'] ?? 0))} valid by chance and served, ` +
        `${outcomes['node-4xx'] ?? 0} refused by Node's HTTP parser, ${outcomes['untyped-4xx'] ?? 0} untyped 4xx, ${bad} 5xx/dropped; server up`,
      checks,
      figures: { requests: cases.length, outcomes, byKind, failures, crashLines: crashLines.slice(0, 10), health },
      method: [
        `For each of the ${procedures.length} procedures of the app router, with a valid session for two thirds of the requests and ` +
          'otherwise none, an expired, signed-out or forged one (`alg: none`, another secret, junk, bad encoding, a bearer token): ' +
          `${params.perProcedure} arbitrary values encoded with superjson (dates, maps, sets, bigints, null prototypes; fast-check), ` +
          `${params.perProcedure} raw JSON values without the envelope, ${params.perProcedure} random strings, a fixed list of hostile ` +
          'JSON (truncated, prototype-pollution keys, forged superjson meta, 5,000-deep nesting, 1e400, lone surrogates, 12 KB ids) ' +
          'and of wrong types and bounds, the wrong HTTP method and a batch; a stream credential and a ticket on each. Plus unknown ' +
          'paths, a 500-call batch and a 20 MB body.',
        `${int(params.streamCases)} requests to the live stream with fuzzed \`input\` (cursors of every wrong form, invalid and too many ` +
          'topics, wrong types, extra keys), `lastEventId` as a query parameter or `Last-Event-ID` header, malformed connection params ' +
          'and other content types.',
        'An answer passes when it is a success (the fuzzer produced a valid input), tRPC\'s error shape with a 4xx code (JSON, or a ' +
          '`serialized-error` event on a stream), or a refusal by Node\'s own HTTP parser (e.g. 431) before any app code runs. ' +
          'Afterwards the server must be running, `/api/health` 200, and its log free of internal errors.',
      ],
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await server.stop();
  }
}
