// Node flags of the production server, for every launcher of `dist/main.js`: `npm start` (scripts/start.mjs),
// `npm run serve` (package.json), the test and benchmark helpers, and the README's deploy commands.
// test/server/pushServerFlags.test.ts checks that they all pass them. Plain ESM: scripts/start.mjs runs outside tsx.

/**
 * V8 flags of the server process, given on the command line (V8 reads them when it sets up the heap; they
 * cannot be set from inside the process, and NODE_OPTIONS does not take them).
 *
 * `--no-memory-reducer`: V8's memory reducer runs up to three full mark-compact collections (with their
 * concurrent marking) each time a busy process goes quiet, to hand memory back. A live server is quiet most of
 * the time and wakes for each change, so it paid for them again and again. Article benchmark, (d) pushed
 * results, 0.5 changes per tenant per minute after the idle phase (30 s, 18 changes, beside other work): runs in
 * which those collections fell inside the phase cost 24–28 ms of server CPU per change (~130 ms more on the main
 * thread, ~240 ms more on V8's helper threads), runs without them 9–10 ms; with the flag 10.5–11.9 ms in each of 4
 * runs. Collections driven by allocation still run; the heap is not shrunk in quiet spells (old space at the end
 * of that phase: 46–66 MB with the flag, 31–70 MB without).
 */
export const SERVER_V8_FLAGS = ['--no-memory-reducer'];

/** Every flag a launcher passes before `dist/main.js`: {@link SERVER_V8_FLAGS} and source-mapped stack traces. */
export const SERVER_NODE_FLAGS = ['--enable-source-maps', ...SERVER_V8_FLAGS];
