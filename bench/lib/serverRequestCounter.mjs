// Preloaded into the production server by the article benchmark
// (`node --import <this file> dist/main.js`): counts the HTTP requests the
// server receives, so the benchmark's request figures are checked against a
// count that is not the simulated browsers' own (issue 19 item 4). Counted on
// every http.Server's 'request' event, classified as the browsers classify
// what they send (bench/lib/browserFetch.ts): Accept text/event-stream is a
// stream, else GET is a query request and any other method a mutation
// request; only tRPC paths (/api/trpc/...). Requests marked by the actors
// (ACTOR_HEADER) are counted apart. `GET COUNTER_PATH` with the token of
// BENCH_REQUEST_COUNTER_TOKEN answers the counts without reaching the app.
import http from 'node:http';
import { ACTOR_HEADER, COUNTER_PATH } from './requestCounting.mjs';

const token = process.env.BENCH_REQUEST_COUNTER_TOKEN;
const counts = { queries: 0, mutations: 0, streams: 0, actors: 0 };

const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function countingEmit(event, ...args) {
  if (event === 'request' && token) {
    const [req, res] = args;
    if (req.url === COUNTER_PATH) {
      const ok = req.headers.authorization === `Bearer ${token}`;
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(ok ? JSON.stringify(counts) : '{"error":"unauthorized"}');
      return true;
    }
    if (req.url?.startsWith('/api/trpc/')) {
      if (req.headers[ACTOR_HEADER]) counts.actors++;
      else if ((req.headers.accept ?? '').includes('text/event-stream')) counts.streams++;
      else if (req.method === 'GET') counts.queries++;
      else counts.mutations++;
    }
  }
  return emit.call(this, event, ...args);
};
