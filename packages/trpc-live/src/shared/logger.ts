/**
 * Where trpc-live reports what it cannot throw to a caller: a publish that
 * failed after its mutation succeeded, a request a handler failed, a stream
 * that stopped for good, development warnings. Every option named `logger`
 * takes one; `console` is one, and so is any logger whose methods take a
 * message first (pino's and winston's do).
 */
export interface LiveLogger {
  /** Progress worth a line in the server log (a backend joined, a drain finished); optional, skipped when absent. */
  info?(message: string, ...details: unknown[]): void;
  /** Something worth a look that failed nothing (a development warning, a stream that stopped). */
  warn(message: string, ...details: unknown[]): void;
  /** A failure nobody else sees (a publish after a successful mutation, a failed request); `details` holds the error. */
  error(message: string, ...details: unknown[]): void;
}

/**
 * The default of every `logger` option: the global `console`, looked up at
 * each call (so a test's spy on `console.error` sees what is logged).
 */
export const consoleLogger: LiveLogger = {
  info: (message, ...details) => console.info(message, ...details),
  warn: (message, ...details) => console.warn(message, ...details),
  error: (message, ...details) => console.error(message, ...details),
};
