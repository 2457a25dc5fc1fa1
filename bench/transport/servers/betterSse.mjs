// better-sse: one channel, a session per stream, channel.broadcast per event.
import { createServer } from 'node:http';
import { createChannel, createSession } from 'better-sse';
import { benchMessage, serveIpc } from './ipc.mjs';

const channel = createChannel();

const server = createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ status: 'ok', connections: channel.sessionCount }));
    return;
  }
  if (req.url?.startsWith('/sse')) {
    createSession(req, res).then((session) => {
      channel.register(session);
      session.push('', 'ready');
    }, () => res.destroy());
    return;
  }
  res.writeHead(404).end();
});

serveIpc({
  connections: () => channel.sessionCount,
  publish(round, count) {
    for (let i = 0; i < count; i++) channel.broadcast(benchMessage(round, i), 'message');
  },
});
server.listen(Number(process.env.PORT), '127.0.0.1');
