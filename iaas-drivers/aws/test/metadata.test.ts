import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ec2InstanceMetadataService } from '../src/metadata.js';
import { failure, placeholderSettings, startDriver, vmInput, type DriverUnderTest } from './helpers.js';

describe('the agent-side IMDSv2 reader', () => {
  let t: DriverUnderTest;
  let vmId: string;
  const settings = placeholderSettings();
  beforeAll(async () => {
    t = await startDriver();
    vmId = (await t.driver.createVm(vmInput({}, settings))).vmId;
  });
  afterAll(() => t.stop());

  it('reads the settings and the instance id with one session token', async () => {
    const reader = new Ec2InstanceMetadataService({ baseUrl: t.fake.metadataUrl(vmId) });
    const puts = t.fake.calls('IMDS PUT /latest/api/token');
    expect(await reader.readSettings()).toEqual(settings);
    expect(await reader.instanceId()).toBe(vmId);
    expect(await reader.get('/latest/meta-data/placement/availability-zone')).toBe('us-east-1a');
    expect(t.fake.calls('IMDS PUT /latest/api/token') - puts).toBe(1);
    expect(t.fake.calls('IMDS GET /latest/user-data')).toBeGreaterThan(0);
  });

  it('asks for a new session token once when IMDS refuses the one it holds', async () => {
    const reader = new Ec2InstanceMetadataService({ baseUrl: t.fake.metadataUrl(vmId) });
    await reader.instanceId();
    t.fake.revokeMetadataTokens();
    const puts = t.fake.calls('IMDS PUT /latest/api/token');
    expect(await reader.instanceId()).toBe(vmId);
    expect(t.fake.calls('IMDS PUT /latest/api/token') - puts).toBe(1);
  });

  it('says NotFound for what IMDS does not have', async () => {
    const reader = new Ec2InstanceMetadataService({ baseUrl: t.fake.metadataUrl(vmId) });
    const error = await failure(reader.get('/latest/meta-data/no-such-key'));
    expect(error.code).toBe('NotFound');
  });

  it('calls an unreachable or silent IMDS Retryable, within its timeout', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const reader = new Ec2InstanceMetadataService({
        baseUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
        timeoutMs: 200,
      });
      const started = Date.now();
      const error = await failure(reader.readSettings());
      expect(error).toMatchObject({ code: 'Retryable', retryable: true });
      expect(error.message).toContain('no answer within 200 ms');
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('stops at once when the agent is stopped', async () => {
    const reader = new Ec2InstanceMetadataService({ baseUrl: t.fake.metadataUrl(vmId) });
    expect((await failure(reader.readSettings(AbortSignal.abort()))).code).toBe('Cancelled');
  });
});
