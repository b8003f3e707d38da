import { randomUUID } from 'node:crypto';
import type { AgentSettings, CreateVmInput, IaasDriver } from '@slipway/contracts';
import { startDriverUnderTest, type DriverUnderTest as GenericDriverUnderTest } from '@slipway/testkit/simulation';
import plugin from '../src/index.js';
import type { OpenStackConfig } from '../src/config.js';
import { FAKE_BASE_IMAGE_ID, startFake, type FakeOpenStackOptions, type OpenStackFake } from '../fake/index.js';

export type DriverUnderTest = GenericDriverUnderTest<OpenStackFake>;

/** A fake cloud (agents off unless asked) and a driver created against it through the plugin module. */
export function startDriver(options: FakeOpenStackOptions & { config?: Partial<OpenStackConfig>; credentials?: Record<string, unknown> } = {}): Promise<DriverUnderTest> {
  const { config, credentials, ...fakeOptions } = options;
  return startDriverUnderTest(plugin, () => startFake({ bootAgents: false, ...fakeOptions }), { config, credentials });
}

let ipCounter = 10;

/** Settings of the shape the control plane sends; these agents are never booted, so the PEMs are placeholders. */
export function placeholderSettings(agentId = `agent-${randomUUID()}`): AgentSettings {
  ipCounter += 1;
  return {
    agentId, clusterId: 'c-1', instanceId: `worker-${ipCounter}`, group: 'worker', index: 0,
    controlPlane: { url: 'https://127.0.0.1:9', caPem: 'CA PEM' },
    tls: { certPem: 'CERT PEM', keyPem: 'KEY PEM' },
    network: { ip: `10.1.${Math.floor(ipCounter / 250)}.${ipCounter % 250}` },
    heartbeatIntervalMs: 1000,
  };
}

export function vmInput(overrides: Partial<CreateVmInput> = {}, env = placeholderSettings()): CreateVmInput {
  return {
    agentId: env.agentId,
    stemcellId: `${FAKE_BASE_IMAGE_ID} light`,
    resources: { cpu: 1, memoryMb: 512, ephemeralDiskMb: 1024 },
    network: env.network,
    env,
    metadata: { 'slipway.cluster': 'c-1' },
    ...overrides,
  };
}
