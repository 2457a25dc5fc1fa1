// Public API for testing apps that use trpc-live: capture what a call publishes
// (e.g. through `createCaller`) and drive the hub's timers by hand.
export { captureInvalidations, capturePublishes } from '../trpc/testing.ts';
export type { CaptureResult, CaptureSource, CapturedInvalidation } from '../trpc/testing.ts';
export { createManualTimers } from './manualTimers.ts';
export type { ManualTimers } from './manualTimers.ts';
