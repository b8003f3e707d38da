import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PersistentDisk, systemClock } from '@slipway/agent';
import type { AgentSettings } from '@slipway/contracts';
import { createQuietLogger } from '@slipway/testkit/simulation';
import { SandboxCloud } from '../src/cloud.js';
import { SandboxIaasDriver } from '../src/driver.js';
import { SandboxMetadataSource } from '../src/metadata.js';

// A VM's agent sees its persistent disk only while the cloud has it attached, as a real VM sees a device.
describe('sandbox persistent disks', () => {
  let dir: string;
  let cloud: SandboxCloud;
  let driver: SandboxIaasDriver;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-disks-'));
    cloud = SandboxCloud.open(join(dir, 'sandbox.json'), createQuietLogger(), 60_000); // agents never boot here
    driver = new SandboxIaasDriver(cloud, {});
  });
  afterEach(async () => {
    await driver.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  async function vm(): Promise<string> {
    const { stemcellId } = await driver.createStemcell({ name: 'sandbox-stemcell', version: '1' });
    // The agent never boots (the boot delay outlasts the test), so its settings only need to encode.
    const env = { agentId: 'a1' } as AgentSettings;
    const { vmId } = await driver.createVm({
      agentId: 'a1',
      stemcellId,
      resources: { cpu: 1, memoryMb: 512, ephemeralDiskMb: 1024 },
      network: { ip: '10.0.0.5' },
      env,
    });
    return vmId;
  }

  it('shows the disk to the VM it is attached to, and only while it is', async () => {
    const a = await vm();
    const b = await vm();
    const { diskId } = await driver.createDisk({ sizeMb: 1024 });
    const seenByA = new SandboxMetadataSource(cloud.inventory, a);
    const seenByB = new SandboxMetadataSource(cloud.inventory, b);
    expect(await seenByA.locateDisk(diskId)).toBeUndefined();

    await driver.attachDisk({ vmId: a, diskId });
    expect(await seenByA.locateDisk(diskId)).toEqual({ kind: 'directory', path: cloud.inventory.diskDir(diskId) });
    expect(await seenByB.locateDisk(diskId)).toBeUndefined();

    await driver.detachDisk({ vmId: a, diskId });
    expect(await seenByA.locateDisk(diskId)).toBeUndefined();
  });

  it('keeps what was written through one VM for the next, and deletes it with the disk', async () => {
    const a = await vm();
    const { diskId } = await driver.createDisk({ sizeMb: 1024 });
    const mount = (vmId: string) =>
      new PersistentDisk({
        metadata: new SandboxMetadataSource(cloud.inventory, vmId),
        storeDir: cloud.inventory.storeDirOf(vmId),
        logger: createQuietLogger(),
        clock: systemClock,
        pollMs: 10,
      });

    // The agent waits for the attach that the control plane makes after the VM boots.
    const first = mount(a);
    const mounted = first.ensureMounted(diskId, AbortSignal.timeout(5_000));
    await new Promise((r) => setTimeout(r, 50));
    expect(first.mountedDiskId).toBeUndefined();
    await driver.attachDisk({ vmId: a, diskId });
    const store = await mounted;
    expect(first.mountedDiskId).toBe(diskId);
    writeFileSync(join(store, 'member-data'), 'etcd wrote this');

    await driver.killVm(a);
    expect(existsSync(cloud.inventory.storeDirOf(a)), "the VM's own files are gone").toBe(false);
    const b = await vm();
    await driver.attachDisk({ vmId: b, diskId });
    const again = await mount(b).ensureMounted(diskId, AbortSignal.timeout(5_000));
    expect(realpathSync(again)).toBe(realpathSync(cloud.inventory.diskDir(diskId)));
    expect(readFileSync(join(again, 'member-data'), 'utf8')).toBe('etcd wrote this');

    await driver.deleteVm({ vmId: b });
    await driver.deleteDisk({ diskId });
    expect(existsSync(cloud.inventory.diskDir(diskId)), "the disk's content goes with the disk").toBe(false);
  });
});
