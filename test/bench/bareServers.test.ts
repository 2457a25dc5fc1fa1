import { fork, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/prodServer';
import { newEpoch } from 'trpc-live/core';
import { sseTracked } from 'trpc-live/node';

const servers = path.resolve(import.meta.dirname, '../../bench/transport/servers');
const started: ChildProcess[] = [];
const sockets: Socket[] = [];

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const child of started.splice(0)) child.kill('SIGKILL');
});

/** Starts a bench server script on a free loopback port, as the transport benchmark does (IPC channel for publishing). */
async function startServer(script: string, env: Record<string, string> = {}): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = fork(path.join(servers, script), [], { env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  started.push(child);
  for (let deadline = Date.now() + 10_000; ; ) {
    const up = await new Promise<boolean>((resolve) => {
      const probe = connect(port, '127.0.0.1', () => (probe.destroy(), resolve(true)));
      probe.on('error', () => resolve(false));
    });
    if (up) return { child, port };
    if (Date.now() > deadline) throw new Error(`${script} not listening within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Opens one SSE stream over a raw socket and returns the HTTP chunks of its
 * body as they arrive (chunked transfer encoding: one chunk per `res.write`).
 */
async function openStream(port: number): Promise<{ chunks: string[]; waitFor: (text: string) => Promise<void> }> {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  let raw = '';
  const chunks: string[] = [];
  let bodyAt = -1;
  let parsed = 0;
  socket.setEncoding('latin1');
  socket.on('data', (data: string) => {
    raw += data;
    if (bodyAt === -1) {
      const end = raw.indexOf('\r\n\r\n');
      if (end === -1) return;
      bodyAt = parsed = end + 4;
    }
    for (;;) {
      const line = raw.indexOf('\r\n', parsed);
      if (line === -1) return;
      const size = parseInt(raw.slice(parsed, line), 16);
      if (raw.length < line + 2 + size + 2) return;
      chunks.push(raw.slice(line + 2, line + 2 + size));
      parsed = line + 2 + size + 2;
    }
  });
  socket.write('GET /sse HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n');
  const waitFor = async (text: string) => {
    for (let deadline = Date.now() + 5000; !chunks.join('').includes(text); ) {
      if (Date.now() > deadline) throw new Error(`no ${text} within 5 s; got ${JSON.stringify(chunks)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  await waitFor('event: ready');
  return { chunks, waitFor };
}

describe('bare transport servers of the benchmark', () => {
  it('batched bare hands a connection all frames published in one turn in one write', async () => {
    const { child, port } = await startServer('bareBatched.mjs');
    const stream = await openStream(port);
    const before = stream.chunks.length;
    child.send({ type: 'publish', round: 'r1', count: 3 });
    await stream.waitFor('"r1-2"');
    const after = stream.chunks.slice(before);
    expect(after).toHaveLength(1);
    expect(after[0]!.match(/^data: /gm)).toHaveLength(3);
  });

  it("batched bare with BARE_WIRE=trpc sends tRPC's SSE events with a cursor per event, as the fast transport must", async () => {
    const { child, port } = await startServer('bareBatched.mjs', { BARE_WIRE: 'trpc' });
    const stream = await openStream(port);
    const before = stream.chunks.length;
    child.send({ type: 'publish', round: 'r1', count: 2 });
    await stream.waitFor('"r1-1"');
    child.send({ type: 'publish', round: 'r2', count: 1 });
    await stream.waitFor('"r2-0"');
    const body = stream.chunks.slice(before).join('');
    const epoch = /^id: ([0-9a-z]+):1$/m.exec(body)?.[1];
    // As long as the hub's epochs (newEpoch: base-36 time + 6 random digits), so the id line has the hub's length.
    expect(epoch).toHaveLength(newEpoch(Date.now()).length);
    // The oracle is the package's encoder of tRPC's format (its golden test compares it with tRPC's own producer).
    const event = (round: string, i: number, seq: number) =>
      sseTracked(JSON.stringify({ json: { kind: 'invalidate', resource: 'bench', id: `${round}-${i}`, action: 'changed', seq } }), `${epoch}:${seq}`);
    expect(body).toBe(event('r1', 0, 1) + event('r1', 1, 2) + event('r2', 0, 3));
  });

  it('plain bare writes each event on its own (the baseline the batched one improves on)', async () => {
    const { child, port } = await startServer('bare.mjs');
    const stream = await openStream(port);
    const before = stream.chunks.length;
    child.send({ type: 'publish', round: 'r1', count: 3 });
    await stream.waitFor('"r1-2"');
    expect(stream.chunks.slice(before)).toHaveLength(3);
  });
});
