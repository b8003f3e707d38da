import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clientToken } from '../src/index.js';
import { failure, startDriver, vmInput, type DriverUnderTest } from './helpers.js';

describe('persistent disks on EBS', () => {
  let t: DriverUnderTest;
  let vmId: string;
  beforeAll(async () => {
    t = await startDriver({
      config: {
        encrypted: true,
        kms_key_arn: 'arn:aws:kms:us-east-1:111122223333:key/slipway',
        default_tags: { team: 'platform' },
      },
    });
    vmId = (await t.driver.createVm(vmInput())).vmId;
  });
  afterEach(() => t.fake.faults.reset());
  afterAll(() => t.stop());

  it('creates an encrypted gp3 volume of whole GiB, rounded up, tagged, with a ClientToken', async () => {
    const requestId = randomUUID();
    const { diskId } = await t.driver.createDisk(
      { sizeMb: 1500, metadata: { 'slipway.cluster': 'c-1' } },
      { requestId },
    );
    const volume = t.fake.state.volumes.get(diskId)!;
    expect(volume).toMatchObject({
      size: 2,
      type: 'gp3',
      encrypted: true,
      kmsKeyId: 'arn:aws:kms:us-east-1:111122223333:key/slipway',
      state: 'available',
      clientToken: clientToken('disk', requestId, 0),
    });
    expect(Object.fromEntries(volume.tags)).toEqual({
      team: 'platform',
      'slipway.cluster': 'c-1',
      'slipway.request_id': requestId,
      'slipway.managed': 'true',
    });
  });

  it('returns the same volume for a repeated request id, one volume on EC2', async () => {
    const requestId = randomUUID();
    const first = await t.driver.createDisk({ sizeMb: 1024 }, { requestId });
    t.fake.failNext('CreateVolume', {
      code: 'InternalError',
      message: 'An internal error has occurred',
      lostAnswer: true,
    });
    expect((await failure(t.driver.createDisk({ sizeMb: 1024 }, { requestId }))).retryable).toBe(true);
    const second = await t.driver.createDisk({ sizeMb: 1024 }, { requestId });
    expect(second.diskId).toBe(first.diskId);
    expect(
      [...t.fake.state.volumes.values()].filter((v) => v.tags.get('slipway.request_id') === requestId),
    ).toHaveLength(1);
  });

  it("creates the disk in the zone of its VM, and else in the configured subnet's zone", async () => {
    const zoneB = [...t.fake.state.subnets.values()].find((s) => s.zone === 'us-east-1b')!;
    const vm = await t.driver.createVm(
      vmInput({
        network: { ip: '172.17.0.10' },
        zone: 'us-east-1b',
        cloudProperties: { subnet_id: zoneB.id },
      }),
    );
    expect(vm.zone).toBe('us-east-1b');
    const near = await t.driver.createDisk({ sizeMb: 1024, vmId: vm.vmId });
    expect(t.fake.state.volumes.get(near.diskId)!.zone).toBe('us-east-1b');
    const subnets = t.fake.calls('DescribeSubnets');
    const loose = await t.driver.createDisk({ sizeMb: 1024 });
    await t.driver.createDisk({ sizeMb: 1024 });
    expect(t.fake.state.volumes.get(loose.diskId)!.zone).toBe('us-east-1a');
    expect(t.fake.calls('DescribeSubnets') - subnets, "the subnet's zone is looked up once").toBeLessThanOrEqual(1);
  });

  it('attaches at the next free /dev/sd[f-p], hints the volume id and lists only persistent disks', async () => {
    const first = await t.driver.createDisk({ sizeMb: 1024, vmId });
    const second = await t.driver.createDisk({ sizeMb: 1024, vmId });
    expect(await t.driver.attachDisk({ vmId, diskId: first.diskId })).toEqual({
      hint: { kind: 'volumeId', volumeId: first.diskId },
    });
    await t.driver.attachDisk({ vmId, diskId: second.diskId });
    expect(t.fake.state.volumes.get(first.diskId)!.attachment).toMatchObject({ device: '/dev/sdf', state: 'attached' });
    expect(t.fake.state.volumes.get(second.diskId)!.attachment).toMatchObject({
      device: '/dev/sdg',
      state: 'attached',
    });
    expect((await t.driver.getDisks({ vmId })).sort()).toEqual([first.diskId, second.diskId].sort());
    await t.driver.detachDisk({ vmId, diskId: first.diskId });
    await t.driver.detachDisk({ vmId, diskId: second.diskId });
    expect(await t.driver.getDisks({ vmId })).toEqual([]);
  });

  it('refuses to delete an attached volume, and to attach a volume another instance holds', async () => {
    const other = await t.driver.createVm(vmInput());
    const { diskId } = await t.driver.createDisk({ sizeMb: 1024, vmId });
    await t.driver.attachDisk({ vmId: other.vmId, diskId });
    expect((await failure(t.driver.deleteDisk({ diskId }))).code).toBe('Conflict');
    const error = await failure(t.driver.attachDisk({ vmId, diskId }));
    expect(error.code).toBe('Conflict');
    expect(error.message).toContain(other.vmId);
    await t.driver.detachDisk({ vmId: other.vmId, diskId });
    await t.driver.deleteDisk({ diskId });
    expect(await t.driver.hasDisk({ diskId })).toBe(false);
    await t.driver.deleteDisk({ diskId });
  });

  it("keeps EC2's message when the volume is in another zone than the instance", async () => {
    const { diskId } = await t.driver.createDisk({ sizeMb: 1024, zone: 'us-east-1b' });
    const error = await failure(t.driver.attachDisk({ vmId, diskId }));
    expect(error.code).toBe('DiskError');
    expect(error.message).toContain(
      `InvalidVolume.ZoneMismatch: The volume '${diskId}' is not in the same availability zone as instance '${vmId}'`,
    );
  });

  it('grows an attached volume with ModifyVolume, skips a resize that rounds to the same size, refuses to shrink', async () => {
    const { diskId } = await t.driver.createDisk({ sizeMb: 1024, vmId });
    await t.driver.attachDisk({ vmId, diskId });
    await t.driver.resizeDisk!({ diskId, sizeMb: 3000 });
    expect(t.fake.state.volumes.get(diskId)).toMatchObject({ size: 3, state: 'in-use' });
    expect(t.fake.state.volumes.get(diskId)!.modification?.state).toMatch(/optimizing|completed/);
    const modifications = t.fake.calls('ModifyVolume');
    await t.driver.resizeDisk!({ diskId, sizeMb: 2500 });
    expect(t.fake.calls('ModifyVolume')).toBe(modifications);
    expect((await failure(t.driver.resizeDisk!({ diskId, sizeMb: 1024 }))).code).toBe('InvalidInput');
  });

  it('snapshots an attached volume, finds the snapshot again by request id, deletes it twice', async () => {
    const { diskId } = await t.driver.createDisk({ sizeMb: 1024, vmId });
    await t.driver.attachDisk({ vmId, diskId });
    const requestId = randomUUID();
    const first = await t.driver.snapshotDisk!({ diskId, metadata: { 'slipway.cluster': 'c-1' } }, { requestId });
    const creates = t.fake.calls('CreateSnapshot');
    const second = await t.driver.snapshotDisk!({ diskId }, { requestId });
    expect(second.snapshotId).toBe(first.snapshotId);
    expect(t.fake.calls('CreateSnapshot')).toBe(creates);
    const snapshot = t.fake.state.snapshots.get(first.snapshotId)!;
    expect(snapshot).toMatchObject({ state: 'completed', volumeId: diskId });
    expect(snapshot.tags.get('slipway.cluster')).toBe('c-1');
    await t.driver.deleteSnapshot!({ snapshotId: first.snapshotId });
    await t.driver.deleteSnapshot!({ snapshotId: first.snapshotId });
    expect(t.fake.state.snapshots.has(first.snapshotId)).toBe(false);
  });

  it('detaches a disk of a VM that is gone without complaint', async () => {
    const doomed = await t.driver.createVm(vmInput());
    const { diskId } = await t.driver.createDisk({ sizeMb: 1024, vmId: doomed.vmId });
    await t.driver.attachDisk({ vmId: doomed.vmId, diskId });
    await t.fake.faults.killVm(doomed.vmId);
    await t.driver.detachDisk({ vmId: doomed.vmId, diskId });
    expect(t.fake.state.volumes.get(diskId)!.state).toBe('available');
  });

  it('names no disks of an instance that does not exist', async () => {
    expect((await failure(t.driver.getDisks({ vmId: 'i-0123456789abcdef0' }))).code).toBe('NotFound');
  });
});
