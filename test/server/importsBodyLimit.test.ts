/**
 * Issue 15, item 8: `imports.start` accepts what its own input schema allows
 * (a 1.5 MB CSV was answered 413 by the 1 MiB body limit of every call), a
 * file over the limit gets 413 naming the limit, and every other call keeps
 * the small default. Over HTTP through the Node entry's path
 * (`TRPC_HTTP=direct`) and through the handler the Next route exports.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleOrderCsv } from '../../src/app/(app)/imports/sampleCsv';
import { setImportWorker, type ImportWorker, type StartImportInput } from '../../src/server/imports/importWorker';
import { MAX_IMPORT_BODY_BYTES, MAX_IMPORT_CHARS } from '../../src/server/routers/imports';
import { DEFAULT_MAX_BODY_BYTES } from '../../src/server/bodyLimit';
import { handleTrpcRequest } from '../../src/server/trpcHandler';
import { setupApp, sessionCookieFor, type TestApp } from '../helpers/app';
import { serveTrpc } from '../helpers/http';

const SKUS = ['ACM-TENT', 'ACM-PACK', 'ACM-LAMP'];
const fmt = (n: number) => n.toLocaleString('en');

/** A sample CSV of at least `bytes` characters (ASCII: one byte each). */
function csvOf(bytes: number): string {
  let rows = Math.ceil(bytes / (sampleOrderCsv(100, SKUS).length / 100));
  let csv = sampleOrderCsv(rows, SKUS);
  while (csv.length < bytes) csv = sampleOrderCsv((rows = Math.ceil(rows * 1.05)), SKUS);
  return csv;
}

/**
 * POSTs `body` with node:http, writing it in 64 KiB chunks (declaring its
 * length, or chunked) and stopping as soon as an answer arrives, as a client
 * that reads while it uploads does: a server that answers an oversized body
 * early is seen answering, not resetting.
 */
function upload(url: string, headers: Record<string, string>, body: string, declareLength: boolean) {
  const bytes = Buffer.from(body);
  return new Promise<{ status: number; text: string; sent: number }>((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = request(
      url,
      { method: 'POST', headers: { ...headers, ...(declareLength ? { 'content-length': String(bytes.length) } : {}) } },
      (res) => {
        answered = true;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, text, sent });
          req.destroy();
        });
      },
    );
    req.on('error', (error) => (answered ? undefined : reject(error)));
    const writeNext = () => {
      while (!answered && sent < bytes.length) {
        const chunk = bytes.subarray(sent, sent + 65_536);
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', writeNext);
      }
      if (!answered) req.end();
    };
    writeNext();
  });
}

/** A body stream of `text` in 64 KiB chunks, with no Content-Length (chunked), as a streaming upload sends it. */
function chunked(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(at, (at += 65_536)));
    },
  });
}

describe('request body limits of tRPC calls', () => {
  let app: TestApp;
  let server: Awaited<ReturnType<typeof serveTrpc>>;
  let headers: Record<string, string>;
  /** The files the procedure handed to the worker (this test is about getting them there whole). */
  const received: StartImportInput[] = [];
  beforeAll(async () => {
    app = await setupApp();
    const worker: ImportWorker = {
      start(input) {
        received.push(input);
        const now = new Date();
        const totalRows = input.csv.trim().split('\n').length - 1;
        return { id: `imp_${received.length}`, fileName: input.fileName, status: 'queued', totalRows, processedRows: 0, importedRows: 0, failedRows: 0, error: null, createdAt: now, finishedAt: null };
      },
      pending: 0,
      idle: async () => undefined,
    };
    setImportWorker(worker);
    server = await serveTrpc({ transport: 'fast' });
    headers = { cookie: await sessionCookieFor('alice@acme.test'), origin: server.url, 'content-type': 'application/json' };
  });
  afterAll(async () => {
    setImportWorker(undefined);
    await server.close();
    await app.close();
  });

  const importBody = (csv: string) => JSON.stringify({ json: { fileName: 'big.csv', csv } });
  /** The error a tRPC client would show. */
  const errorOf = async (res: Response) =>
    ((await res.json()) as { error: { json: { message: string; data: { code: string } } } }).error.json;

  it('accepts a 1.5 MB CSV on imports.start, with a Content-Length or streamed', async () => {
    const csv = csvOf(1_500_000);
    expect(csv.length).toBeGreaterThan(1_500_000);
    const res = await fetch(`${server.url}/api/trpc/imports.start`, { method: 'POST', headers, body: importBody(csv) });
    expect(res.status).toBe(200);
    const rows = csv.trim().split('\n').length - 1;
    expect(((await res.json()) as { result: { data: { json: { totalRows: number } } } }).result.data.json.totalRows).toBe(rows);
    const streamed = await fetch(`${server.url}/api/trpc/imports.start`, {
      method: 'POST',
      headers,
      body: chunked(importBody(csv)),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(200);
    expect(received.slice(-2).map((r) => r.csv === csv)).toEqual([true, true]);
  });

  it('accepts the largest CSV the schema allows, in multi-byte characters', async () => {
    // 5,000,000 characters of which most take 2-3 bytes in UTF-8: above 5 MB on the wire, inside the limit.
    const row = '東京都渋谷区神南一丁目,ACM-TENT,1\n';
    const csv = `customer,sku,quantity\n${row.repeat(Math.floor((MAX_IMPORT_CHARS - 22) / row.length))}`;
    expect(csv.length).toBeLessThanOrEqual(MAX_IMPORT_CHARS);
    const body = importBody(csv);
    expect(Buffer.byteLength(body)).toBeGreaterThan(1.5 * MAX_IMPORT_CHARS);
    const res = await upload(`${server.url}/api/trpc/imports.start`, headers, body, true);
    expect(res.text).toContain('"status":"queued"');
    expect(res.status).toBe(200);
    expect(received.at(-1)!.csv).toBe(csv);
  }, 30_000);

  it('answers a file over the import limit with 413 naming the limit', async () => {
    const csv = csvOf(MAX_IMPORT_CHARS + 1).slice(0, MAX_IMPORT_CHARS + 1);
    const res = await fetch(`${server.url}/api/trpc/imports.start`, { method: 'POST', headers, body: importBody(csv) });
    expect(res.status).toBe(413);
    const error = await errorOf(res);
    expect(error.data.code).toBe('PAYLOAD_TOO_LARGE');
    expect(error.message).toContain(`at most ${fmt(MAX_IMPORT_CHARS)}`);
  }, 30_000);

  it('answers a body over the route limit with 413 naming the limit, declared or streamed, without reading it all', async () => {
    const body = importBody('x'.repeat(MAX_IMPORT_BODY_BYTES + 4_000_000));
    const url = `${server.url}/api/trpc/imports.start`;
    const declared = await upload(url, headers, body, true);
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.text).error.json.message).toMatch(new RegExp(`larger than ${fmt(MAX_IMPORT_BODY_BYTES)} bytes \\(.+ MiB\\), the limit of imports.start`));
    // Answered from the declared length, long before the body was sent.
    expect(declared.sent).toBeLessThan(MAX_IMPORT_BODY_BYTES / 2);
    const streamed = await upload(url, headers, body, false);
    expect(streamed.status).toBe(413);
    expect(JSON.parse(streamed.text).error.json.message).toMatch(new RegExp(`larger than ${fmt(MAX_IMPORT_BODY_BYTES)} bytes \\(.+ MiB\\), the limit of imports.start`));
  }, 30_000);

  it('keeps the small default for every other procedure', async () => {
    const body = JSON.stringify({ json: { customer: 'x'.repeat(1_500_000), items: [{ productId: 'prd_acme_1', quantity: 1 }] } });
    const res = await fetch(`${server.url}/api/trpc/orders.create`, { method: 'POST', headers, body });
    expect(res.status).toBe(413);
    expect((await errorOf(res)).message).toContain(`larger than ${fmt(DEFAULT_MAX_BODY_BYTES)} bytes`);
    // A batch naming imports.start does not lend its limit to another procedure's bytes beyond its own calls.
    const batch = await fetch(`${server.url}/api/trpc/orders.create?batch=1`, { method: 'POST', headers, body: JSON.stringify({ 0: JSON.parse(body) }) });
    expect(batch.status).toBe(413);
  });

  it('refuses control characters and broken Unicode, which no CSV has, with 400', async () => {
    for (const csv of ['customer,sku,quantity\nA\u0001,ACM-TENT,1\n', 'customer,sku,quantity\nA\uD800,ACM-TENT,1\n']) {
      const res = await fetch(`${server.url}/api/trpc/imports.start`, { method: 'POST', headers, body: importBody(csv) });
      expect(res.status).toBe(400);
      expect((await errorOf(res)).message).toContain('control characters or broken Unicode');
    }
  });

  it('applies the same limits through the handler the Next route exports', async () => {
    const url = `${server.url}/api/trpc/imports.start`;
    const call = (body: string) =>
      handleTrpcRequest(new Request(url, { method: 'POST', headers, body: chunked(body), duplex: 'half' } as RequestInit));
    expect((await call(importBody(csvOf(1_500_000)))).status).toBe(200);
    const over = await call(importBody('x'.repeat(MAX_IMPORT_BODY_BYTES)));
    expect(over.status).toBe(413);
    expect((await errorOf(over)).message).toContain(`larger than ${fmt(MAX_IMPORT_BODY_BYTES)} bytes`);
  }, 30_000);
});
