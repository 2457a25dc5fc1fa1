import { createMemoryBackend } from '../../../src/live/core';
import { runBackendContract } from '../backendContract';

runBackendContract({
  name: 'memory',
  createBackend: ({ historyLimit }) => createMemoryBackend(historyLimit ? { maxKeysPerScope: historyLimit } : {}),
});
