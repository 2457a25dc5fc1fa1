// Baseline: bare node:http. Each event is encoded once and the same string is
// written to every open response, in one synchronous loop.
import { createServer } from 'node:http';
import { benchMessage, serveIpc } from './ipc.mjs';

const HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
  connection: 'keep-alive',
};
const open = new Set();

const server = createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ status: 'ok', connections: open.size }));
    return;
  }
  if (req.url?.startsWith('/sse')) {
    res.writeHead(200, HEADERS);
    res.write('event: ready\ndata: \n\n');
    open.add(res);
    res.on('close', () => open.delete(res));
    return;
  }
  res.writeHead(404).end();
});

serveIpc({
  connections: () => open.size,
  publish(round, count) {
    for (let i = 0; i < count; i++) {
      const frame = `data: ${JSON.stringify(benchMessage(round, i))}\n\n`;
      for (const res of open) res.write(frame);
    }
  },
});
server.listen(Number(process.env.PORT), '127.0.0.1');
