import { fork, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/prodServer';

const servers = path.resolve(import.meta.dirname, '../../bench/transport/servers');
const started: ChildProcess[] = [];
const sockets: Socket[] = [];

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const child of started.splice(0)) child.kill('SIGKILL');
});

/** Starts a bench server script on a free loopback port, as the transport benchmark does (IPC channel for publishing). */
async function startServer(script: string): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = fork(path.join(servers, script), [], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
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

  it('plain bare writes each event on its own (the baseline the batched one improves on)', async () => {
    const { child, port } = await startServer('bare.mjs');
    const stream = await openStream(port);
    const before = stream.chunks.length;
    child.send({ type: 'publish', round: 'r1', count: 3 });
    await stream.waitFor('"r1-2"');
    expect(stream.chunks.slice(before)).toHaveLength(3);
  });
});
