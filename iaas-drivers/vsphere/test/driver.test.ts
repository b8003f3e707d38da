import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SlipwayError, decodeAgentSettings } from '@slipway/contracts';
import { AgentChannelRecorder } from '@slipway/testkit/simulation';
import plugin from '../src/index.js';
import { VsphereGuestInfo, fetchTls, httpGuestInfoReader } from '../src/metadata.js';
import { FAKE_INVENTORY } from '../fake/index.js';
import { failure, placeholderSettings, startDriver, vmInput, type DriverUnderTest } from './helpers.js';

const NOT_AUTHENTICATED = {
  kind: 'soap',
  type: 'NotAuthenticated',
  message: 'The session is not authenticated.',
} as const;

describe('vCenter session', () => {
  let t: DriverUnderTest;
  beforeAll(async () => {
    t = await startDriver();
  });
  afterAll(() => t.stop());

  it('reads ServiceContent and logs in once, then reuses the vmware_soap_session cookie', async () => {
    await Promise.all(Array.from({ length: 20 }, () => t.driver.hasVm({ vmId: randomUUID() })));
    expect(t.fake.calls('RetrieveServiceContent')).toBe(1);
    expect(t.fake.calls('Login')).toBe(1);
    expect(t.fake.calls('FindChild')).toBe(20);
    expect(t.fake.inventory.sessions.size).toBe(1);
    expect([...t.fake.apiVersions]).toEqual(['urn:vim25/7.0.3.0']);
  });

  it('logs in again when vCenter has dropped the session, without failing the call', async () => {
    await t.driver.hasVm({ vmId: randomUUID() });
    const logins = t.fake.calls('Login');
    t.fake.expireSessions();
    expect(await t.driver.hasVm({ vmId: randomUUID() })).toBe(false);
    expect(t.fake.calls('Login')).toBe(logins + 1);
  });

  it('gives up with Unauthenticated when the new session is refused too', async () => {
    t.fake.failNext('FindChild', NOT_AUTHENTICATED, 2);
    const error = await failure(t.driver.hasVm({ vmId: randomUUID() }));
    expect(error.code).toBe('Unauthenticated');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('The session is not authenticated.');
  });

  it('survives the idle timeout of a session', async () => {
    const idle = await startDriver({ sessionIdleMs: 100 });
    try {
      await idle.driver.hasVm({ vmId: randomUUID() });
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(await idle.driver.hasVm({ vmId: randomUUID() })).toBe(false);
      expect(idle.fake.calls('Login')).toBe(2);
    } finally {
      await idle.stop();
    }
  });

  it('logs out when the driver is destroyed', async () => {
    const short = await startDriver();
    await short.driver.hasVm({ vmId: randomUUID() });
    expect(short.fake.inventory.sessions.size).toBe(1);
    await short.driver.destroy();
    expect(short.fake.calls('Logout')).toBe(1);
    expect(short.fake.inventory.sessions.size).toBe(0);
    await short.fake.stop();
    await short.host.cleanup();
  });
});

describe('credentials and TLS', () => {
  it("maps a wrong password to Unauthenticated with vCenter's message, and does not send it again", async () => {
    const t = await startDriver({ password: 'not-the-password' });
    try {
      const error = await failure(t.driver.hasVm({ vmId: randomUUID() }));
      expect(error.code).toBe('Unauthenticated');
      expect(error.message).toContain('Cannot complete login due to an incorrect user name or password.');
      await failure(t.driver.hasVm({ vmId: randomUUID() }));
      await failure(t.driver.createDisk({ sizeMb: 1024 }));
      // vCenter SSO locks an account after a few failures: one refusal is enough to stop trying.
      expect(t.fake.calls('Login')).toBe(1);
    } finally {
      await t.stop();
    }
  });

  it('refuses a credential without username and password, naming the field', async () => {
    const t = await startDriver();
    try {
      await t.host.credentials.set(
        { name: '/slipway/iaas/broken', type: 'value', value: 'hunter2' },
        { actor: 'test' },
      );
      const error = await failure(plugin.create({ ...t.fake.config, credentials_ref: '/slipway/iaas/broken' }, t.host));
      expect(error.code).toBe('InvalidConfig');
      expect(error.field).toBe('credentials_ref');
    } finally {
      await t.stop();
    }
  });

  it("does not trust the fake's certificate without ca_cert, and says which setting to fix", async () => {
    const t = await startDriver({ config: { ca_cert: undefined } });
    try {
      const error = await failure(t.driver.hasVm({ vmId: randomUUID() }));
      expect(error.code).toBe('InvalidConfig');
      expect(error.field).toBe('ca_cert');
      expect(t.fake.calls('RetrieveServiceContent')).toBe(0);
    } finally {
      await t.stop();
    }
  });

  it('connects without verification when insecure: true', async () => {
    const t = await startDriver({ config: { ca_cert: undefined, insecure: true } });
    try {
      expect(await t.driver.hasVm({ vmId: randomUUID() })).toBe(false);
      expect(t.host.logger.lines.some((line) => line.includes('insecure'))).toBe(true);
    } finally {
      await t.stop();
    }
  });

  it('names the config field of an inventory path that does not exist', async () => {
    const t = await startDriver({ config: { vm_folder: 'slipway/nowhere' } });
    try {
      const error = await failure(t.driver.hasVm({ vmId: randomUUID() }));
      expect(error.code).toBe('InvalidConfig');
      expect(error.field).toBe('vm_folder');
      expect(error.message).toContain('dc1/vm/slipway/nowhere');
    } finally {
      await t.stop();
    }
  });
});

describe('VMs', () => {
  let t: DriverUnderTest;
  let stemcellId: string;
  beforeAll(async () => {
    t = await startDriver();
    stemcellId = (await t.driver.createStemcell({ name: 'ubuntu-jammy', version: '1.0' }, { requestId: randomUUID() }))
      .stemcellId;
  });
  afterEach(() => t.fake.faults.reset());
  afterAll(() => t.stop());

  it('clones, reconfigures with the settings as guestinfo, sets custom fields and powers on', async () => {
    const input = vmInput(stemcellId);
    const requestId = randomUUID();
    const { vmId, zone } = await t.driver.createVm(input, { requestId });
    const vm = t.fake.vm(vmId)!;
    expect(vm).toMatchObject({ powerState: 'poweredOn', numCPUs: 2, memoryMB: 1024, template: false });
    expect(vm.extraConfig.get('guestinfo.userdata.encoding')).toBe('base64');
    expect(
      decodeAgentSettings(Buffer.from(vm.extraConfig.get('guestinfo.userdata')!, 'base64').toString('utf8')),
    ).toEqual(input.env);
    expect(vm.extraConfig.get('disk.EnableUUID')).toBe('TRUE');
    expect(vm.parent.value).toBe('group-v8');
    expect(zone).toBe(FAKE_INVENTORY.cluster);
    const byName = Object.fromEntries(t.fake.inventory.fieldDefs.map((d) => [d.name, vm.customValues.get(d.key)]));
    expect(byName).toMatchObject({
      'slipway.cluster': 'c-1',
      'slipway.agent_id': input.agentId,
      'slipway.request_id': requestId,
    });
  });

  it("makes linked clones of a stemcell template: a delta disk on the template's snapshot", async () => {
    const { vmId } = await t.driver.createVm(vmInput(stemcellId));
    const clone = t.fake.clones.find((c) => c.name === vmId)!;
    expect(clone).toMatchObject({ source: stemcellId, diskMoveType: 'createNewChildDiskBacking' });
    const template = t.fake.vm(stemcellId)!;
    expect(template.template).toBe(true);
    expect(clone.snapshot).toBe(template.snapshot!.ref.value);
    const rootDisk = t.fake.vm(vmId)!.devices.find((d) => d.type === 'VirtualDisk')!;
    expect(t.fake.inventory.files.get(rootDisk.fileName!)!.parent).toBe(template.snapshot!.disks[0]);
  });

  it('makes full clones of a template without a snapshot, and when linked clones are off', async () => {
    const light = await t.driver.createStemcell({
      name: 'golden',
      version: '1',
      cloudProperties: { template: FAKE_INVENTORY.baseTemplate },
    });
    expect(light.stemcellId).toBe(`${FAKE_INVENTORY.baseTemplate} light`);
    const { vmId } = await t.driver.createVm(vmInput(light.stemcellId));
    expect(t.fake.clones.find((c) => c.name === vmId)!.diskMoveType).toBeUndefined();
    const full = await startDriver({ config: { linked_clones: false } });
    try {
      const own = await full.driver.createStemcell({ name: 'ubuntu', version: '2' });
      const vm = await full.driver.createVm(vmInput(own.stemcellId));
      expect(full.fake.clones.find((c) => c.name === vm.vmId)).not.toHaveProperty('diskMoveType');
    } finally {
      await full.stop();
    }
  });

  it('returns the same VM for a repeated request id, and resumes one an earlier attempt left powered off', async () => {
    const requestId = randomUUID();
    const input = vmInput(stemcellId);
    t.fake.failNext('PowerOnVM_Task', { kind: 'http', status: 503, message: 'Service Unavailable' });
    const error = await failure(t.driver.createVm(input, { requestId }));
    expect(error.code).toBe('Retryable');
    const clones = t.fake.clones.length;
    const { vmId } = await t.driver.createVm(input, { requestId });
    expect(t.fake.clones.length).toBe(clones);
    expect(t.fake.vm(vmId)!.powerState).toBe('poweredOn');
    expect((await t.driver.createVm(input, { requestId })).vmId).toBe(vmId);
  });

  it('answers a concurrent create with the same request id with a retryable Conflict; its retry gets the same VM', async () => {
    const requestId = randomUUID();
    const input = vmInput(stemcellId);
    const results = await Promise.allSettled([
      t.driver.createVm(input, { requestId }),
      t.driver.createVm(input, { requestId }),
    ]);
    const made = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.vmId] : []));
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as SlipwayError] : []));
    expect(made.length).toBeGreaterThan(0);
    for (const error of refused)
      expect({ code: error.code, retryable: error.retryable }).toEqual({ code: 'Conflict', retryable: true });
    const retried = await t.driver.createVm(input, { requestId });
    for (const vmId of made) expect(vmId).toBe(retried.vmId);
    expect(t.fake.inventory.vms().filter((v) => v.annotation.includes(input.agentId))).toHaveLength(1);
  });

  it('surfaces the message of a task that ends in error, and destroys the half-made VM', async () => {
    t.fake.failNextTask('ReconfigVM_Task', {
      type: 'InvalidArgument',
      message: 'A specified parameter was not correct: spec.numCPUs',
    });
    const input = vmInput(stemcellId);
    const error = await failure(t.driver.createVm(input, { requestId: randomUUID() }));
    expect(error.code).toBe('VmCreationFailed');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('A specified parameter was not correct: spec.numCPUs');
    expect(error.details).toMatchObject({ method: 'ReconfigVM_Task', source: 'task', cloudCode: 'InvalidArgument' });
    const name = t.fake.clones[t.fake.clones.length - 1]!.name;
    expect(t.fake.vm(name)).toBeUndefined();
  });

  it("maps the resource pool's admission control to QuotaExceeded and a full datastore to CapacityExhausted", async () => {
    t.fake.faults.setQuota({ vms: 0 });
    const quota = await failure(t.driver.createVm(vmInput(stemcellId)));
    expect(quota.code).toBe('QuotaExceeded');
    expect(quota.message).toContain('The available Memory resources in the parent resource pool are insufficient');
    t.fake.faults.reset();
    t.fake.failNextTask('CloneVM_Task', {
      type: 'NoDiskSpace',
      message: 'There is not enough space on the file system for the selected operation.',
    });
    const full = await failure(t.driver.createVm(vmInput(stemcellId)));
    expect(full.code).toBe('CapacityExhausted');
  });

  it("turns a rate limiter's 429 into RateLimited with its Retry-After, and vpxd's SystemError into Retryable", async () => {
    t.fake.failNext('CloneVM_Task', { kind: 'http', status: 429, message: 'Too Many Requests', retryAfterSeconds: 7 });
    const limited = await failure(t.driver.createVm(vmInput(stemcellId)));
    expect(limited).toMatchObject({ code: 'RateLimited', retryable: true, retryAfterMs: 7000 });
    t.fake.failNext('FindChild', {
      kind: 'soap',
      type: 'SystemError',
      message: 'A general system error occurred: Connection reset by peer',
    });
    const busy = await failure(t.driver.hasVm({ vmId: randomUUID() }));
    expect(busy).toMatchObject({ code: 'Retryable', retryable: true });
    expect(busy.message).toContain('Connection reset by peer');
    t.fake.failNextTask('PowerOnVM_Task', {
      type: 'TaskInProgress',
      message: 'The operation is not allowed in the current state.',
    });
    const conflict = await failure(t.driver.createVm(vmInput(stemcellId), { requestId: randomUUID() }));
    expect(conflict).toMatchObject({ code: 'Conflict', retryable: true });
  });

  it('merges custom fields, defining each key once for every VM', async () => {
    const first = await t.driver.createVm(vmInput(stemcellId));
    const second = await t.driver.createVm(vmInput(stemcellId));
    const defs = t.fake.calls('AddCustomFieldDef');
    await t.driver.setVmMetadata({ vmId: first.vmId, metadata: { 'slipway.instance': 'worker/0' } });
    await t.driver.setVmMetadata({ vmId: second.vmId, metadata: { 'slipway.instance': 'worker/1' } });
    await t.driver.setVmMetadata({ vmId: first.vmId, metadata: { 'slipway.instance': 'worker/2' } });
    expect(t.fake.calls('AddCustomFieldDef')).toBe(defs + 1);
    const key = t.fake.inventory.fieldDefs.find((d) => d.name === 'slipway.instance')!.key;
    const cluster = t.fake.inventory.fieldDefs.find((d) => d.name === 'slipway.cluster')!.key;
    expect(t.fake.vm(first.vmId)!.customValues.get(key)).toBe('worker/2');
    expect(t.fake.vm(first.vmId)!.customValues.get(cluster)).toBe('c-1');
    expect(t.fake.vm(second.vmId)!.customValues.get(key)).toBe('worker/1');
    const missing = await failure(t.driver.setVmMetadata({ vmId: 'slipway-vm-gone', metadata: { a: 'b' } }));
    expect(missing.code).toBe('NotFound');
  });

  it('powers a VM off before destroying it, and succeeds for one that is gone', async () => {
    const { vmId } = await t.driver.createVm(vmInput(stemcellId));
    const offs = t.fake.calls('PowerOffVM_Task');
    await t.driver.deleteVm({ vmId });
    expect(t.fake.calls('PowerOffVM_Task')).toBe(offs + 1);
    expect(t.fake.vm(vmId)).toBeUndefined();
    expect(await t.driver.hasVm({ vmId })).toBe(false);
    await t.driver.deleteVm({ vmId });
    await t.driver.deleteVm({ vmId: 'slipway-vm-never-was' });
  });

  it('refuses to delete a template as if it were a VM', async () => {
    const twin = await startDriver({ config: { vm_folder: FAKE_INVENTORY.templateFolder } });
    try {
      const { stemcellId: own } = await twin.driver.createStemcell({ name: 'kept', version: '1' });
      const error = await failure(twin.driver.deleteVm({ vmId: own }));
      expect(error.code).toBe('InvalidInput');
      expect(twin.fake.vm(own)?.template).toBe(true);
    } finally {
      await twin.stop();
    }
  });

  it('resets a VM to reboot it', async () => {
    const { vmId } = await t.driver.createVm(vmInput(stemcellId));
    await t.driver.rebootVm!({ vmId });
    expect(t.fake.calls('ResetVM_Task')).toBeGreaterThan(0);
    expect(t.fake.vm(vmId)!.powerState).toBe('poweredOn');
    expect((await failure(t.driver.rebootVm!({ vmId: 'slipway-vm-gone' }))).code).toBe('NotFound');
  });

  it('stops polling a task at once when aborted', async () => {
    const slow = await startDriver({ cloneDelayMs: 10_000 });
    try {
      const { stemcellId: light } = await slow.driver.createStemcell({
        name: 'g',
        version: '1',
        cloudProperties: { template: FAKE_INVENTORY.baseTemplate },
      });
      const controller = new AbortController();
      const call = slow.driver.createVm(vmInput(light), { signal: controller.signal, requestId: randomUUID() });
      // Abort once the clone task is being polled.
      for (let waited = 0; slow.fake.calls('CloneVM_Task') === 0 && waited < 5_000; waited += 20)
        await new Promise((resolve) => setTimeout(resolve, 20));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(slow.fake.calls('CloneVM_Task')).toBe(1);
      const abortedAt = Date.now();
      controller.abort();
      const error = await failure(call);
      expect(error.code).toBe('Cancelled');
      // A tenth of the operation it cut short: room for a loaded CI machine, far from waiting it out.
      expect(Date.now() - abortedAt).toBeLessThan(1_000);
    } finally {
      await slow.stop();
    }
  });

  it('calls an unreachable vCenter Retryable', async () => {
    const gone = await startDriver();
    await gone.fake.stop();
    const error = await failure(gone.driver.hasVm({ vmId: randomUUID() }));
    expect(error.code).toBe('Retryable');
    expect(error.message).toContain('cannot reach');
    await gone.driver.destroy();
    await gone.host.cleanup();
  });
});

describe('the agent settings reach the agent through guestinfo', () => {
  let t: DriverUnderTest;
  let recorder: AgentChannelRecorder;
  beforeAll(async () => {
    t = await startDriver({ bootAgents: true });
    recorder = await AgentChannelRecorder.start();
  });
  afterAll(async () => {
    await t.stop();
    await recorder.stop();
  });

  it('boots an agent that reads guestinfo.userdata and syncs with the control plane, and again after a reset', async () => {
    const { stemcellId } = await t.driver.createStemcell({ name: 'ubuntu', version: '1' });
    const settings = await recorder.settingsFor(`agent-${randomUUID()}`, { network: { ip: '10.9.0.5' } });
    const { vmId } = await t.driver.createVm(vmInput(stemcellId, {}, settings));
    const heartbeat = await recorder.waitForSync(settings.agentId, 10_000);
    expect(heartbeat.instanceId).toBe(settings.instanceId);
    // The same path the agent took, read directly: what the driver set is what the guest sees.
    const vm = t.fake.vm(vmId)!;
    const tls = await fetchTls({ caPem: t.fake.caPem });
    try {
      const guest = new VsphereGuestInfo(httpGuestInfoReader({ url: t.fake.guestinfoUrl(vm.ref.value), tls }));
      expect(await guest.readSettings()).toEqual(settings);
      expect(await guest.instanceId()).toBe(vmId);
      // A reset reboots the guest: a new agent starts and reads guestinfo again.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const resetAt = Date.now();
      await t.driver.rebootVm!({ vmId });
      const after = await recorder.waitForHeartbeat(
        settings.agentId,
        (h) => h.uptimeMs !== undefined && Date.now() - h.uptimeMs >= resetAt - 20,
        10_000,
      );
      expect(after.instanceId).toBe(settings.instanceId);
      await t.driver.deleteVm({ vmId });
      // Powered off and gone: the guest has no guestinfo to read any more.
      await expect(guest.readSettings()).rejects.toThrow();
    } finally {
      await tls.close();
    }
  });
});

describe('persistent disks', () => {
  let t: DriverUnderTest;
  let stemcellId: string;
  beforeAll(async () => {
    t = await startDriver();
    stemcellId = (await t.driver.createStemcell({ name: 'ubuntu', version: '1' })).stemcellId;
  });
  afterEach(() => t.fake.faults.reset());
  afterAll(() => t.stop());

  it('keeps an independent VMDK in the disk folder that survives deleteVm and reattaches with the same hint', async () => {
    const first = await t.driver.createVm(vmInput(stemcellId));
    const { diskId } = await t.driver.createDisk({ sizeMb: 2048, vmId: first.vmId });
    const path = `[${FAKE_INVENTORY.datastore}] slipway-disks/${diskId}.vmdk`;
    expect(t.fake.inventory.files.get(path)!.capacityKb).toBe(2048 * 1024);
    const { hint } = await t.driver.attachDisk({ vmId: first.vmId, diskId });
    const uuid = t.fake.inventory.files.get(path)!.uuid;
    expect(hint).toEqual({ kind: 'path', path: `/dev/disk/by-id/wwn-0x${uuid.replace(/-/g, '').toLowerCase()}` });
    const device = t.fake.vm(first.vmId)!.devices.find((d) => d.fileName === path)!;
    expect(device).toMatchObject({ diskMode: 'independent_persistent', controllerKey: 1000, unitNumber: 1 });
    await t.driver.deleteVm({ vmId: first.vmId });
    expect(t.fake.inventory.files.has(path)).toBe(true);
    expect(await t.driver.hasDisk({ diskId })).toBe(true);
    const second = await t.driver.createVm(vmInput(stemcellId));
    const again = await t.driver.attachDisk({ vmId: second.vmId, diskId });
    expect(again.hint).toEqual(hint);
    expect(await t.driver.getDisks({ vmId: second.vmId })).toEqual([diskId]);
  });

  it("attaches on the next free SCSI unit, skipping the controller's own unit 7", async () => {
    const { vmId } = await t.driver.createVm(vmInput(stemcellId));
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const { diskId } = await t.driver.createDisk({ sizeMb: 16 });
      await t.driver.attachDisk({ vmId, diskId });
      ids.push(diskId);
    }
    const units = t.fake
      .vm(vmId)!
      .devices.filter((d) => d.type === 'VirtualDisk')
      .map((d) => d.unitNumber);
    expect(units).toEqual([0, 1, 2, 3, 4, 5, 6, 8, 9]);
    expect((await t.driver.getDisks({ vmId })).sort()).toEqual([...ids].sort());
    await t.driver.deleteVm({ vmId });
    for (const diskId of ids) await t.driver.deleteDisk({ diskId });
  });

  it('makes the same disk for a repeated request id', async () => {
    const requestId = randomUUID();
    const first = await t.driver.createDisk({ sizeMb: 1024 }, { requestId });
    const second = await t.driver.createDisk({ sizeMb: 1024 }, { requestId });
    expect(second.diskId).toBe(first.diskId);
  });

  it('refuses to delete or grow a disk a running VM holds (Conflict), and grows it once detached', async () => {
    const { vmId } = await t.driver.createVm(vmInput(stemcellId));
    const { diskId } = await t.driver.createDisk({ sizeMb: 1024 });
    await t.driver.attachDisk({ vmId, diskId });
    expect((await failure(t.driver.deleteDisk({ diskId }))).code).toBe('Conflict');
    const locked = await failure(t.driver.resizeDisk!({ diskId, sizeMb: 4096 }));
    expect(locked.code).toBe('Conflict');
    expect(locked.message).toContain('since it is locked');
    await t.driver.detachDisk({ vmId, diskId });
    await t.driver.resizeDisk!({ diskId, sizeMb: 4096 });
    expect(t.fake.inventory.files.get(`[${FAKE_INVENTORY.datastore}] slipway-disks/${diskId}.vmdk`)!.capacityKb).toBe(
      4096 * 1024,
    );
    const extends_ = t.fake.calls('ExtendVirtualDisk_Task');
    await t.driver.resizeDisk!({ diskId, sizeMb: 4096 });
    expect(t.fake.calls('ExtendVirtualDisk_Task')).toBe(extends_);
    expect((await failure(t.driver.resizeDisk!({ diskId, sizeMb: 1024 }))).code).toBe('InvalidInput');
  });

  it('refuses to attach a disk another VM holds', async () => {
    const holder = await t.driver.createVm(vmInput(stemcellId));
    const other = await t.driver.createVm(vmInput(stemcellId));
    const { diskId } = await t.driver.createDisk({ sizeMb: 1024 });
    await t.driver.attachDisk({ vmId: holder.vmId, diskId });
    const error = await failure(t.driver.attachDisk({ vmId: other.vmId, diskId }));
    expect(error.code).toBe('Conflict');
    expect(await t.driver.getDisks({ vmId: other.vmId })).toEqual([]);
  });

  it('finds no disk that was never made, and refuses ids that are not file names', async () => {
    expect(await t.driver.hasDisk({ diskId: 'disk-0000' })).toBe(false);
    await t.driver.deleteDisk({ diskId: 'disk-0000' });
    const error = await failure(t.driver.deleteDisk({ diskId: '../ubuntu-jammy-base/ubuntu-jammy-base' }));
    expect(error.code).toBe('InvalidInput');
    expect(t.fake.inventory.files.has(`[${FAKE_INVENTORY.datastore}] ubuntu-jammy-base/ubuntu-jammy-base.vmdk`)).toBe(
      true,
    );
  });

  it("makes the disk folder again when it was removed behind the driver's back", async () => {
    await t.driver.createDisk({ sizeMb: 16 });
    for (const path of [...t.fake.inventory.files.keys()])
      if (path.includes('slipway-disks/')) t.fake.inventory.files.delete(path);
    t.fake.inventory.directories.delete(`[${FAKE_INVENTORY.datastore}] slipway-disks`);
    const { diskId } = await t.driver.createDisk({ sizeMb: 16 });
    expect(await t.driver.hasDisk({ diskId })).toBe(true);
  });
});

describe('stemcells', () => {
  let t: DriverUnderTest;
  beforeAll(async () => {
    t = await startDriver();
  });
  afterEach(() => t.fake.faults.reset());
  afterAll(() => t.stop());

  it('clones the base template into a snapshotted template, once per request id, and destroys it twice without complaint', async () => {
    const requestId = randomUUID();
    const { stemcellId } = await t.driver.createStemcell({ name: 'Ubuntu Jammy', version: '1.2' }, { requestId });
    expect(stemcellId).toMatch(/^slipway-stemcell-ubuntu-jammy-1\.2-[0-9a-f]{12}$/);
    const template = t.fake.vm(stemcellId)!;
    expect(template).toMatchObject({ template: true, parent: { value: 'group-v9' } });
    expect(template.snapshot?.name).toBe('slipway-linked-clone-base');
    expect((await t.driver.createStemcell({ name: 'Ubuntu Jammy', version: '1.2' }, { requestId })).stemcellId).toBe(
      stemcellId,
    );
    expect(t.fake.clones.filter((c) => c.name === stemcellId)).toHaveLength(1);
    await t.driver.deleteStemcell({ stemcellId });
    await t.driver.deleteStemcell({ stemcellId });
    expect(t.fake.vm(stemcellId)).toBeUndefined();
  });

  it('finishes a template an earlier attempt left without its snapshot', async () => {
    const requestId = randomUUID();
    t.fake.failNextTask('CreateSnapshot_Task', {
      type: 'SystemError',
      message: 'A general system error occurred: vpxd restarted',
    });
    const error = await failure(t.driver.createStemcell({ name: 'half', version: '1' }, { requestId }));
    expect(error.code).toBe('Retryable');
    const { stemcellId } = await t.driver.createStemcell({ name: 'half', version: '1' }, { requestId });
    expect(t.fake.vm(stemcellId)).toMatchObject({ template: true, snapshot: { name: 'slipway-linked-clone-base' } });
    expect(t.fake.clones.filter((c) => c.name === stemcellId)).toHaveLength(1);
  });

  it("never deletes the operator's template behind a light stemcell", async () => {
    const { stemcellId } = await t.driver.createStemcell({
      name: 'light',
      version: '1',
      cloudProperties: { template: FAKE_INVENTORY.baseTemplate },
    });
    await t.driver.deleteStemcell({ stemcellId });
    expect(t.fake.vm('ubuntu-jammy-base')?.template).toBe(true);
    const missing = await failure(
      t.driver.createStemcell({ name: 'light', version: '2', cloudProperties: { template: 'golden/nothing' } }),
    );
    expect(missing.code).toBe('InvalidInput');
  });

  it('says plainly that it does not upload images', async () => {
    const error = await failure(t.driver.createStemcell({ name: 'ova', version: '1', imagePath: '/tmp/stemcell.ova' }));
    expect(error.code).toBe('Unsupported');
    expect(error.hint).toContain('cloud_properties.template');
  });

  it("keeps vCenter's message when a clone is refused", async () => {
    const message = t.fake.faults.permanentErrorNext('createStemcell') as string;
    const error = await failure(t.driver.createStemcell({ name: 'refused', version: '1' }));
    expect(error.code).toBe('CloudError');
    expect(error.message).toContain(message);
  });

  it('makes VMs from a stemcell: an unknown stemcell is VmCreationFailed', async () => {
    const error = await failure(t.driver.createVm(vmInput('slipway-stemcell-none-1-000000000000')));
    expect(error.code).toBe('VmCreationFailed');
  });
});

describe('under 10% throttling and 10% server errors', () => {
  let t: DriverUnderTest;
  let stemcellId: string;
  beforeAll(async () => {
    t = await startDriver();
    stemcellId = (await t.driver.createStemcell({ name: 'ubuntu', version: '1' }, { requestId: 'rates' })).stemcellId;
  });
  afterAll(() => t.stop());

  /** What the engine does: the same call with the same request id again, while the error says it may. */
  async function withRetries<T>(call: () => Promise<T>, seen: SlipwayError[]): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (!SlipwayError.is(error) || !error.retryable || attempt > 60) throw error;
        seen.push(error);
      }
    }
  }

  it('fails only with retryable errors, and retries converge without a duplicate VM or disk', async () => {
    t.fake.faults.setFaultRates({ throttle: 0.1, serverError: 0.1 });
    const seen: SlipwayError[] = [];
    const created = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const input = vmInput(stemcellId, {}, placeholderSettings());
        const requestId = randomUUID();
        const { vmId } = await withRetries(() => t.driver.createVm(input, { requestId }), seen);
        const diskRequest = randomUUID();
        const { diskId } = await withRetries(
          () => t.driver.createDisk({ sizeMb: 64 }, { requestId: diskRequest }),
          seen,
        );
        await withRetries(() => t.driver.attachDisk({ vmId, diskId }), seen);
        await withRetries(() => t.driver.setVmMetadata({ vmId, metadata: { 'slipway.note': 'rates' } }), seen);
        return { vmId, diskId, agentId: input.agentId };
      }),
    );
    t.fake.faults.reset();
    expect(seen.length, 'the faults were hit').toBeGreaterThan(0);
    for (const error of seen) expect(['RateLimited', 'Retryable', 'Conflict'], error.message).toContain(error.code);
    for (const { vmId, diskId, agentId } of created) {
      expect(t.fake.vm(vmId)!.powerState).toBe('poweredOn');
      expect(await t.driver.getDisks({ vmId })).toEqual([diskId]);
      const sameAgent = t.fake.inventory.vms().filter((v) => v.annotation.includes(agentId));
      expect(sameAgent, 'one VM per agent').toHaveLength(1);
    }
    const disks = [...t.fake.inventory.files.values()].filter((f) => f.standalone);
    expect(disks).toHaveLength(6);
  });
});
