// Shared by the server-side request counter (serverRequestCounter.mjs, preloaded
// into the app server outside tsx, hence plain ESM) and the benchmark's TypeScript.

/** Where the counts are read (GET, `authorization: Bearer <BENCH_REQUEST_COUNTER_TOKEN>`). */
export const COUNTER_PATH = '/__bench/requests';
/** Header the benchmark's actors send, so their mutations are not taken for the users' requests. */
export const ACTOR_HEADER = 'x-bench-actor';
