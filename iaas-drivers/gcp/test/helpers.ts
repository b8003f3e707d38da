import { randomUUID } from 'node:crypto';
import type { AgentSettings, CreateVmInput } from '@slipway/contracts';
import {
  placeholderVmInput,
  startDriverUnderTest,
  type DriverUnderTest as GenericDriverUnderTest,
} from '@slipway/testkit/simulation';
import plugin from '../src/index.js';
import type { GcpConfig } from '../src/config.js';
import { startFake, type FakeGcpOptions, type GcpFake } from '../fake/index.js';

export { failure, placeholderSettings } from '@slipway/testkit/simulation';

export interface DriverUnderTest extends GenericDriverUnderTest<GcpFake> {
  stemcellId: string;
}

/** A fake cloud (agents off unless asked), a driver created against it through the plugin module, and a stemcell. */
export async function startDriver(
  options: FakeGcpOptions & { config?: Partial<GcpConfig>; key?: Record<string, unknown> } = {},
): Promise<DriverUnderTest> {
  const { config, key, ...fakeOptions } = options;
  const started = await startDriverUnderTest(plugin, () => startFake({ bootAgents: false, ...fakeOptions }), {
    config,
    credentials: key,
  });
  // A wrong key cannot make a stemcell: tests of bad keys get none.
  const stemcellId = key
    ? ''
    : (
        await started.driver.createStemcell(
          { name: 'ubuntu-jammy', version: '1' },
          { requestId: `stemcell-${randomUUID()}` },
        )
      ).stemcellId;
  return { ...started, stemcellId };
}

export const vmInput = (
  t: { stemcellId: string },
  overrides: Partial<CreateVmInput> = {},
  env?: AgentSettings,
): CreateVmInput => placeholderVmInput(t.stemcellId, overrides, env);
