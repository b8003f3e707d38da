import type { AgentSettings, CreateVmInput } from '@slipway/contracts';
import {
  placeholderVmInput,
  startDriverUnderTest,
  type DriverUnderTest as GenericDriverUnderTest,
} from '@slipway/testkit/simulation';
import plugin from '../src/index.js';
import type { AwsConfig } from '../src/config.js';
import { FAKE_BASE_AMI_ID, startFake, type AwsFake, type FakeAwsOptions } from '../fake/index.js';

export { failure, placeholderSettings } from '@slipway/testkit/simulation';

export type DriverUnderTest = GenericDriverUnderTest<AwsFake>;

/** A fake cloud (agents off unless asked) and a driver created against it through the plugin module. */
export function startDriver(
  options: FakeAwsOptions & { config?: Partial<AwsConfig>; credentials?: Record<string, unknown> } = {},
): Promise<DriverUnderTest> {
  const { config, credentials, ...fakeOptions } = options;
  return startDriverUnderTest(plugin, () => startFake({ bootAgents: false, ...fakeOptions }), { config, credentials });
}

export const vmInput = (overrides: Partial<CreateVmInput> = {}, env?: AgentSettings): CreateVmInput =>
  placeholderVmInput(`${FAKE_BASE_AMI_ID} light`, overrides, env);

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
