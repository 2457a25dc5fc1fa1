// Preload that logs a process's GC pauses, for diagnosis (no benchmark reads it by default):
//   BENCH_GC_LOG=/tmp/gc NODE_OPTIONS="--import ./bench/lib/gcPauses.mjs" npm run bench -- transport
// Every Node process started meanwhile (servers, client processes) writes <dir>/gc-<script>-<pid>.json: an array of
// [start (absolute ms, performance.timeOrigin + startTime), duration ms, kind], every 2 s and at exit.
// bench/transport/roundWaits.ts --gc <dir> lays them over the transport bench's rounds.
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.env.BENCH_GC_LOG;
const script = process.argv[1] ? path.basename(path.dirname(process.argv[1])) + '_' + path.basename(process.argv[1]) : 'node';
if (dir) {
  const KINDS = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
  };
  const pauses = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pauses.push([performance.timeOrigin + e.startTime, e.duration, KINDS[e.detail?.kind] ?? String(e.detail?.kind)]);
  }).observe({ entryTypes: ['gc'] });
  const save = () => {
    try {
      writeFileSync(path.join(dir, `gc-${script}-${process.pid}.json`), JSON.stringify(pauses));
    } catch {
      // a diagnostic never fails the process it watches
    }
  };
  setInterval(save, 2000).unref();
  process.on('exit', save);
}
