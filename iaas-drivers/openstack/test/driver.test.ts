import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_BASE_IMAGE_ID } from '../fake/index.js';
import { failure, startDriver, vmInput, type DriverUnderTest } from './helpers.js';

describe('Keystone session', () => {
  let t: DriverUnderTest;
  beforeAll(async () => {
    t = await startDriver();
  });
  afterAll(() => t.stop());

  it('authenticates once and reuses the token for every call', async () => {
    const before = t.fake.calls('createToken');
    await Promise.all(Array.from({ length: 20 }, () => t.driver.hasVm({ vmId: randomUUID() })));
    await t.driver.hasDisk({ diskId: randomUUID() });
    expect(t.fake.calls('createToken') - before).toBe(1);
    expect(t.fake.calls('showServer')).toBeGreaterThanOrEqual(20);
  });

  it('re-authenticates once when a service refuses a revoked token', async () => {
    await t.driver.hasVm({ vmId: randomUUID() });
    const before = t.fake.calls('createToken');
    t.fake.revokeTokens();
    expect(await t.driver.hasVm({ vmId: randomUUID() })).toBe(false);
    expect(t.fake.calls('createToken')).toBe(before + 1);
  });

  it('gives up with Unauthenticated when the fresh token is refused too', async () => {
    const refusal = { status: 401, message: 'The request you have made requires authentication.' };
    t.fake.failNext('showServer', refusal, 2);
    const error = await failure(t.driver.hasVm({ vmId: randomUUID() }));
    expect(error.code).toBe('Unauthenticated');
    expect(error.retryable).toBe(false);
  });
});

describe('Keystone credentials and expiry', () => {
  it("maps a wrong password to Unauthenticated with Keystone's message", async () => {
    const t = await startDriver({ credentials: { password: 'not-the-password' } });
    try {
      const error = await failure(t.driver.hasVm({ vmId: randomUUID() }));
      expect(error.code).toBe('Unauthenticated');
      expect(error.message).toContain('The request you have made requires authentication.');
    } finally {
      await t.stop();
    }
  });

  it('authenticates again before the token expires, without a refused call', async () => {
    const t = await startDriver({ tokenTtlMs: 300 });
    try {
      await t.driver.hasVm({ vmId: randomUUID() });
      await new Promise((resolve) => setTimeout(resolve, 300));
      await t.driver.hasVm({ vmId: randomUUID() });
      expect(t.fake.calls('createToken')).toBe(2);
      // Every showServer reached Nova with a live token: none was refused and sent again.
      expect(t.fake.calls('showServer')).toBe(2);
    } finally {
      await t.stop();
    }
  });

  it('refuses a credential that lacks a field, naming it', async () => {
    const t = await startDriver();
    try {
      const { default: plugin } = await import('../src/index.js');
      await t.host.credentials.set(
        { name: '/slipway/iaas/broken', type: 'json', value: { username: 'u', password: 'p' } },
        { actor: 'test' },
      );
      const error = await failure(plugin.create({ ...t.fake.config, credentials_ref: '/slipway/iaas/broken' }, t.host));
      expect(error.code).toBe('InvalidConfig');
      expect(error.message).toContain('user_domain_name, project_name, project_domain_name');
    } finally {
      await t.stop();
    }
  });
});

describe('VMs on Nova', () => {
  let t: DriverUnderTest;
  beforeAll(async () => {
    t = await startDriver();
  });
  afterEach(() => t.fake.faults.reset());
  afterAll(() => t.stop());

  it('creates a server with the settings as user data, the fixed IP, tags and metadata, and waits for ACTIVE', async () => {
    const input = vmInput();
    const requestId = randomUUID();
    const created = await t.driver.createVm(input, { requestId });
    const server = t.fake.state.servers.get(created.vmId)!;
    expect(server.status).toBe('ACTIVE');
    expect(JSON.parse(Buffer.from(server.userData!, 'base64').toString('utf8'))).toEqual(input.env);
    expect(server.networks).toEqual([{ uuid: t.fake.config.network_id, ip: input.network.ip }]);
    expect(server.metadata).toMatchObject({
      'slipway.cluster': 'c-1',
      'slipway.agent_id': input.agentId,
      'slipway.request_id': requestId,
    });
    expect(server.tags).toEqual([`slipway-request-${requestId}`]);
    expect(created).toMatchObject({ ip: input.network.ip, zone: 'nova' });
  });

  it('returns the same server for a repeated request id, even one too long for a Nova tag', async () => {
    const requestId = `task-42/step-create-vm/${'x'.repeat(60)}`;
    const input = vmInput();
    const first = await t.driver.createVm(input, { requestId });
    const second = await t.driver.createVm(input, { requestId });
    expect(second.vmId).toBe(first.vmId);
    expect(t.fake.state.servers.get(first.vmId)!.tags[0]).toMatch(/^slipway-request-[0-9a-f]{40}$/);
  });

  it('picks the smallest flavor that fits the resources, or the one the plan names', async () => {
    const fits = await t.driver.createVm(vmInput({ resources: { cpu: 2, memoryMb: 3000, ephemeralDiskMb: 30_000 } }));
    expect(t.fake.state.servers.get(fits.vmId)!.flavorId).toBe('3');
    const named = await t.driver.createVm(vmInput({ cloudProperties: { instance_type: 'm1.large' } }));
    expect(t.fake.state.servers.get(named.vmId)!.flavorId).toBe('4');
    const error = await failure(
      t.driver.createVm(vmInput({ resources: { cpu: 1, memoryMb: 512, ephemeralDiskMb: 0, instanceType: 'g9.huge' } })),
    );
    expect(error.code).toBe('VmCreationFailed');
    expect(error.message).toContain('m1.tiny');
  });

  it('reports a server that fails to build as capacity exhausted and deletes it', async () => {
    t.fake.failNextBuild();
    const input = vmInput();
    const error = await failure(t.driver.createVm(input, { requestId: randomUUID() }));
    expect(error.code).toBe('CapacityExhausted');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('No valid host was found');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(t.fake.state.liveServers().filter((s) => s.metadata['slipway.agent_id'] === input.agentId)).toEqual([]);
  });

  it("keeps a refused image's message and calls it VmCreationFailed", async () => {
    const error = await failure(t.driver.createVm(vmInput({ stemcellId: randomUUID() })));
    expect(error.code).toBe('VmCreationFailed');
    expect(error.message).toContain('Invalid imageRef provided.');
    expect(error.details).toMatchObject({
      service: 'compute',
      operation: 'createServer',
      status: 400,
      cloudCode: 'badRequest',
    });
  });

  it("turns Nova's overLimit into RateLimited with the Retry-After it sent", async () => {
    t.fake.failNext('createServer', {
      status: 413,
      kind: 'overLimit',
      message: 'This request was rate-limited.',
      retryAfter: 7,
    });
    const error = await failure(t.driver.createVm(vmInput()));
    expect(error.code).toBe('RateLimited');
    expect(error.retryAfterMs).toBe(7000);
  });

  it('hard-reboots and returns once the server is ACTIVE again', async () => {
    const { vmId } = await t.driver.createVm(vmInput());
    await t.driver.rebootVm!({ vmId });
    expect(t.fake.calls('rebootServer')).toBeGreaterThan(0);
    expect(t.fake.state.servers.get(vmId)!.status).toBe('ACTIVE');
  });

  it('merges metadata instead of replacing it', async () => {
    const { vmId } = await t.driver.createVm(vmInput(), { requestId: randomUUID() });
    await t.driver.setVmMetadata({ vmId, metadata: { 'slipway.instance': 'worker/3' } });
    expect(t.fake.state.servers.get(vmId)!.metadata).toMatchObject({
      'slipway.instance': 'worker/3',
      'slipway.cluster': 'c-1',
    });
    expect(t.fake.state.servers.get(vmId)!.metadata['slipway.request_id']).toBeDefined();
  });

  it('waits until a deleted server is gone, its volumes detached', async () => {
    const { vmId } = await t.driver.createVm(vmInput());
    const { diskId } = await t.driver.createDisk({ sizeMb: 1024, vmId });
    await t.driver.attachDisk({ vmId, diskId });
    await t.driver.deleteVm({ vmId });
    expect(await t.driver.hasVm({ vmId })).toBe(false);
    expect(t.fake.state.volumes.get(diskId)!.status).toBe('available');
    await t.driver.deleteDisk({ diskId });
  });

  it('lists only the servers and volumes carrying the tags', async () => {
    const mark = randomUUID();
    const { vmId } = await t.driver.createVm(vmInput({ metadata: { 'slipway.cluster': mark } }));
    const { diskId } = await t.driver.createDisk({ sizeMb: 1, metadata: { 'slipway.cluster': mark } });
    await t.driver.createVm(vmInput());
    const inventory = await t.driver.listResources!({ tags: { 'slipway.cluster': mark } });
    expect(inventory.vms.map((v) => v.vmId)).toEqual([vmId]);
    expect(inventory.disks.map((d) => d.diskId)).toEqual([diskId]);
    expect(inventory.disks[0]).toMatchObject({ sizeMb: 1024, metadata: { 'slipway.cluster': mark } });
  });

  it('stops polling at once when aborted while the server builds', async () => {
    const slow = await startDriver({ buildDelayMs: 10_000 });
    try {
      const controller = new AbortController();
      const call = slow.driver.createVm(vmInput(), { signal: controller.signal });
      await new Promise((resolve) => setTimeout(resolve, 100));
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

  it('calls an unreachable cloud Retryable', async () => {
    const gone = await startDriver();
    await gone.fake.stop();
    const error = await failure(gone.driver.hasVm({ vmId: randomUUID() }));
    expect(error.code).toBe('Retryable');
    expect(error.message).toContain('cannot reach');
    await gone.host.cleanup();
  });
});

describe('persistent disks on Cinder', () => {
  let t: DriverUnderTest;
  let vmId: string;
  beforeAll(async () => {
    t = await startDriver();
    vmId = (await t.driver.createVm(vmInput())).vmId;
  });
  afterEach(() => t.fake.faults.reset());
  afterAll(() => t.stop());

  it('rounds MiB up to whole GiB', async () => {
    const { diskId } = await t.driver.createDisk({ sizeMb: 1500 });
    expect(t.fake.state.volumes.get(diskId)!.size).toBe(2);
  });

  it('creates the disk in the zone of the VM it is meant for', async () => {
    const zoned = await startDriver({ zones: ['az-1', 'az-2'], config: { availability_zone: 'az-2' } });
    try {
      const vm = await zoned.driver.createVm(vmInput());
      expect(vm.zone).toBe('az-2');
      const { diskId } = await zoned.driver.createDisk({ sizeMb: 1024, vmId: vm.vmId });
      expect(zoned.fake.state.volumes.get(diskId)!.zone).toBe('az-2');
    } finally {
      await zoned.stop();
    }
  });

  it('returns the same volume for a repeated request id', async () => {
    const requestId = randomUUID();
    const first = await t.driver.createDisk({ sizeMb: 1024 }, { requestId });
    const second = await t.driver.createDisk({ sizeMb: 1024 }, { requestId });
    expect(second.diskId).toBe(first.diskId);
    expect(
      [...t.fake.state.volumes.values()].filter((v) => v.metadata['slipway.request_id'] === requestId),
    ).toHaveLength(1);
  });

  it('refuses to delete an attached volume with Conflict', async () => {
    const { diskId } = await t.driver.createDisk({ sizeMb: 1024, vmId });
    const { hint } = await t.driver.attachDisk({ vmId, diskId });
    expect(hint).toEqual({ kind: 'volumeId', volumeId: diskId });
    const error = await failure(t.driver.deleteDisk({ diskId }));
    expect(error.code).toBe('Conflict');
    await t.driver.detachDisk({ vmId, diskId });
    await t.driver.deleteDisk({ diskId });
    expect(await t.driver.hasDisk({ diskId })).toBe(false);
  });

  it('refuses to attach a volume that another server holds', async () => {
    const other = await t.driver.createVm(vmInput());
    const { diskId } = await t.driver.createDisk({ sizeMb: 1024 });
    await t.driver.attachDisk({ vmId: other.vmId, diskId });
    const error = await failure(t.driver.attachDisk({ vmId, diskId }));
    expect(error.code).toBe('Conflict');
    expect(error.message).toContain(other.vmId);
  });

  it('extends an attached volume in place (volume API 3.42+) and skips a resize that rounds to the same size', async () => {
    const { diskId } = await t.driver.createDisk({ sizeMb: 1024, vmId });
    await t.driver.attachDisk({ vmId, diskId });
    await t.driver.resizeDisk!({ diskId, sizeMb: 3000 });
    expect(t.fake.state.volumes.get(diskId)).toMatchObject({ size: 3, status: 'in-use' });
    const extends_ = t.fake.calls('extendVolume');
    await t.driver.resizeDisk!({ diskId, sizeMb: 2500 });
    expect(t.fake.calls('extendVolume')).toBe(extends_);
    const error = await failure(t.driver.resizeDisk!({ diskId, sizeMb: 1024 }));
    expect(error.code).toBe('InvalidInput');
  });

  it("maps Cinder's volume quota (413 overLimit) to QuotaExceeded, not RateLimited", async () => {
    t.fake.faults.setQuota({ disks: 0 });
    const error = await failure(t.driver.createDisk({ sizeMb: 1024 }));
    expect(error.code).toBe('QuotaExceeded');
    expect(error.message).toContain("exceeded for quota 'volumes'");
  });

  it('snapshots an attached volume and finds the snapshot again by request id', async () => {
    const { diskId } = await t.driver.createDisk({ sizeMb: 1024, vmId });
    await t.driver.attachDisk({ vmId, diskId });
    const requestId = randomUUID();
    const first = await t.driver.snapshotDisk!({ diskId, metadata: { 'slipway.cluster': 'c-1' } }, { requestId });
    const second = await t.driver.snapshotDisk!({ diskId }, { requestId });
    expect(second.snapshotId).toBe(first.snapshotId);
    expect(t.fake.state.snapshots.get(first.snapshotId)).toMatchObject({ status: 'available', volumeId: diskId });
    await t.driver.deleteSnapshot!({ snapshotId: first.snapshotId });
    expect(t.fake.state.snapshots.has(first.snapshotId)).toBe(false);
  });

  it('names no disks of a server that does not exist', async () => {
    const error = await failure(t.driver.getDisks({ vmId: randomUUID() }));
    expect(error.code).toBe('NotFound');
  });
});

describe('stemcells on Glance', () => {
  let t: DriverUnderTest;
  let dir: string;
  beforeAll(async () => {
    t = await startDriver();
    dir = await mkdtemp(join(tmpdir(), 'slipway-openstack-'));
  });
  afterAll(async () => {
    await t.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('uploads the image file, once per request id, and deletes it twice without complaint', async () => {
    const path = join(dir, 'root.qcow2');
    await writeFile(path, Buffer.alloc(256 * 1024, 7));
    const requestId = randomUUID();
    const { stemcellId } = await t.driver.createStemcell(
      { name: 'ubuntu-jammy', version: '1.2', imagePath: path },
      { requestId },
    );
    expect(t.fake.state.images.get(stemcellId)).toMatchObject({
      status: 'active',
      size: 256 * 1024,
      name: 'ubuntu-jammy/1.2',
      diskFormat: 'qcow2',
    });
    const again = await t.driver.createStemcell(
      { name: 'ubuntu-jammy', version: '1.2', imagePath: path },
      { requestId },
    );
    expect(again.stemcellId).toBe(stemcellId);
    expect(t.fake.calls('uploadBinaryImageData')).toBe(1);
    const { vmId } = await t.driver.createVm(vmInput({ stemcellId }));
    expect(t.fake.state.servers.get(vmId)!.imageId).toBe(stemcellId);
    await t.driver.deleteStemcell({ stemcellId });
    await t.driver.deleteStemcell({ stemcellId });
    expect(t.fake.state.images.has(stemcellId)).toBe(false);
  });

  it("registers a light stemcell by image id and never deletes the operator's image", async () => {
    const { stemcellId } = await t.driver.createStemcell({
      name: 'light',
      version: '1',
      cloudProperties: { image_id: FAKE_BASE_IMAGE_ID },
    });
    expect(stemcellId).toBe(`${FAKE_BASE_IMAGE_ID} light`);
    await t.driver.deleteStemcell({ stemcellId });
    expect(t.fake.state.images.get(FAKE_BASE_IMAGE_ID)?.status).toBe('active');
  });

  it('refuses a stemcell with neither an image file nor an image id', async () => {
    const error = await failure(t.driver.createStemcell({ name: 'nothing', version: '1' }));
    expect(error.code).toBe('InvalidInput');
    expect(error.field).toBe('imagePath');
  });

  it("reads Glance's HTML error pages", async () => {
    const message = t.fake.faults.permanentErrorNext('deleteStemcell') as string;
    const path = join(dir, 'other.qcow2');
    await writeFile(path, 'data');
    const { stemcellId } = await t.driver.createStemcell({ name: 'protected', version: '1', imagePath: path });
    const error = await failure(t.driver.deleteStemcell({ stemcellId }));
    expect(error.code).toBe('CloudError');
    expect(error.message).toContain(message);
    expect(error.message).not.toContain('<h1>');
  });
});
