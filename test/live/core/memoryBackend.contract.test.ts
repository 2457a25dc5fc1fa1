import { createMemoryBackend } from 'trpc-live/core';
import { runBackendContract } from '../backendContract';

runBackendContract({
  name: 'memory',
  createBackend: ({ historyLimit }) => createMemoryBackend(historyLimit ? { maxKeysPerScope: historyLimit } : {}),
});
