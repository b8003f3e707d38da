import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { DiskHint } from '@slipway/contracts';
import type { ConformanceTest } from './conformance-test.js';

const HINT_KINDS: ReadonlyArray<DiskHint['kind']> = ['path', 'volumeId', 'lun', 'directory'];

export const diskTests: ConformanceTest[] = [
  {
    group: 'disk',
    name: 'creates, attaches, lists, detaches and deletes a disk',
    async run(ctx) {
      const { driver } = ctx.ready();
      const { vmId } = await ctx.createVm();
      const diskId = await ctx.createDisk({ vmId });
      expect(await driver.hasDisk({ diskId }), 'hasDisk after createDisk').toBe(true);
      const { hint } = await driver.attachDisk({ vmId, diskId });
      expect(HINT_KINDS, 'attachDisk returns a disk hint the agent understands').toContain(hint?.kind);
      expect(await driver.getDisks({ vmId }), 'getDisks lists the attached disk').toContain(diskId);
      await driver.attachDisk({ vmId, diskId });
      expect(await driver.getDisks({ vmId }), 'attaching an attached disk again changes nothing').toEqual([diskId]);
      await driver.detachDisk({ vmId, diskId });
      expect(await driver.getDisks({ vmId }), 'getDisks after detachDisk').not.toContain(diskId);
      await driver.deleteDisk({ diskId });
      expect(await driver.hasDisk({ diskId }), 'hasDisk after deleteDisk').toBe(false);
    },
  },
  {
    group: 'disk',
    name: 'the same requestId twice gives the same disk',
    async run(ctx) {
      const requestId = randomUUID();
      const first = await ctx.createDisk({ requestId });
      const second = await ctx.createDisk({ requestId });
      expect(second, 'a repeated createDisk (same requestId) must return the first disk').toBe(first);
    },
  },
  {
    group: 'disk',
    name: 'deleting a missing disk succeeds',
    async run(ctx) {
      const { driver } = ctx.ready();
      const diskId = await ctx.createDisk();
      await driver.deleteDisk({ diskId });
      await driver.deleteDisk({ diskId });
    },
  },
  {
    group: 'disk',
    name: 'detaching a disk that is not attached succeeds',
    async run(ctx) {
      const { driver } = ctx.ready();
      const { vmId } = await ctx.createVm();
      const diskId = await ctx.createDisk({ vmId });
      await driver.detachDisk({ vmId, diskId });
      expect(await driver.hasDisk({ diskId })).toBe(true);
    },
  },
  {
    group: 'disk',
    name: 'a disk survives VM deletion and reattaches to a new VM',
    async run(ctx) {
      const { driver } = ctx.ready();
      const first = await ctx.createVm();
      const diskId = await ctx.createDisk({ vmId: first.vmId });
      await driver.attachDisk({ vmId: first.vmId, diskId });
      await driver.deleteVm({ vmId: first.vmId });
      expect(await driver.hasDisk({ diskId }), 'a persistent disk outlives its VM').toBe(true);
      const second = await ctx.createVm();
      await driver.attachDisk({ vmId: second.vmId, diskId });
      expect(await driver.getDisks({ vmId: second.vmId }), 'the disk is attached to the new VM').toContain(diskId);
    },
  },
  {
    group: 'disk',
    name: 'resizes a disk',
    capability: 'disk.resize',
    async run(ctx) {
      const { driver } = ctx.ready();
      const diskId = await ctx.createDisk({ sizeMb: 1024 });
      await driver.resizeDisk!({ diskId, sizeMb: 2048 });
      expect(await driver.hasDisk({ diskId })).toBe(true);
      // A resize that did nothing must fail here: read the size back through the driver's own inventory, or
      // else from the fake's cloud. A driver offering neither cannot show that it resized anything.
      const { fake } = ctx.ready();
      let size: number | undefined;
      if (ctx.has('inventory')) {
        const inventory = await driver.listResources!({ tags: { 'slipway.conformance': ctx.runId } });
        size = inventory.disks.find((d) => d.diskId === diskId)?.sizeMb;
        expect(size, "listResources must report each disk's sizeMb, so a resize can be checked").toBeTypeOf('number');
      } else {
        expect(
          fake.inspect?.diskSizeMb,
          'without the inventory capability, the fake must offer inspect.diskSizeMb so the suite can read the new size',
        ).toBeTypeOf('function');
        size = await fake.inspect!.diskSizeMb!(diskId);
      }
      expect(size, 'the cloud holds the disk at its new size after resizeDisk').toBeGreaterThanOrEqual(2048);
    },
  },
  {
    group: 'disk',
    name: 'snapshot round-trip',
    capability: 'disk.snapshot',
    async run(ctx) {
      const { driver } = ctx.ready();
      const diskId = await ctx.createDisk();
      // A create verb: the engine sends an idempotency key with it, so a retried snapshot is the same snapshot.
      const { snapshotId } = await driver.snapshotDisk!(
        { diskId, metadata: { 'slipway.conformance': ctx.runId } },
        { requestId: randomUUID() },
      );
      ctx.trackSnapshot(snapshotId);
      expect(typeof snapshotId === 'string' && snapshotId.length > 0, 'snapshotDisk returns a snapshotId').toBe(true);
      await driver.deleteSnapshot!({ snapshotId });
      await driver.deleteSnapshot!({ snapshotId });
    },
  },
];
