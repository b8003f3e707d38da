import { randomUUID } from 'node:crypto';
import { SlipwayError, type AgentSettings, type CreateVmInput } from '@slipway/contracts';

let ipCounter = 10;

/**
 * Agent settings of the shape the control plane sends, for a driver's own tests whose VMs boot no agent: the
 * CA PEM and the bootstrap token are placeholders and each call gets the next address (10.1.x.y, from .14 up, clear of the addresses
 * clouds reserve at the start of a subnet).
 */
export function placeholderSettings(agentId = `agent-${randomUUID()}`): AgentSettings {
  ipCounter += 1;
  return {
    agentId,
    clusterId: 'c-1',
    instanceId: `worker-${ipCounter}`,
    group: 'worker',
    index: 0,
    controlPlane: { url: 'https://127.0.0.1:9', caPem: 'CA PEM' },
    bootstrap: { token: 'placeholder-bootstrap-token', expiresAt: '2099-01-01T00:00:00.000Z' },
    network: { ip: `10.1.${Math.floor(ipCounter / 250)}.${(ipCounter % 250) + 4}` },
    heartbeatIntervalMs: 1000,
  };
}

/** A createVm input from a stemcell and placeholder settings: 1 CPU, 512 MiB, a 1 GiB ephemeral disk. */
export function placeholderVmInput(
  stemcellId: string,
  overrides: Partial<CreateVmInput> = {},
  env = placeholderSettings(),
): CreateVmInput {
  return {
    agentId: env.agentId,
    stemcellId,
    resources: { cpu: 1, memoryMb: 512, ephemeralDiskMb: 1024 },
    network: env.network,
    env,
    metadata: { 'slipway.cluster': 'c-1' },
    ...overrides,
  };
}

/** The SlipwayError a call must fail with; throws when it succeeds or fails with something else. */
export async function failure(call: Promise<unknown>): Promise<SlipwayError> {
  try {
    await call;
  } catch (error) {
    if (SlipwayError.is(error)) return error;
    throw error;
  }
  throw new Error('the call succeeded but was expected to fail');
}
