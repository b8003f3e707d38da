import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeAgentSettings } from '@slipway/contracts';
import { FAKE_BASE_IMAGE, FAKE_BASE_IMAGE_FAMILY, FAKE_STEMCELL_OBJECT } from '../fake/index.js';
import { SETTINGS_ATTRIBUTE } from '../src/metadata.js';
import { failure, placeholderSettings, startDriver, vmInput, type DriverUnderTest } from './helpers.js';

const ZONE_EXHAUSTED =
  "The zone 'projects/slipway-fake/zones/us-central1-a' does not have enough resources available to fulfill the request.  Try a different zone, or try again later.";

describe('VMs on Compute Engine instances', () => {
  let t: DriverUnderTest;
  beforeAll(async () => {
    t = await startDriver();
  });
  afterEach(() => t.fake.faults.reset());
  afterAll(() => t.stop());

  it('inserts an instance with the settings as metadata, escaped labels, the IP, and the smallest machine that fits', async () => {
    const env = placeholderSettings();
    const requestId = randomUUID();
    const created = await t.driver.createVm(
      vmInput(t, { metadata: { 'slipway.cluster': 'c-1', 'slipway.instance': 'worker/3' } }, env),
      { requestId },
    );
    expect(created).toEqual({
      vmId: expect.stringMatching(/^us-central1-a\/slipway-vm-[0-9a-f]{16}$/),
      zone: 'us-central1-a',
      ip: env.network.ip,
    });
    const instance = t.fake.state.instances.get(created.vmId)!;
    expect(instance.status).toBe('RUNNING');
    expect(instance.machineType).toBe('e2-micro');
    expect(instance.networkIP).toBe(env.network.ip);
    expect(decodeAgentSettings(instance.metadataItems.find((i) => i.key === SETTINGS_ATTRIBUTE)!.value)).toEqual(env);
    expect(instance.labels).toMatchObject({
      slipway_2ecluster: 'c-1',
      slipway_2einstance: 'worker_2f3',
      slipway_2eagent_5fid: env.agentId,
      slipway_2erequest_5fid: requestId,
    });
    // The boot disk holds the image (10 GB) plus the plan's ephemeral space (1 GiB).
    expect(t.fake.state.disks.get(created.vmId)).toMatchObject({ sizeGb: 11, status: 'READY' });
  });

  it('takes the machine type the plan names, or the smallest of the series with the cpu and memory', async () => {
    const big = await t.driver.createVm(vmInput(t, { resources: { cpu: 4, memoryMb: 8000, ephemeralDiskMb: 0 } }));
    expect(t.fake.state.instances.get(big.vmId)!.machineType).toBe('e2-standard-4');
    const named = await t.driver.createVm(
      vmInput(t, { resources: { cpu: 1, memoryMb: 512, ephemeralDiskMb: 0, instanceType: 'n2-standard-2' } }),
    );
    expect(t.fake.state.instances.get(named.vmId)!.machineType).toBe('n2-standard-2');
    expect(t.fake.calls('machineTypes.list')).toBe(1);
  });

  it("keeps Google's message for a machine type that does not exist, as VmCreationFailed", async () => {
    const error = await failure(
      t.driver.createVm(
        vmInput(t, { resources: { cpu: 1, memoryMb: 512, ephemeralDiskMb: 0, instanceType: 'e2-imaginary-64' } }),
      ),
    );
    expect(error.code).toBe('VmCreationFailed');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("Machine type with name 'e2-imaginary-64' does not exist in zone 'us-central1-a'.");
    expect(error.details).toMatchObject({
      api: 'compute',
      method: 'instances.insert',
      status: 400,
      cloudCode: 'invalid',
    });
  });

  it('sends the same requestId for a repeated request and GCE answers with the first operation', async () => {
    const requestId = randomUUID();
    const input = vmInput(t);
    const inserts = t.fake.calls('instances.insert');
    const first = await t.driver.createVm(input, { requestId });
    const second = await t.driver.createVm(input, { requestId });
    expect(second.vmId).toBe(first.vmId);
    expect(t.fake.calls('instances.insert') - inserts).toBe(2);
    expect(
      [...t.fake.state.instances.values()].filter((i) => i.labels.slipway_2eagent_5fid === input.agentId),
    ).toHaveLength(1);
  });

  it("surfaces a failed insert operation with Google's error, then the same requestId creates the VM", async () => {
    const requestId = randomUUID();
    const input = vmInput(t);
    t.fake.failNextOperation('instances.insert', {
      code: 'ZONE_RESOURCE_POOL_EXHAUSTED',
      message: ZONE_EXHAUSTED,
      httpStatus: 503,
    });
    const error = await failure(t.driver.createVm(input, { requestId }));
    expect(error.code).toBe('CapacityExhausted');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain(`ZONE_RESOURCE_POOL_EXHAUSTED: ${ZONE_EXHAUSTED}`);
    expect(error.details).toMatchObject({
      method: 'instances.insert',
      cloudCode: 'ZONE_RESOURCE_POOL_EXHAUSTED',
      status: 503,
    });
    // GCE answers that requestId with the failed operation for an hour; the retry must not get the failure back.
    const created = await t.driver.createVm(input, { requestId });
    expect(await t.driver.hasVm({ vmId: created.vmId })).toBe(true);
  });

  it('deletes the instance a failed insert left behind', async () => {
    const requestId = randomUUID();
    t.fake.failNextOperation('instances.insert', {
      code: 'INTERNAL_ERROR',
      message: 'Internal error. Please try again or contact Google Support.',
      httpStatus: 500,
      leavesInstance: true,
    });
    const error = await failure(t.driver.createVm(vmInput(t), { requestId }));
    expect(error).toMatchObject({ code: 'Retryable', retryable: true });
    const leftovers = [...t.fake.state.instances.values()].filter((i) => i.labels.slipway_2erequest_5fid === requestId);
    expect(leftovers).toEqual([]);
    expect(t.fake.calls('instances.delete')).toBeGreaterThan(0);
  });

  it("maps an exhausted instance quota in the operation to QuotaExceeded with Google's message", async () => {
    t.fake.faults.setQuota({ vms: 0 });
    const error = await failure(t.driver.createVm(vmInput(t)));
    expect(error.code).toBe('QuotaExceeded');
    expect(error.message).toContain("QUOTA_EXCEEDED: Quota 'INSTANCES' exceeded.");
  });

  it('maps rate limits (429, and 403 rateLimitExceeded) to RateLimited, 403 quotaExceeded to QuotaExceeded', async () => {
    t.fake.failNext('instances.insert', {
      status: 403,
      reason: 'rateLimitExceeded',
      domain: 'usageLimits',
      message: 'Rate Limit Exceeded',
      retryAfter: 7,
    });
    const limited = await failure(t.driver.createVm(vmInput(t)));
    expect(limited).toMatchObject({ code: 'RateLimited', retryable: true, retryAfterMs: 7000 });
    expect(limited.message).toContain('Rate Limit Exceeded');
    t.fake.faults.throttleNext('createVm');
    expect((await failure(t.driver.createVm(vmInput(t)))).code).toBe('RateLimited');
    t.fake.failNext('instances.insert', {
      status: 403,
      reason: 'quotaExceeded',
      domain: 'usageLimits',
      message: "Quota 'CPUS' exceeded.  Limit: 24.0 in region us-central1.",
    });
    const quota = await failure(t.driver.createVm(vmInput(t)));
    expect(quota.code).toBe('QuotaExceeded');
    expect(quota.message).toContain("Quota 'CPUS' exceeded.");
  });

  it('calls a 503 backendError while waiting for the operation Retryable; the retry finds the same VM', async () => {
    const requestId = randomUUID();
    const input = vmInput(t);
    t.fake.failNext('zoneOperations.wait', {
      status: 503,
      reason: 'backendError',
      message: 'Internal error. Please try again or contact Google Support.',
    });
    const error = await failure(t.driver.createVm(input, { requestId }));
    expect(error.code).toBe('Retryable');
    expect(error.message).toContain('zoneOperations.wait: 503 backendError: Internal error.');
    const { vmId } = await t.driver.createVm(input, { requestId });
    expect(
      [...t.fake.state.instances.values()]
        .filter((i) => i.labels.slipway_2eagent_5fid === input.agentId)
        .map((i) => `${i.zone}/${i.name}`),
    ).toEqual([vmId]);
  });

  it('returns only once the zone operation is DONE, following it with zoneOperations.wait', async () => {
    const slow = await startDriver({ buildDelayMs: 400 });
    try {
      const started = Date.now();
      const waits = slow.fake.calls('zoneOperations.wait');
      const { vmId } = await slow.driver.createVm(vmInput(slow));
      expect(Date.now() - started).toBeGreaterThanOrEqual(350);
      expect(slow.fake.state.instances.get(vmId)!.status).toBe('RUNNING');
      // One long-polled wait per operation, not a polling loop.
      expect(slow.fake.calls('zoneOperations.wait') - waits).toBe(1);
    } finally {
      await slow.stop();
    }
  });

  it('stops waiting for the operation at once when aborted', async () => {
    const slow = await startDriver({ buildDelayMs: 10_000 });
    try {
      const controller = new AbortController();
      const call = slow.driver.createVm(vmInput(slow), { signal: controller.signal });
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(slow.fake.state.instances.size).toBe(1);
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

  it('merges labels with the fingerprint it read; a concurrent change is a retryable Conflict', async () => {
    const { vmId } = await t.driver.createVm(vmInput(t));
    await t.driver.setVmMetadata({ vmId, metadata: { 'slipway.instance': 'master/0' } });
    expect(t.fake.state.instances.get(vmId)!.labels).toMatchObject({
      slipway_2ecluster: 'c-1',
      slipway_2einstance: 'master_2f0',
    });
    t.fake.failNext('instances.setLabels', {
      status: 412,
      reason: 'conditionNotMet',
      message: 'Labels fingerprint either invalid or resource labels have changed',
    });
    const error = await failure(t.driver.setVmMetadata({ vmId, metadata: { 'slipway.instance': 'master/1' } }));
    expect(error).toMatchObject({ code: 'Conflict', retryable: true });
    expect(error.message).toContain('Labels fingerprint either invalid or resource labels have changed');
  });

  it("reads back any metadata through GCE's label rules, and filters on it", async () => {
    const odd = {
      'slipway.cluster': 'c-1',
      'Slipway.Odd Key_1': 'Ünïcode Välue / 42',
      'slipway.long': 'x'.repeat(100),
      'slipway.mark': randomUUID(),
    };
    const { vmId } = await t.driver.createVm(vmInput(t, { metadata: odd }));
    for (const [key, value] of Object.entries(t.fake.state.instances.get(vmId)!.labels)) {
      expect(key).toMatch(/^[a-z][a-z0-9_-]{0,62}$/);
      expect(value).toMatch(/^[a-z0-9_-]{0,63}$/);
    }
    const inventory = await t.driver.listResources!({
      tags: { 'slipway.mark': odd['slipway.mark'], 'Slipway.Odd Key_1': odd['Slipway.Odd Key_1'] },
    });
    expect(inventory.vms.map((v) => v.vmId)).toEqual([vmId]);
    expect(inventory.vms[0]!.metadata).toMatchObject({ ...odd, 'slipway.long': `${'x'.repeat(53)}…` });
    const byLong = await t.driver.listResources!({ tags: { 'slipway.long': 'x'.repeat(100) } });
    expect(byLong.vms.map((v) => v.vmId)).toContain(vmId);
  });

  it('lists VMs and disks of every zone by their labels, through aggregated lists', async () => {
    const mark = randomUUID();
    const a = await t.driver.createVm(vmInput(t, { metadata: { 'slipway.cluster': mark } }));
    const b = await t.driver.createVm(vmInput(t, { zone: 'us-central1-c', metadata: { 'slipway.cluster': mark } }));
    const { diskId } = await t.driver.createDisk({ sizeMb: 1024, vmId: b.vmId, metadata: { 'slipway.cluster': mark } });
    await t.driver.createVm(vmInput(t));
    const inventory = await t.driver.listResources!({ tags: { 'slipway.cluster': mark } });
    expect(inventory.vms.map((v) => v.vmId).sort()).toEqual([a.vmId, b.vmId].sort());
    expect(inventory.vms.every((v) => v.state === 'RUNNING')).toBe(true);
    expect(inventory.disks).toEqual([{ diskId, metadata: { 'slipway.cluster': mark }, sizeMb: 10 * 1024 }]);
  });

  it('counts a TERMINATED instance as gone and hands its disk to the replacement VM', async () => {
    const dead = await t.driver.createVm(vmInput(t));
    const { diskId } = await t.driver.createDisk({ sizeMb: 1024, vmId: dead.vmId });
    await t.driver.attachDisk({ vmId: dead.vmId, diskId });
    await t.fake.faults.killVm(dead.vmId);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(t.fake.state.instances.get(dead.vmId)!.status).toBe('TERMINATED');
    expect(await t.driver.hasVm({ vmId: dead.vmId })).toBe(false);
    const replacement = await t.driver.createVm(vmInput(t));
    await t.driver.attachDisk({ vmId: replacement.vmId, diskId });
    expect(await t.driver.getDisks({ vmId: replacement.vmId })).toEqual([diskId]);
    expect(await t.driver.getDisks({ vmId: dead.vmId })).toEqual([]);
    await t.driver.deleteVm({ vmId: dead.vmId });
    expect(t.fake.state.instances.has(dead.vmId)).toBe(false);
  });

  it('refuses ids it did not make, and calls an unreachable endpoint Retryable', async () => {
    expect((await failure(t.driver.hasVm({ vmId: 'i-0123456789' }))).code).toBe('InvalidInput');
    const gone = await startDriver();
    await gone.fake.stop();
    const error = await failure(gone.driver.hasVm({ vmId: 'us-central1-a/slipway-vm-0' }));
    expect(error.code).toBe('Retryable');
    expect(error.message).toContain('cannot reach');
    await gone.host.cleanup();
  });
});

describe('persistent disks', () => {
  let t: DriverUnderTest;
  let vmId: string;
  beforeAll(async () => {
    t = await startDriver();
    vmId = (await t.driver.createVm(vmInput(t))).vmId;
  });
  afterEach(() => t.fake.faults.reset());
  afterAll(() => t.stop());

  it("rounds MiB up to whole GB, never below the disk type's 10 GB minimum", async () => {
    const small = await t.driver.createDisk({ sizeMb: 1500 });
    expect(t.fake.state.disks.get(small.diskId)).toMatchObject({ sizeGb: 10, type: 'pd-balanced', status: 'READY' });
    const large = await t.driver.createDisk({ sizeMb: 20_000, cloudProperties: { type: 'pd-ssd' } });
    expect(t.fake.state.disks.get(large.diskId)).toMatchObject({ sizeGb: 20, type: 'pd-ssd' });
  });

  it('creates the disk in the zone of the VM it is meant for', async () => {
    const vm = await t.driver.createVm(vmInput(t, { zone: 'us-central1-b' }));
    const { diskId } = await t.driver.createDisk({ sizeMb: 1024, vmId: vm.vmId });
    expect(diskId).toMatch(/^us-central1-b\//);
    expect(t.fake.state.disks.get(diskId)!.zone).toBe('us-central1-b');
  });

  it("returns the same disk for a repeated request id, even after GCE's requestId window", async () => {
    const forgetful = await startDriver({ requestIdRetentionMs: 0 });
    try {
      const requestId = randomUUID();
      const first = await forgetful.driver.createDisk({ sizeMb: 1024 }, { requestId });
      const second = await forgetful.driver.createDisk({ sizeMb: 1024 }, { requestId });
      expect(second.diskId).toBe(first.diskId);
      expect(forgetful.fake.calls('disks.insert')).toBe(2);
      expect(forgetful.fake.state.persistentDisks()).toHaveLength(1);
    } finally {
      await forgetful.stop();
    }
  });

  it('attaches with a by-id hint; a disk held by a running VM is a Conflict, and so is deleting it', async () => {
    const { diskId } = await t.driver.createDisk({ sizeMb: 1024, vmId });
    const { hint } = await t.driver.attachDisk({ vmId, diskId });
    expect(hint).toEqual({ kind: 'path', path: `/dev/disk/by-id/google-${diskId.split('/')[1]}` });
    const other = await t.driver.createVm(vmInput(t));
    const taken = await failure(t.driver.attachDisk({ vmId: other.vmId, diskId }));
    expect(taken.code).toBe('Conflict');
    expect(taken.message).toContain(vmId);
    const busy = await failure(t.driver.deleteDisk({ diskId }));
    expect(busy.code).toBe('Conflict');
    expect(busy.message).toContain('is already being used by');
    await t.driver.detachDisk({ vmId, diskId });
    await t.driver.deleteDisk({ diskId });
    expect(await t.driver.hasDisk({ diskId })).toBe(false);
  });

  it('finishes an attach that is still running when the same attach comes again', async () => {
    const slow = await startDriver({ transitionDelayMs: 300 });
    try {
      const vm = await slow.driver.createVm(vmInput(slow));
      const { diskId } = await slow.driver.createDisk({ sizeMb: 1024, vmId: vm.vmId });
      slow.fake.failNext('zoneOperations.wait', { status: 503, reason: 'backendError', message: 'Internal error.' });
      expect((await failure(slow.driver.attachDisk({ vmId: vm.vmId, diskId }))).code).toBe('Retryable');
      // GCE refuses the second attach (the disk is being attached); the driver waits for the first instead.
      await slow.driver.attachDisk({ vmId: vm.vmId, diskId });
      expect(slow.fake.calls('instances.attachDisk')).toBe(2);
      expect(slow.fake.calls('zoneOperations.list')).toBe(1);
      expect(await slow.driver.getDisks({ vmId: vm.vmId })).toEqual([diskId]);
    } finally {
      await slow.stop();
    }
  });

  it('resizes in place, skips a size it has, and refuses to shrink', async () => {
    const { diskId } = await t.driver.createDisk({ sizeMb: 20 * 1024, vmId });
    await t.driver.attachDisk({ vmId, diskId });
    await t.driver.resizeDisk!({ diskId, sizeMb: 30_000 });
    expect(t.fake.state.disks.get(diskId)!.sizeGb).toBe(30);
    const resizes = t.fake.calls('disks.resize');
    await t.driver.resizeDisk!({ diskId, sizeMb: 29_800 });
    expect(t.fake.calls('disks.resize')).toBe(resizes);
    expect((await failure(t.driver.resizeDisk!({ diskId, sizeMb: 10_240 }))).code).toBe('InvalidInput');
  });

  it('snapshots with disks.createSnapshot, once per request id, and deletes with snapshots.delete', async () => {
    const { diskId } = await t.driver.createDisk({ sizeMb: 1024, vmId });
    await t.driver.attachDisk({ vmId, diskId });
    const requestId = randomUUID();
    const first = await t.driver.snapshotDisk!({ diskId, metadata: { 'slipway.cluster': 'c-1' } }, { requestId });
    const second = await t.driver.snapshotDisk!({ diskId }, { requestId });
    expect(second.snapshotId).toBe(first.snapshotId);
    expect(t.fake.state.snapshots.get(first.snapshotId)).toMatchObject({
      status: 'READY',
      sourceDisk: { name: diskId.split('/')[1] },
      labels: { slipway_2ecluster: 'c-1' },
    });
    await t.driver.deleteSnapshot!({ snapshotId: first.snapshotId });
    await t.driver.deleteSnapshot!({ snapshotId: first.snapshotId });
    expect(t.fake.state.snapshots.has(first.snapshotId)).toBe(false);
    expect(t.fake.calls('globalOperations.wait')).toBeGreaterThan(0);
  });

  it("keeps Google's words when a disk operation fails", async () => {
    t.fake.failNextOperation('disks.insert', {
      code: 'QUOTA_EXCEEDED',
      message: "Quota 'SSD_TOTAL_GB' exceeded.  Limit: 500.0 in region us-central1.",
      httpStatus: 403,
    });
    const quota = await failure(t.driver.createDisk({ sizeMb: 1024 }));
    expect(quota.code).toBe('QuotaExceeded');
    expect(quota.message).toContain("Quota 'SSD_TOTAL_GB' exceeded.");
    t.fake.failNext('disks.insert', {
      status: 400,
      reason: 'invalid',
      message: "Invalid value for field 'resource.type': 'pd-imaginary'.",
    });
    const refused = await failure(t.driver.createDisk({ sizeMb: 1024 }));
    expect(refused.code).toBe('DiskError');
    expect(refused.message).toContain("Invalid value for field 'resource.type'");
  });
});

describe('stemcells as images', () => {
  let t: DriverUnderTest;
  beforeAll(async () => {
    t = await startDriver();
  });
  afterAll(() => t.stop());

  it('copies the configured source image with images.insert, once per request id, and boots VMs from it', async () => {
    const requestId = randomUUID();
    const inserts = t.fake.calls('images.insert');
    const { stemcellId } = await t.driver.createStemcell({ name: 'ubuntu-jammy', version: '1.2' }, { requestId });
    expect(stemcellId).toMatch(/^slipway-ubuntu-jammy-1-2-[0-9a-f]{16}$/);
    expect(t.fake.state.images.get(`${t.fake.project}/${stemcellId}`)).toMatchObject({
      status: 'READY',
      sourceImage: FAKE_BASE_IMAGE,
    });
    const again = await t.driver.createStemcell({ name: 'ubuntu-jammy', version: '1.2' }, { requestId });
    expect(again.stemcellId).toBe(stemcellId);
    expect(t.fake.calls('images.insert') - inserts).toBe(2);
    const { vmId } = await t.driver.createVm(vmInput({ stemcellId }));
    expect(t.fake.state.disks.get(vmId)!.sourceImage).toBe(`projects/${t.fake.project}/global/images/${stemcellId}`);
    await t.driver.deleteVm({ vmId });
    await t.driver.deleteStemcell({ stemcellId });
    await t.driver.deleteStemcell({ stemcellId });
    expect(t.fake.state.images.has(`${t.fake.project}/${stemcellId}`)).toBe(false);
  });

  it('imports a stemcell tarball from Cloud Storage, and refuses a local file with what to do', async () => {
    const { stemcellId } = await t.driver.createStemcell({
      name: 'bosh-google',
      version: '1.0',
      imagePath: FAKE_STEMCELL_OBJECT,
    });
    expect(t.fake.state.images.get(`${t.fake.project}/${stemcellId}`)).toMatchObject({
      status: 'READY',
      rawDiskSource: expect.stringMatching(/^https:\/\/storage\.googleapis\.com\/slipway-fake-stemcells\//),
    });
    const local = await failure(
      t.driver.createStemcell({ name: 'local', version: '1', imagePath: '/tmp/stemcell.tgz' }),
    );
    expect(local).toMatchObject({ code: 'InvalidInput', field: 'imagePath' });
    expect(local.hint).toContain('gcloud storage cp');
  });

  it("registers a light stemcell (an image or a family) and never deletes the operator's image", async () => {
    const { stemcellId } = await t.driver.createStemcell({
      name: 'light',
      version: '1',
      cloudProperties: { image: FAKE_BASE_IMAGE_FAMILY },
    });
    expect(stemcellId).toBe(`${FAKE_BASE_IMAGE_FAMILY} light`);
    const { vmId } = await t.driver.createVm(vmInput({ stemcellId }));
    expect(t.fake.state.disks.get(vmId)!.sourceImage).toBe(FAKE_BASE_IMAGE);
    await t.driver.deleteStemcell({ stemcellId });
    expect([...t.fake.state.images.values()].filter((i) => i.project === 'slipway-fake-images')).toHaveLength(2);
    const missing = await failure(
      t.driver.createStemcell({
        name: 'light',
        version: '2',
        cloudProperties: { image: 'projects/slipway-fake-images/global/images/nope' },
      }),
    );
    expect(missing.code).toBe('CloudError');
    expect(missing.message).toContain('does not exist');
  });

  it("keeps Google's message when the image operation fails", async () => {
    t.fake.failNextOperation('images.insert', {
      code: 'INVALID_USAGE',
      message: 'The source image is deprecated and cannot be copied.',
      httpStatus: 400,
    });
    const error = await failure(t.driver.createStemcell({ name: 'x', version: '1' }, { requestId: randomUUID() }));
    expect(error.code).toBe('CloudError');
    expect(error.message).toContain('INVALID_USAGE: The source image is deprecated and cannot be copied.');
  });
});
