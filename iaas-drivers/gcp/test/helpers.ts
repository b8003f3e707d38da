import { randomUUID } from 'node:crypto';
import { SlipwayError, type AgentSettings, type CreateVmInput, type IaasDriver } from '@slipway/contracts';
import { createTestHost, type TestHost } from '@slipway/testkit/simulation';
import plugin from '../src/index.js';
import type { GcpConfig } from '../src/config.js';
import { startFake, type FakeGcpOptions, type GcpFake } from '../fake/index.js';

export interface DriverUnderTest {
  fake: GcpFake;
  host: TestHost;
  driver: IaasDriver;
  stemcellId: string;
  stop(): Promise<void>;
}

/** A fake cloud (agents off unless asked), a driver created against it through the plugin module, and a stemcell. */
export async function startDriver(options: FakeGcpOptions & { config?: Partial<GcpConfig>; key?: Record<string, unknown> } = {}): Promise<DriverUnderTest> {
  const { config, key, ...fakeOptions } = options;
  const fake = await startFake({ bootAgents: false, ...fakeOptions });
  const seeded = fake.credentials!.map((c) => (key ? { ...c, value: { ...(c.value as object), ...key } } : c));
  const host = await createTestHost({ credentials: seeded });
  const driver = await plugin.create({ ...fake.config, ...config }, host);
  let stemcellId = '';
  if (!key) stemcellId = (await driver.createStemcell({ name: 'ubuntu-jammy', version: '1' }, { requestId: `stemcell-${randomUUID()}` })).stemcellId;
  return {
    fake, host, driver, stemcellId,
    async stop() {
      await driver.destroy();
      await fake.stop();
      await host.cleanup();
    },
  };
}

let ipCounter = 10;

/** Settings of the shape the control plane sends; agents of these are not booted, so the PEMs are placeholders. */
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

export function vmInput(t: { stemcellId: string }, overrides: Partial<CreateVmInput> = {}, env = placeholderSettings()): CreateVmInput {
  return {
    agentId: env.agentId,
    stemcellId: t.stemcellId,
    resources: { cpu: 1, memoryMb: 512, ephemeralDiskMb: 1024 },
    network: env.network,
    env,
    metadata: { 'slipway.cluster': 'c-1' },
    ...overrides,
  };
}

/** The SlipwayError a call fails with; fails the test when it succeeds or throws something else. */
export async function failure(call: Promise<unknown>): Promise<SlipwayError> {
  try {
    await call;
  } catch (error) {
    if (SlipwayError.is(error)) return error;
    throw error;
  }
  throw new Error('the call succeeded but was expected to fail');
}
