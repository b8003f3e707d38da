import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { eventually, type ConformanceTest } from './conformance-test.js';

export const stemcellTests: ConformanceTest[] = [
  {
    group: 'stemcell',
    name: 'creates and deletes a stemcell',
    async run(ctx) {
      const { driver } = ctx.ready();
      const { stemcellId } = await driver.createStemcell(
        { name: 'slipway-conformance-extra', version: '2', cloudProperties: ctx.stemcellCloudProperties },
        { requestId: randomUUID() },
      );
      expect(typeof stemcellId === 'string' && stemcellId.length > 0, 'createStemcell returns a stemcellId').toBe(true);
      await driver.deleteStemcell({ stemcellId });
    },
  },
  {
    group: 'stemcell',
    name: 'deleting a stemcell twice succeeds',
    async run(ctx) {
      const { driver } = ctx.ready();
      const { stemcellId } = await driver.createStemcell(
        { name: 'slipway-conformance-twice', version: '3', cloudProperties: ctx.stemcellCloudProperties },
        { requestId: randomUUID() },
      );
      await driver.deleteStemcell({ stemcellId });
      await driver.deleteStemcell({ stemcellId });
    },
  },
  {
    group: 'stemcell',
    name: 'the same requestId twice gives the same stemcell',
    async run(ctx) {
      const { driver } = ctx.ready();
      const requestId = randomUUID();
      const input = { name: 'slipway-conformance-idem', version: '4', cloudProperties: ctx.stemcellCloudProperties };
      const first = await driver.createStemcell(input, { requestId });
      try {
        const second = await driver.createStemcell(input, { requestId });
        expect(second.stemcellId, 'a repeated createStemcell returns the first stemcell').toBe(first.stemcellId);
      } finally {
        await driver.deleteStemcell({ stemcellId: first.stemcellId });
      }
    },
  },
];

export const vmTests: ConformanceTest[] = [
  {
    group: 'vm',
    name: 'creates a VM that exists',
    async run(ctx) {
      const { vmId } = await ctx.createVm();
      expect(typeof vmId === 'string' && vmId.length > 0, 'createVm returns a vmId').toBe(true);
      expect(await ctx.ready().driver.hasVm({ vmId }), 'hasVm after createVm').toBe(true);
    },
  },
  {
    group: 'vm',
    name: 'the same requestId twice gives the same VM',
    async run(ctx) {
      const input = await ctx.vmInput();
      const requestId = randomUUID();
      const first = await ctx.createVm({ requestId }, input);
      const second = await ctx.createVm({ requestId }, input);
      expect(second.vmId, 'a repeated createVm (same requestId) must return the first VM, not a second one').toBe(
        first.vmId,
      );
    },
  },
  {
    group: 'vm',
    name: 'delivers the agent settings to the booted agent',
    timeoutMs: 20_000,
    async run(ctx) {
      const settings = await ctx.agentSettings();
      await ctx.createVm({}, await ctx.vmInput(settings));
      // The agent only reaches the recorder if the driver delivered `env` as user data and the fake's agent read it back.
      const heartbeat = await ctx.ready().recorder.waitForSync(settings.agentId, 10_000);
      expect(heartbeat.agentId).toBe(settings.agentId);
      expect(heartbeat.instanceId, 'the agent reports the instanceId of its settings').toBe(settings.instanceId);
    },
  },
  {
    group: 'vm',
    name: 'sets VM metadata',
    async run(ctx) {
      const { driver } = ctx.ready();
      const { vmId } = await ctx.createVm();
      await driver.setVmMetadata({ vmId, metadata: { 'slipway.conformance.note': 'set' } });
      await driver.setVmMetadata({ vmId, metadata: { 'slipway.conformance.note': 'set again' } });
      if (ctx.has('inventory')) {
        const inventory = await driver.listResources!({ tags: { 'slipway.conformance': ctx.runId } });
        const vm = inventory.vms.find((v) => v.vmId === vmId);
        expect(vm?.metadata, 'metadata is merged with the tags set at creation').toMatchObject({
          'slipway.conformance': ctx.runId,
          'slipway.conformance.note': 'set again',
        });
      }
    },
  },
  {
    group: 'vm',
    name: 'deletes a VM',
    async run(ctx) {
      const { driver } = ctx.ready();
      const { vmId } = await ctx.createVm();
      await driver.deleteVm({ vmId });
      expect(await driver.hasVm({ vmId }), 'hasVm after deleteVm').toBe(false);
    },
  },
  {
    group: 'vm',
    name: 'deleting a VM twice succeeds',
    async run(ctx) {
      const { driver } = ctx.ready();
      const { vmId } = await ctx.createVm();
      await driver.deleteVm({ vmId });
      await driver.deleteVm({ vmId });
    },
  },
  {
    group: 'vm',
    name: 'a VM killed behind our back stops existing',
    timeoutMs: 20_000,
    async run(ctx) {
      const { driver, fake } = ctx.ready();
      const { vmId } = await ctx.createVm();
      await fake.faults.killVm(vmId);
      await eventually(
        async () => !(await driver.hasVm({ vmId })),
        10_000,
        `hasVm(${vmId}) turning false after faults.killVm`,
      );
    },
  },
  {
    group: 'vm',
    name: 'reboots a VM',
    capability: 'vm.reboot',
    async run(ctx) {
      const { driver } = ctx.ready();
      const { vmId } = await ctx.createVm();
      await driver.rebootVm!({ vmId });
      expect(await driver.hasVm({ vmId }), 'a rebooted VM still exists').toBe(true);
    },
  },
  {
    group: 'vm',
    name: 'inventory lists what was created',
    capability: 'inventory',
    async run(ctx) {
      const { driver } = ctx.ready();
      const { vmId } = await ctx.createVm();
      const diskId = await ctx.createDisk({ vmId });
      const inventory = await driver.listResources!({ tags: { 'slipway.conformance': ctx.runId } });
      expect(
        inventory.vms.map((v) => v.vmId),
        'listResources finds the VM by its tags',
      ).toContain(vmId);
      expect(
        inventory.disks.map((d) => d.diskId),
        'listResources finds the disk by its tags',
      ).toContain(diskId);
      const other = await driver.listResources!({ tags: { 'slipway.conformance': `not-${ctx.runId}` } });
      expect(
        other.vms.map((v) => v.vmId),
        'listResources filters by tags',
      ).not.toContain(vmId);
    },
  },
];
