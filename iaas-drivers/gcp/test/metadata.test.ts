import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentChannelRecorder } from '@slipway/testkit/simulation';
import { GceMetadataServer, SETTINGS_ATTRIBUTE } from '../src/metadata.js';
import { failure, placeholderSettings, startDriver, vmInput, type DriverUnderTest } from './helpers.js';

describe('the agent side: settings from the GCE metadata server', () => {
  let t: DriverUnderTest;
  beforeAll(async () => {
    t = await startDriver();
  });
  afterAll(() => t.stop());

  it("reads the settings the driver put in instance metadata, and the VM's ids", async () => {
    const env = placeholderSettings();
    const { vmId } = await t.driver.createVm(vmInput(t, {}, env));
    const instance = t.fake.state.instances.get(vmId)!;
    expect(instance.metadataItems.map((i) => i.key)).toEqual([SETTINGS_ATTRIBUTE]);
    const reader = new GceMetadataServer(t.fake.metadataUrl(instance.id));
    expect(await reader.readSettings()).toEqual(env);
    expect(await reader.instanceId()).toBe(instance.id);
    expect(await reader.vmId()).toBe(vmId);
  });

  it('is refused without Metadata-Flavor: Google, as GCE refuses it', async () => {
    const { vmId } = await t.driver.createVm(vmInput(t));
    const base = t.fake.metadataUrl(t.fake.state.instances.get(vmId)!.id);
    const bare = await fetch(`${base}/computeMetadata/v1/instance/id`);
    expect(bare.status).toBe(403);
    expect(await bare.text()).toContain('Missing Metadata-Flavor:Google header.');
    const proxied = await fetch(`${base}/computeMetadata/v1/instance/id`, {
      headers: { 'metadata-flavor': 'Google', 'x-forwarded-for': '203.0.113.9' },
    });
    expect(proxied.status).toBe(403);
    const flavoured = await fetch(`${base}/computeMetadata/v1/instance/id`, {
      headers: { 'metadata-flavor': 'Google' },
    });
    expect(flavoured.headers.get('metadata-flavor')).toBe('Google');
  });

  it('says NotFound for a VM that carries no settings, and stops serving a deleted VM', async () => {
    const { vmId } = await t.driver.createVm(vmInput(t));
    const instance = t.fake.state.instances.get(vmId)!;
    const reader = new GceMetadataServer(t.fake.metadataUrl(instance.id));
    expect(await reader.attribute('no-such-key')).toBeUndefined();
    await t.driver.deleteVm({ vmId });
    const error = await failure(reader.readSettings());
    expect(error.code).toBe('NotFound');
  });

  it('refuses an answer that does not come from a metadata server', async () => {
    const impostor = createServer((_req, res) => res.end('{"agentId":"evil"}'));
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    try {
      const reader = new GceMetadataServer(`http://127.0.0.1:${(impostor.address() as AddressInfo).port}`);
      const error = await failure(reader.readSettings());
      expect(error.code).toBe('CloudError');
      expect(error.message).toContain('Metadata-Flavor');
    } finally {
      await new Promise((resolve) => impostor.close(resolve));
    }
  });

  it('calls an unreachable metadata server Retryable, and an aborted read Cancelled', async () => {
    const reader = new GceMetadataServer('http://127.0.0.1:9');
    expect((await failure(reader.readSettings())).code).toBe('Retryable');
    expect((await failure(reader.readSettings(AbortSignal.abort()))).code).toBe('Cancelled');
  });
});

describe("a booted VM's agent", () => {
  it('reaches the control plane with the settings createVm delivered, and boots again after a reset', async () => {
    const t = await startDriver({ bootAgents: true });
    const recorder = await AgentChannelRecorder.start({ heartbeatIntervalMs: 100 });
    try {
      const env = await recorder.settingsFor('agent-gcp-boot', { network: { ip: '10.9.0.4' } });
      const { vmId } = await t.driver.createVm(vmInput(t, { agentId: env.agentId, network: env.network }, env));
      const first = await recorder.waitForSync(env.agentId, 10_000);
      expect(first.instanceId).toBe(env.instanceId);
      const settled = await recorder.waitForHeartbeat(env.agentId, (h) => (h.uptimeMs ?? 0) > 600, 10_000);
      await t.driver.rebootVm!({ vmId });
      // instances.reset restarts the guest: a new agent process reads its settings again and starts over.
      const again = await recorder.waitForHeartbeat(env.agentId, (h) => (h.uptimeMs ?? Infinity) < 500, 10_000);
      expect(again.uptimeMs!).toBeLessThan(settled.uptimeMs!);
      expect(t.fake.calls('instances.reset')).toBe(1);
    } finally {
      await t.stop();
      await recorder.stop();
    }
  });
});
