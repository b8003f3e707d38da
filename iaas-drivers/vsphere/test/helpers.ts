import { randomUUID } from 'node:crypto';
import { SlipwayError, type AgentSettings, type CreateVmInput, type IaasDriver } from '@slipway/contracts';
import { createTestHost, type TestHost } from '@slipway/testkit/simulation';
import plugin from '../src/index.js';
import type { VsphereConfig } from '../src/config.js';
import { startFake, type FakeVsphereOptions, type VsphereFake } from '../fake/index.js';

export interface DriverUnderTest {
  fake: VsphereFake;
  host: TestHost;
  driver: IaasDriver;
  stop(): Promise<void>;
}

/** A fake vCenter (agents off unless asked) and a driver created against it through the plugin module. */
export async function startDriver(options: FakeVsphereOptions & { config?: Partial<VsphereConfig>; password?: string } = {}): Promise<DriverUnderTest> {
  const { config, password, ...fakeOptions } = options;
  const fake = await startFake({ bootAgents: false, ...fakeOptions });
  const seeded = fake.credentials!.map((c) => (password ? { ...c, value: { ...(c.value as object), password } } : c));
  const host = await createTestHost({ credentials: seeded });
  const driver = await plugin.create({ ...fake.config, ...config }, host);
  return {
    fake, host, driver,
    async stop() {
      await driver.destroy();
      await fake.stop();
      await host.cleanup();
    },
  };
}

let ipCounter = 10;

/** Settings of the shape the control plane sends; agents that are never booted get placeholder PEMs. */
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

export function vmInput(stemcellId: string, overrides: Partial<CreateVmInput> = {}, env = placeholderSettings()): CreateVmInput {
  return {
    agentId: env.agentId,
    stemcellId,
    resources: { cpu: 2, memoryMb: 1024, ephemeralDiskMb: 0 },
    network: env.network,
    env,
    metadata: { 'slipway.cluster': 'c-1' },
    ...overrides,
  };
}

/** The failure of a call that must fail with a SlipwayError. */
export async function failure(call: Promise<unknown>): Promise<SlipwayError> {
  try {
    await call;
  } catch (error) {
    if (SlipwayError.is(error)) return error;
    throw error;
  }
  throw new Error('the call succeeded but was expected to fail');
}
