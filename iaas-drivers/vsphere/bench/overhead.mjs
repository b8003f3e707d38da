// Per-call overhead of the vSphere driver against its zero-latency fake: no added latency, tasks that finish
// at once, polls 1 ms apart. What is left is the driver's work (SOAP envelopes, XML parsing, TLS, task
// polling) plus the fake's. Figures, not pass/fail.
//
//   npx tsc -b iaas-drivers/vsphere && node iaas-drivers/vsphere/bench/overhead.mjs [iterations]
import { randomUUID } from 'node:crypto';
import { createTestHost } from '@slipway/testkit/simulation';
import plugin from '../dist/src/index.js';
import { startFake } from '../dist/fake/index.js';

const iterations = Number(process.argv[2] ?? 200);
const fake = await startFake({ bootAgents: false, taskDelayMs: 0, cloneDelayMs: 0 });
const host = await createTestHost({ credentials: fake.credentials });
const driver = await plugin.create({ ...fake.config, poll_interval_ms: 1 }, host);

const requests = () =>
  [
    ...[
      'FindChild',
      'RetrievePropertiesEx',
      'CloneVM_Task',
      'ReconfigVM_Task',
      'PowerOnVM_Task',
      'PowerOffVM_Task',
      'Destroy_Task',
      'SetField',
      'CreateVirtualDisk_Task',
      'DeleteVirtualDisk_Task',
      'ExtendVirtualDisk_Task',
      'SearchDatastore_Task',
      'AddCustomFieldDef',
      'FindByInventoryPath',
      'Login',
      'RetrieveServiceContent',
      'MakeDirectory',
      'ResetVM_Task',
      'CreateSnapshot_Task',
      'MarkAsTemplate',
    ],
  ].reduce((sum, method) => sum + fake.calls(method), 0);

function env() {
  return {
    agentId: `agent-${randomUUID()}`,
    clusterId: 'bench',
    instanceId: 'worker-0',
    group: 'worker',
    index: 0,
    controlPlane: { url: 'https://127.0.0.1:9', caPem: 'CA' },
    bootstrap: { token: 'TOKEN', expiresAt: '2099-01-01T00:00:00.000Z' },
    network: { ip: '10.0.0.2' },
    heartbeatIntervalMs: 1000,
  };
}

async function measure(name, count, call) {
  const times = [];
  const before = requests();
  for (let i = 0; i < count; i++) {
    const started = process.hrtime.bigint();
    await call(i);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  times.sort((a, b) => a - b);
  const pick = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  const perCall = (requests() - before) / count;
  console.log(
    `${name.padEnd(16)} median ${pick(0.5).toFixed(2).padStart(7)} ms   p99 ${pick(0.99).toFixed(2).padStart(7)} ms   ${perCall.toFixed(1)} requests/call`,
  );
}

try {
  const { stemcellId } = await driver.createStemcell({ name: 'bench', version: '1' }, { requestId: 'bench' });
  // Warm up: session, inventory lookup, custom field definitions, the disk folder.
  const warm = await driver.createVm({
    agentId: 'w',
    stemcellId,
    resources: { cpu: 1, memoryMb: 512, ephemeralDiskMb: 0 },
    network: { ip: '10.0.0.2' },
    env: env(),
    metadata: { 'slipway.cluster': 'bench' },
  });
  await driver.createDisk({ sizeMb: 16 });
  await driver.deleteVm(warm);

  console.log(
    `vSphere driver against the zero-latency fake, ${iterations} calls per verb (createVm/deleteVm: ${Math.ceil(iterations / 4)})`,
  );
  await measure('hasVm', iterations, () => driver.hasVm({ vmId: 'slipway-vm-none' }));
  const vms = [];
  await measure('createVm', Math.ceil(iterations / 4), async () => {
    const e = env();
    vms.push(
      (
        await driver.createVm(
          {
            agentId: e.agentId,
            stemcellId,
            resources: { cpu: 1, memoryMb: 512, ephemeralDiskMb: 0 },
            network: e.network,
            env: e,
            metadata: { 'slipway.cluster': 'bench' },
          },
          { requestId: randomUUID() },
        )
      ).vmId,
    );
  });
  const vmId = vms[0];
  await measure('setVmMetadata', iterations, (i) =>
    driver.setVmMetadata({ vmId, metadata: { 'slipway.note': String(i) } }),
  );
  const disks = [];
  await measure('createDisk', iterations, async () => {
    disks.push((await driver.createDisk({ sizeMb: 16 })).diskId);
  });
  await measure('hasDisk', iterations, (i) => driver.hasDisk({ diskId: disks[i] }));
  await measure('attachDisk', 12, (i) => driver.attachDisk({ vmId, diskId: disks[i] }));
  await measure('getDisks', iterations, () => driver.getDisks({ vmId }));
  await measure('detachDisk', 12, (i) => driver.detachDisk({ vmId, diskId: disks[i] }));
  await measure('deleteDisk', iterations, (i) => driver.deleteDisk({ diskId: disks[i] }));
  await measure('deleteVm', vms.length, (i) => driver.deleteVm({ vmId: vms[i] }));
} finally {
  await driver.destroy();
  await fake.stop();
  await host.cleanup();
}
