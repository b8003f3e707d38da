import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '@slipway/agent';
import type { PluginHost } from '@slipway/contracts';
import type { StartedFake } from '@slipway/simulation';
import { MemoryCredentialProvider } from './memory-credentials.js';
import { createQuietLogger, type QuietLogger } from '@slipway/simulation';

export interface TestHost extends PluginHost {
  logger: QuietLogger;
  credentials: MemoryCredentialProvider;
  /** Removes the data directory. */
  cleanup(): Promise<void>;
}

/**
 * A PluginHost for tests: a quiet logger (lines kept in `logger.lines`, printed with DEBUG=slipway), the real
 * clock, a fresh temporary dataDir, and an in-memory credential provider seeded with `credentials`.
 */
export async function createTestHost(
  options: { credentials?: StartedFake['credentials']; instanceName?: string } = {},
): Promise<TestHost> {
  const dataDir = await mkdtemp(join(tmpdir(), 'slipway-test-'));
  const instanceName = options.instanceName ?? 'test';
  const logger = createQuietLogger();
  return {
    logger,
    clock: systemClock,
    credentials: new MemoryCredentialProvider(options.credentials ?? []),
    dataDir,
    instanceName,
    async cleanup(): Promise<void> {
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
