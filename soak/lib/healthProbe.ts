import { Agent, request } from 'node:http';
import { Histogram } from './histogram';

/** A running probe of a health endpoint (see {@link startHealthProbe}). */
export interface HealthProbe {
  /** Samples so far. */
  readonly n: () => number;
  /** Stops after the request in flight; the response times (ms) of every answered request, and the failures. */
  stop(): Promise<{ histogram: Histogram; failures: number; failureSamples: string[] }>;
}

/**
 * GETs `url` one request at a time over one keep-alive socket, `gapMs` apart,
 * until stopped, timing each from send to the end of its response. A request
 * that errs, times out (`timeoutMs`) or answers other than 200 is a failure,
 * and its time is kept too (a lower bound of what it would have taken).
 */
export function startHealthProbe(url: string, gapMs: number, timeoutMs = 10_000): HealthProbe {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const histogram = new Histogram();
  const failureSamples: string[] = [];
  let failures = 0;
  let running = true;
  const one = () =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      const fail = (why: string) => {
        failures++;
        if (failureSamples.length < 5) failureSamples.push(why);
        histogram.add(performance.now() - started);
        resolve();
      };
      const req = request(url, { agent }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) {
            histogram.add(performance.now() - started);
            resolve();
          } else fail(`HTTP ${res.statusCode}`);
        });
        res.on('error', (error) => fail(error.message));
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (error) => fail(error.message));
      req.end();
    });
  const loop = (async () => {
    while (running) {
      await one();
      await new Promise((resolve) => setTimeout(resolve, gapMs));
    }
  })();
  return {
    n: () => histogram.n,
    async stop() {
      running = false;
      await loop;
      agent.destroy();
      return { histogram, failures, failureSamples };
    },
  };
}
