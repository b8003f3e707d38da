import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeAgentSettings } from '@slipway/contracts';
import { AgentChannelRecorder } from '@slipway/testkit/simulation';
import plugin from '../src/index.js';
import { FAKE_STEMCELL_BLOB } from '../fake/index.js';
import { armRequest, failure, groupPath, startDriver, stemcell, vmInput, type DriverUnderTest } from './helpers.js';

describe('Entra ID token', () => {
  let t: DriverUnderTest;
  beforeAll(async () => {
    t = await startDriver();
  });
  afterAll(() => t.stop());

  it('fetches one client-credentials token and shares it between concurrent calls', async () => {
    const before = t.fake.calls('Token_Request');
    await Promise.all(Array.from({ length: 20 }, () => t.driver.hasVm({ vmId: `vm-${randomUUID()}` })));
    expect(t.fake.calls('Token_Request') - before).toBe(1);
    expect(t.fake.calls('VirtualMachines_Get')).toBeGreaterThanOrEqual(20);
  });

  it('fetches a new token once when ARM refuses a revoked one with InvalidAuthenticationToken', async () => {
    await t.driver.hasVm({ vmId: 'warm-up' });
    const before = t.fake.calls('Token_Request');
    t.fake.revokeTokens();
    expect(await t.driver.hasVm({ vmId: `vm-${randomUUID()}` })).toBe(false);
    expect(t.fake.calls('Token_Request')).toBe(before + 1);
  });

  it("gives up with Unauthenticated, keeping ARM's message, when the fresh token is refused too", async () => {
    t.fake.failNext(
      'VirtualMachines_Get',
      { status: 401, code: 'InvalidAuthenticationToken', message: 'The access token is invalid.' },
      2,
    );
    const error = await failure(t.driver.hasVm({ vmId: 'any' }));
    expect(error.code).toBe('Unauthenticated');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('InvalidAuthenticationToken: The access token is invalid.');
  });
});

describe('Entra ID credentials and expiry', () => {
  it("maps a wrong client secret to Unauthenticated with Entra's AADSTS7000215 text, and never reaches ARM", async () => {
    const t = await startDriver({ credentials: { client_secret: 'not-the-secret' } });
    try {
      const error = await failure(t.driver.hasVm({ vmId: 'any' }));
      expect(error.code).toBe('Unauthenticated');
      expect(error.message).toContain('401 invalid_client: AADSTS7000215: Invalid client secret provided.');
      expect(error.message).not.toContain('Trace ID');
      expect(error.details).toMatchObject({ cloudCode: 'invalid_client', errorCodes: [7000215] });
      expect(t.fake.calls('VirtualMachines_Get')).toBe(0);
    } finally {
      await t.stop();
    }
  });

  it('names an unknown tenant the way Entra does', async () => {
    const t = await startDriver({ credentials: { tenant_id: randomUUID() } });
    try {
      const error = await failure(t.driver.hasVm({ vmId: 'any' }));
      expect(error.code).toBe('Unauthenticated');
      expect(error.message).toMatch(/AADSTS90002: Tenant '[0-9a-f-]+' not found/);
    } finally {
      await t.stop();
    }
  });

  it('fetches the next token before the current one expires, so no call is refused', async () => {
    const t = await startDriver({ tokenTtlMs: 2_000 });
    try {
      await t.driver.hasVm({ vmId: 'a' });
      await new Promise((resolve) => setTimeout(resolve, 1_850));
      await t.driver.hasVm({ vmId: 'b' });
      expect(t.fake.calls('Token_Request')).toBe(2);
      // Both reads reached ARM once each: none was refused and sent again.
      expect(t.fake.calls('VirtualMachines_Get')).toBe(2);
    } finally {
      await t.stop();
    }
  });

  it('refuses a credential that lacks a field, naming it', async () => {
    const t = await startDriver();
    try {
      await t.host.credentials.set(
        { name: '/slipway/iaas/broken', type: 'json', value: { tenant_id: 't' } },
        { actor: 'test' },
      );
      const error = await failure(plugin.create({ ...t.fake.config, credentials_ref: '/slipway/iaas/broken' }, t.host));
      expect(error.code).toBe('InvalidConfig');
      expect(error.message).toContain('client_id, client_secret');
    } finally {
      await t.stop();
    }
  });
});

describe('TLS and endpoints', () => {
  it("refuses the fake's certificate without ca_cert, naming ca_cert", async () => {
    const t = await startDriver({ config: { ca_cert: undefined } });
    try {
      const error = await failure(t.driver.hasVm({ vmId: 'any' }));
      expect(error.code).toBe('InvalidConfig');
      expect(error.field).toBe('ca_cert');
      expect(error.message).toContain('not trusted');
    } finally {
      await t.stop();
    }
  });

  it('never sends a bearer token over plain http', async () => {
    const t = await startDriver({ config: { authority_url: 'http://127.0.0.1:9' } });
    try {
      const error = await failure(t.driver.hasVm({ vmId: 'any' }));
      expect(error.code).toBe('InvalidConfig');
      expect(error.message).toContain('https only');
    } finally {
      await t.stop();
    }
  });

  it('calls an unreachable cloud Retryable', async () => {
    const gone = await startDriver();
    await gone.fake.stop();
    const error = await failure(gone.driver.hasVm({ vmId: 'any' }));
    expect(error.code).toBe('Retryable');
    expect(error.message).toContain('cannot reach');
    await gone.driver.destroy();
    await gone.host.cleanup();
  });

  it('does not take a missing resource group for a missing VM', async () => {
    const t = await startDriver({ config: { resource_group: 'no-such-group' } });
    try {
      const error = await failure(t.driver.hasVm({ vmId: 'any' }));
      expect(error.code).toBe('InvalidConfig');
      expect(error.field).toBe('resource_group');
      expect(error.message).toContain("Resource group 'no-such-group' could not be found.");
    } finally {
      await t.stop();
    }
  });
});

describe('VMs on Microsoft.Compute', () => {
  let t: DriverUnderTest;
  let image: string;
  beforeAll(async () => {
    t = await startDriver();
    image = await stemcell(t.driver);
  });
  afterEach(() => t.fake.faults.reset());
  afterAll(() => t.stop());

  it('creates the NIC with the static IP in the subnet, then the VM with the settings as customData and userData, tags and the smallest fitting size', async () => {
    const input = vmInput(image);
    const requestId = randomUUID();
    const created = await t.driver.createVm(input, { requestId });
    const vm = t.fake.state.vms.get(created.vmId)!;
    expect(vm.provisioningState).toBe('Succeeded');
    expect(decodeAgentSettings(vm.customData!)).toEqual(input.env);
    expect(vm.userData).toBe(vm.customData);
    expect(vm.tags).toMatchObject({
      'slipway.cluster': 'c-1',
      'slipway.agent_id': input.agentId,
      'slipway.request_id': requestId,
    });
    expect(vm.vmSize).toBe('Standard_B1s');
    expect(vm.imageReference).toEqual({ id: `${t.fake.state.groupId()}/providers/Microsoft.Compute/images/${image}` });
    const nic = t.fake.state.nics.get(`${created.vmId}-nic`)!;
    expect(nic).toMatchObject({ privateIp: input.network.ip, allocation: 'Static', subnetId: t.fake.config.subnet_id });
    expect(vm.nics).toEqual([{ key: `${created.vmId}-nic`, primary: true, deleteOption: 'Delete' }]);
    expect(created).toEqual({ vmId: created.vmId, ip: input.network.ip });
  });

  it('names the VM after the request id, so a repeated request returns it without a second PUT', async () => {
    const input = vmInput(image);
    const requestId = `task-42/step-create-vm/${'x'.repeat(80)}`;
    const first = await t.driver.createVm(input, { requestId });
    const puts = t.fake.calls('VirtualMachines_CreateOrUpdate');
    const second = await t.driver.createVm(input, { requestId });
    expect(second.vmId).toBe(first.vmId);
    expect(first.vmId).toMatch(/^slipway-vm-[0-9a-f]{24}$/);
    expect(t.fake.calls('VirtualMachines_CreateOrUpdate')).toBe(puts);
  });

  it("uses the plan's instance type and zone", async () => {
    const { vmId, zone } = await t.driver.createVm(
      vmInput(image, {
        zone: '2',
        resources: { cpu: 2, memoryMb: 4096, ephemeralDiskMb: 0, instanceType: 'Standard_D2s_v5' },
      }),
    );
    expect(t.fake.state.vms.get(vmId)).toMatchObject({ vmSize: 'Standard_D2s_v5', zones: ['2'] });
    expect(zone).toBe('2');
  });

  it('follows the operation through Azure-AsyncOperation and returns once the VM is Succeeded', async () => {
    const before = t.fake.calls('OperationStatus_Get');
    const { vmId } = await t.driver.createVm(vmInput(image));
    expect(t.fake.state.vms.get(vmId)!.provisioningState).toBe('Succeeded');
    expect(t.fake.calls('OperationStatus_Get')).toBeGreaterThan(before);
  });

  it('follows operations announced only with Location (202 until 200/204)', async () => {
    t.fake.setLroBehaviour({ style: 'location' });
    const { vmId } = await t.driver.createVm(vmInput(image));
    expect(t.fake.state.vms.get(vmId)!.provisioningState).toBe('Succeeded');
    const { diskId } = await t.driver.createDisk({ sizeMb: 1024, vmId });
    expect(t.fake.state.disks.get(diskId)!.provisioningState).toBe('Succeeded');
    await t.driver.deleteVm({ vmId });
    await t.driver.deleteDisk({ diskId });
    expect(t.fake.state.vms.has(vmId)).toBe(false);
    expect(t.fake.state.disks.has(diskId)).toBe(false);
    // A failure reaches the Location poll as its error status: still the operation's failure, still cleaned up.
    t.fake.failNextOperation('VirtualMachines_CreateOrUpdate');
    const requestId = randomUUID();
    const error = await failure(t.driver.createVm(vmInput(image), { requestId }));
    expect(error).toMatchObject({ code: 'CapacityExhausted', retryable: true });
    expect(error.message).toContain('operation Failed: AllocationFailed');
    expect([...t.fake.state.vms.values()].filter((v) => v.tags['slipway.request_id'] === requestId)).toEqual([]);
  });

  it('waits as long as Retry-After says between polls', async () => {
    t.fake.setLroBehaviour({ retryAfterSeconds: 1 });
    const before = t.fake.calls('OperationStatus_Get');
    const started = Date.now();
    const { diskId } = await t.driver.createDisk({ sizeMb: 1024 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    // poll_interval_ms is 10: without Retry-After the 10 ms operation would have been polled at once.
    expect(t.fake.calls('OperationStatus_Get') - before).toBe(1);
    t.fake.setLroBehaviour({ retryAfterSeconds: undefined });
    await t.driver.deleteDisk({ diskId });
  });

  it("reports an allocation failure as retryable CapacityExhausted with Azure's words, and deletes the failed VM and its NIC", async () => {
    t.fake.failNextOperation('VirtualMachines_CreateOrUpdate');
    const requestId = randomUUID();
    const error = await failure(t.driver.createVm(vmInput(image), { requestId }));
    expect(error.code).toBe('CapacityExhausted');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain(
      'operation Failed: AllocationFailed: Allocation failed. We do not have sufficient capacity',
    );
    const names = [...t.fake.state.vms.values()].filter((v) => v.tags['slipway.request_id'] === requestId);
    expect(names).toEqual([]);
    expect([...t.fake.state.nics.values()].filter((n) => n.tags['slipway.request_id'] === requestId)).toEqual([]);
  });

  it('maps SkuNotAvailable to CapacityExhausted that is not retried', async () => {
    const message =
      "The requested size for resource '/subscriptions/x/resourceGroups/slipway-rg/providers/Microsoft.Compute/virtualMachines/vm' is currently not available in location 'westeurope' zones '2' for subscription 'x'. Please try another size or deploy to a different location or zones. See https://aka.ms/azureskunotavailable for details.";
    t.fake.failNext('VirtualMachines_CreateOrUpdate', { status: 409, code: 'SkuNotAvailable', message });
    const error = await failure(t.driver.createVm(vmInput(image)));
    expect(error.code).toBe('CapacityExhausted');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(message);
  });

  it('maps the core quota to QuotaExceeded and deletes the NIC it made', async () => {
    t.fake.faults.setQuota({ vms: t.fake.state.vms.size });
    const requestId = randomUUID();
    const error = await failure(t.driver.createVm(vmInput(image), { requestId }));
    expect(error.code).toBe('QuotaExceeded');
    expect(error.message).toContain('exceeding approved Total Regional Cores quota');
    expect([...t.fake.state.nics.values()].filter((n) => n.tags['slipway.request_id'] === requestId)).toEqual([]);
  });

  it("keeps Azure's message and target for an InvalidParameter and calls it CloudError", async () => {
    t.fake.faults.permanentErrorNext('createVm');
    const error = await failure(t.driver.createVm(vmInput(image)));
    expect(error.code).toBe('CloudError');
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(
      'VirtualMachines_CreateOrUpdate: 400 InvalidParameter: The value of parameter imageReference is invalid. (target: imageReference)',
    );
    expect(error.details).toMatchObject({ status: 400, cloudCode: 'InvalidParameter', target: 'imageReference' });
    expect(error.details?.cloudRequestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("refuses an IP another NIC holds, with the Network RP's message", async () => {
    const first = vmInput(image);
    await t.driver.createVm(first);
    const error = await failure(t.driver.createVm(vmInput(image, { network: first.network })));
    expect(error.code).toBe('VmCreationFailed');
    expect(error.message).toContain(`PrivateIPAddressInUse: IP configuration`);
    expect(error.message).toContain(`is using the private IP address ${first.network.ip} which is already allocated`);
  });

  it('keeps the NIC when the VM PUT is throttled, so the retry reuses it', async () => {
    const input = vmInput(image);
    const requestId = randomUUID();
    t.fake.failNext('VirtualMachines_CreateOrUpdate', {
      status: 429,
      code: 'TooManyRequests',
      message: 'throttled',
      retryAfter: 7,
    });
    const error = await failure(t.driver.createVm(input, { requestId }));
    expect(error.code).toBe('RateLimited');
    expect(error.retryAfterMs).toBe(7000);
    const { vmId } = await t.driver.createVm(input, { requestId });
    expect(
      [...t.fake.state.nics.values()].filter((n) => n.tags['slipway.request_id'] === requestId).map((n) => n.name),
    ).toEqual([`${vmId}-nic`]);
  });

  it('restarts a running VM, and starts a deallocated one instead', async () => {
    const { vmId } = await t.driver.createVm(vmInput(image));
    await t.driver.rebootVm!({ vmId });
    expect(t.fake.calls('VirtualMachines_Restart')).toBe(1);
    const deallocated = await armRequest(
      t.fake,
      'POST',
      `${groupPath(t.fake, `Microsoft.Compute/virtualMachines/${vmId}/deallocate`)}?api-version=2024-07-01`,
    );
    expect(deallocated.status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(t.fake.state.vms.get(vmId)!.powerState).toBe('deallocated');
    await t.driver.rebootVm!({ vmId });
    expect(t.fake.calls('VirtualMachines_Start')).toBe(1);
    expect(t.fake.state.vms.get(vmId)!.powerState).toBe('running');
  });

  it('merges tags through the Tags API, keeping the ones set at creation', async () => {
    const { vmId } = await t.driver.createVm(vmInput(image), { requestId: randomUUID() });
    await t.driver.setVmMetadata({ vmId, metadata: { 'slipway.instance': 'worker/3' } });
    expect(t.fake.calls('Tags_UpdateAtScope')).toBeGreaterThan(0);
    expect(t.fake.state.vms.get(vmId)!.tags).toMatchObject({
      'slipway.instance': 'worker/3',
      'slipway.cluster': 'c-1',
    });
    expect(t.fake.state.vms.get(vmId)!.tags['slipway.request_id']).toBeDefined();
  });

  it('deletes a VM with its NIC and OS disk; its data disk survives, detached; a second delete is a 204', async () => {
    const { vmId } = await t.driver.createVm(vmInput(image));
    const osDisk = t.fake.state.vms.get(vmId)!.osDisk.name.toLowerCase();
    expect(t.fake.state.disks.has(osDisk)).toBe(true);
    const { diskId } = await t.driver.createDisk({ sizeMb: 1024, vmId });
    await t.driver.attachDisk({ vmId, diskId });
    await t.driver.deleteVm({ vmId });
    expect(await t.driver.hasVm({ vmId })).toBe(false);
    expect(t.fake.state.nics.has(`${vmId}-nic`)).toBe(false);
    expect(t.fake.state.disks.has(osDisk)).toBe(false);
    expect(t.fake.state.disks.get(diskId)!.managedBy).toBeUndefined();
    await t.driver.deleteVm({ vmId });
    await t.driver.deleteDisk({ diskId });
  });

  it('lets a delete preempt a VM still being created: the create ends with a retryable Conflict', async () => {
    const slow = await startDriver({ provisionDelayMs: 400 });
    try {
      const outcome = failure(slow.driver.createVm(vmInput(await stemcell(slow.driver)), { requestId: randomUUID() }));
      await new Promise((resolve) => setTimeout(resolve, 150));
      const [vm] = [...slow.fake.state.vms.values()];
      expect(vm!.provisioningState).toBe('Creating');
      await slow.driver.deleteVm({ vmId: vm!.name });
      const error = await outcome;
      expect(error).toMatchObject({ code: 'Conflict', retryable: true });
      expect(error.message).toContain('operation Canceled: OperationPreempted');
      expect(await slow.driver.hasVm({ vmId: vm!.name })).toBe(false);
    } finally {
      await slow.stop();
    }
  });

  it('stops polling at once when aborted while the VM provisions', async () => {
    const slow = await startDriver({ provisionDelayMs: 10_000 });
    try {
      const slowImage = await stemcell(slow.driver);
      const controller = new AbortController();
      const call = slow.driver.createVm(vmInput(slowImage), { signal: controller.signal });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const abortedAt = Date.now();
      controller.abort();
      const error = await failure(call);
      expect(error.code).toBe('Cancelled');
      // A tenth of the operation it cut short: room for a loaded CI machine, far from waiting it out.
      expect(Date.now() - abortedAt).toBeLessThan(1_000);
      expect(slow.fake.calls('OperationStatus_Get')).toBeGreaterThan(0);
    } finally {
      await slow.stop();
    }
  });
});

describe('inventory by tag', () => {
  it('lists only the VMs and disks carrying every tag, across pages', async () => {
    const t = await startDriver({ listPageSize: 2 });
    try {
      const image = await stemcell(t.driver);
      const mark = randomUUID();
      const tagged = await Promise.all(
        [1, 2, 3].map(() => t.driver.createVm(vmInput(image, { metadata: { 'slipway.cluster': mark } }))),
      );
      await t.driver.createVm(vmInput(image));
      const { diskId } = await t.driver.createDisk(
        { sizeMb: 2048, metadata: { 'slipway.cluster': mark } },
        { requestId: randomUUID() },
      );
      await t.driver.attachDisk({ vmId: tagged[0]!.vmId, diskId });
      const inventory = await t.driver.listResources!({ tags: { 'slipway.cluster': mark } });
      expect(inventory.vms.map((v) => v.vmId).sort()).toEqual(tagged.map((v) => v.vmId).sort());
      expect(inventory.vms[0]).toMatchObject({ state: 'Succeeded', metadata: { 'slipway.cluster': mark } });
      expect(inventory.disks).toEqual([
        { diskId, vmId: tagged[0]!.vmId, sizeMb: 2048, metadata: expect.objectContaining({ 'slipway.cluster': mark }) },
      ]);
      // Four VMs at two a page: the second page came through nextLink.
      expect(t.fake.calls('VirtualMachines_List')).toBe(2);
    } finally {
      await t.stop();
    }
  });
});

describe('managed disks', () => {
  let t: DriverUnderTest;
  let vmId: string;
  beforeAll(async () => {
    t = await startDriver();
    vmId = (await t.driver.createVm(vmInput(await stemcell(t.driver)))).vmId;
  });
  afterEach(() => t.fake.faults.reset());
  afterAll(() => t.stop());

  it('attaches at the lowest free LUN and says so in the hint, though Azure upper-cases the resource group in the ids', async () => {
    const a = (await t.driver.createDisk({ sizeMb: 1024 })).diskId;
    const b = (await t.driver.createDisk({ sizeMb: 1024 })).diskId;
    expect((await t.driver.attachDisk({ vmId, diskId: a })).hint).toEqual({
      kind: 'lun',
      lun: 0,
      hostDeviceId: '{f8b3781b-1e82-4818-a1c3-63d806ec15bb}',
    });
    expect((await t.driver.attachDisk({ vmId, diskId: b })).hint).toMatchObject({ kind: 'lun', lun: 1 });
    const patches = t.fake.calls('VirtualMachines_Update');
    expect((await t.driver.attachDisk({ vmId, diskId: b })).hint).toMatchObject({ lun: 1 });
    expect(t.fake.calls('VirtualMachines_Update')).toBe(patches);
    expect(await t.driver.getDisks({ vmId })).toEqual([a, b]);
    await t.driver.detachDisk({ vmId, diskId: a });
    const c = (await t.driver.createDisk({ sizeMb: 1024 })).diskId;
    expect((await t.driver.attachDisk({ vmId, diskId: c })).hint).toMatchObject({ lun: 0 });
    await t.driver.detachDisk({ vmId, diskId: b });
    await t.driver.detachDisk({ vmId, diskId: c });
    expect(await t.driver.getDisks({ vmId })).toEqual([]);
  });

  it("guards the data-disk list with the VM's etag: of two attaches at once, one is told to retry", async () => {
    const disks = await Promise.all([1, 2].map(async () => (await t.driver.createDisk({ sizeMb: 1024 })).diskId));
    const results = await Promise.allSettled(disks.map((diskId) => t.driver.attachDisk({ vmId, diskId })));
    const rejected = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.reason).toMatchObject({ code: 'Conflict', retryable: true });
    const lost = disks[results.indexOf(rejected[0]!)]!;
    await t.driver.attachDisk({ vmId, diskId: lost });
    expect((await t.driver.getDisks({ vmId })).sort()).toEqual([...disks].sort());
    for (const diskId of disks) await t.driver.detachDisk({ vmId, diskId });
  });

  it("refuses a disk another VM holds, and deleting an attached disk, with Conflict and Azure's words", async () => {
    const other = await t.driver.createVm(vmInput(await stemcell(t.driver)));
    const { diskId } = await t.driver.createDisk({ sizeMb: 1024 });
    await t.driver.attachDisk({ vmId: other.vmId, diskId });
    const attach = await failure(t.driver.attachDisk({ vmId, diskId }));
    expect(attach.code).toBe('Conflict');
    expect(attach.message).toContain('already owned by VM');
    const remove = await failure(t.driver.deleteDisk({ diskId }));
    expect(remove.code).toBe('Conflict');
    expect(remove.message).toContain(`OperationNotAllowed: Disk ${diskId} is attached to VM`);
  });

  it('names the disk after the request id', async () => {
    const requestId = randomUUID();
    const first = await t.driver.createDisk({ sizeMb: 1024 }, { requestId });
    const second = await t.driver.createDisk({ sizeMb: 1024 }, { requestId });
    expect(second.diskId).toBe(first.diskId);
    expect([...t.fake.state.disks.values()].filter((d) => d.tags['slipway.request_id'] === requestId)).toHaveLength(1);
  });

  it('rounds MiB up to GiB, grows with PATCH diskSizeGB, skips a same-size resize and refuses to shrink', async () => {
    const { diskId } = await t.driver.createDisk({ sizeMb: 1500, vmId });
    expect(t.fake.state.disks.get(diskId)!.sizeGb).toBe(2);
    await t.driver.attachDisk({ vmId, diskId });
    await t.driver.resizeDisk!({ diskId, sizeMb: 5000 });
    expect(t.fake.state.disks.get(diskId)!.sizeGb).toBe(5);
    const patches = t.fake.calls('Disks_Update');
    await t.driver.resizeDisk!({ diskId, sizeMb: 4500 });
    expect(t.fake.calls('Disks_Update')).toBe(patches);
    expect((await failure(t.driver.resizeDisk!({ diskId, sizeMb: 1024 }))).code).toBe('InvalidInput');
    await t.driver.detachDisk({ vmId, diskId });
  });

  it("creates a disk for a zonal VM in that VM's zone", async () => {
    const zonal = await t.driver.createVm(vmInput(await stemcell(t.driver), { zone: '3' }));
    const { diskId } = await t.driver.createDisk({ sizeMb: 1024, vmId: zonal.vmId });
    expect(t.fake.state.disks.get(diskId)!.zones).toEqual(['3']);
    await t.driver.attachDisk({ vmId: zonal.vmId, diskId });
    expect(await t.driver.getDisks({ vmId: zonal.vmId })).toEqual([diskId]);
  });

  it('takes an incremental snapshot of the disk, once per request id, and deletes it twice without complaint', async () => {
    const { diskId } = await t.driver.createDisk({ sizeMb: 1024 });
    const requestId = randomUUID();
    const first = await t.driver.snapshotDisk!({ diskId, metadata: { 'slipway.cluster': 'c-1' } }, { requestId });
    const second = await t.driver.snapshotDisk!({ diskId }, { requestId });
    expect(second.snapshotId).toBe(first.snapshotId);
    expect(t.fake.state.snapshots.get(first.snapshotId)).toMatchObject({
      provisioningState: 'Succeeded',
      incremental: true,
      sourceResourceId: `${t.fake.state.groupId()}/providers/Microsoft.Compute/disks/${diskId}`,
      tags: expect.objectContaining({ 'slipway.cluster': 'c-1' }),
    });
    await t.driver.deleteSnapshot!({ snapshotId: first.snapshotId });
    await t.driver.deleteSnapshot!({ snapshotId: first.snapshotId });
    expect(t.fake.state.snapshots.has(first.snapshotId)).toBe(false);
  });

  it('maps the disk quota to QuotaExceeded', async () => {
    t.fake.faults.setQuota({ disks: 0 });
    const error = await failure(t.driver.createDisk({ sizeMb: 1024 }));
    expect(error.code).toBe('QuotaExceeded');
    expect(error.message).toContain('exceeding quota limits of Total Disks');
  });

  it('names no disks of a VM that does not exist', async () => {
    expect((await failure(t.driver.getDisks({ vmId: 'slipway-vm-gone' }))).code).toBe('NotFound');
  });
});

describe('stemcells', () => {
  let t: DriverUnderTest;
  beforeAll(async () => {
    t = await startDriver();
  });
  afterAll(() => t.stop());

  it('makes a managed image of a VHD blob, once per request id, boots a VM from it, and deletes it twice without complaint', async () => {
    const requestId = randomUUID();
    const input = { name: 'ubuntu-noble', version: '1.2', cloudProperties: { source_uri: FAKE_STEMCELL_BLOB } };
    const { stemcellId } = await t.driver.createStemcell(input, { requestId });
    expect(t.fake.state.images.get(stemcellId)).toMatchObject({
      provisioningState: 'Succeeded',
      blobUri: FAKE_STEMCELL_BLOB,
      osState: 'Generalized',
      hyperVGeneration: 'V2',
    });
    expect((await t.driver.createStemcell(input, { requestId })).stemcellId).toBe(stemcellId);
    expect(t.fake.calls('Images_CreateOrUpdate')).toBe(1);
    const { vmId } = await t.driver.createVm(vmInput(stemcellId));
    expect(t.fake.state.vms.get(vmId)!.imageReference.id).toMatch(new RegExp(`/images/${stemcellId}$`));
    await t.driver.deleteStemcell({ stemcellId });
    await t.driver.deleteStemcell({ stemcellId });
    expect(t.fake.state.images.has(stemcellId)).toBe(false);
  });

  it("registers an operator's image by id (light stemcell), checks it exists, and never deletes it", async () => {
    const { stemcellId: managed } = await t.driver.createStemcell({
      name: 'base',
      version: '1',
      cloudProperties: { source_uri: FAKE_STEMCELL_BLOB },
    });
    const imageId = `${t.fake.state.groupId()}/providers/Microsoft.Compute/images/${managed}`;
    const { stemcellId } = await t.driver.createStemcell({
      name: 'light',
      version: '1',
      cloudProperties: { image_id: imageId },
    });
    expect(stemcellId).toBe(`${imageId} light`);
    await t.driver.deleteStemcell({ stemcellId });
    expect(t.fake.state.images.get(managed)?.provisioningState).toBe('Succeeded');
    const missing = await failure(
      t.driver.createStemcell({ name: 'light', version: '2', cloudProperties: { image_id: `${imageId}-gone` } }),
    );
    expect(missing.code).toBe('CloudError');
    expect(missing.message).toContain('does not exist');
  });

  it('registers a platform image by URN after checking the region offers it', async () => {
    const image = {
      publisher: 'Canonical',
      offer: '0001-com-ubuntu-server-jammy',
      sku: '22_04-lts-gen2',
      version: '22.04.202404090',
    };
    const { stemcellId } = await t.driver.createStemcell({ name: 'jammy', version: '1', cloudProperties: { image } });
    expect(stemcellId).toBe('Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:22.04.202404090');
    const { vmId } = await t.driver.createVm(vmInput(stemcellId));
    expect(t.fake.state.vms.get(vmId)!.imageReference).toEqual(image);
    const error = await failure(
      t.driver.createStemcell({
        name: 'nope',
        version: '1',
        cloudProperties: { image: { ...image, offer: 'no-such-offer' } },
      }),
    );
    expect(error.code).toBe('CloudError');
    expect(error.message).toContain('is not offered in westeurope');
  });

  it("refuses a local VHD file: uploading to blob storage is not the driver's job", async () => {
    const error = await failure(t.driver.createStemcell({ name: 'local', version: '1', imagePath: '/tmp/root.vhd' }));
    expect(error.code).toBe('InvalidInput');
    expect(error.field).toBe('imagePath');
  });
});

describe('the agent side of createVm', () => {
  it("boots an agent that reads its settings from the VM's IMDS userData and reaches the control plane", async () => {
    const t = await startDriver({ bootAgents: true });
    const recorder = await AgentChannelRecorder.start();
    try {
      const image = await stemcell(t.driver);
      const settings = await recorder.settingsFor(`agent-${randomUUID()}`, {
        network: { ip: '10.4.0.10' },
        clusterId: 'c-agent',
      });
      const { vmId } = await t.driver.createVm(vmInput(image, {}, settings));
      const sync = await recorder.waitForSync(settings.agentId, 10_000);
      expect(sync.instanceId).toBe(settings.instanceId);
      expect(t.fake.calls('IMDS')).toBeGreaterThan(0);
      const imds = await fetch(`${t.fake.imdsUrl(vmId)}/metadata/instance?api-version=2021-02-01`, {
        headers: { Metadata: 'true' },
      });
      const document = (await imds.json()) as { compute: { name: string; customData: string; userData: string } };
      // As on Azure: IMDS never reveals customData; userData carries the same settings.
      expect(document.compute).toMatchObject({ name: vmId, customData: '' });
      expect(decodeAgentSettings(document.compute.userData)).toEqual(settings);
    } finally {
      await t.stop();
      await recorder.stop();
    }
  });
});

describe('under 10% throttling and 10% server errors', () => {
  it('every failure is retryable, and retrying each verb with its request id converges without leftovers', async () => {
    const t = await startDriver();
    try {
      const image = await stemcell(t.driver);
      t.fake.faults.setFaultRates({ throttle: 0.1, serverError: 0.1 });
      const seen: string[] = [];
      // What the engine does: the same call, same request id, until it succeeds; only retryable errors are retried.
      const retry = async <T>(call: () => Promise<T>): Promise<T> => {
        for (let attempt = 0; ; attempt++) {
          try {
            return await call();
          } catch (error) {
            const e = await failure(Promise.reject(error));
            seen.push(e.code);
            if (!e.retryable || attempt > 40) throw e;
          }
        }
      };
      const vms = await Promise.all(
        [1, 2, 3, 4, 5].map(async () => {
          const input = vmInput(image);
          const requestId = randomUUID();
          const { vmId } = await retry(() => t.driver.createVm(input, { requestId }));
          const diskRequest = randomUUID();
          const { diskId } = await retry(() => t.driver.createDisk({ sizeMb: 1024, vmId }, { requestId: diskRequest }));
          await retry(() => t.driver.attachDisk({ vmId, diskId }));
          await retry(() => t.driver.setVmMetadata({ vmId, metadata: { 'slipway.step': 'done' } }));
          return { vmId, diskId };
        }),
      );
      t.fake.faults.setFaultRates({});
      expect(seen.length).toBeGreaterThan(0);
      expect(new Set(seen)).toEqual(
        new Set(seen.filter((code) => code === 'RateLimited' || code === 'Retryable' || code === 'Conflict')),
      );
      for (const { vmId, diskId } of vms) {
        expect(t.fake.state.vms.get(vmId)).toMatchObject({
          provisioningState: 'Succeeded',
          tags: expect.objectContaining({ 'slipway.step': 'done' }),
        });
        expect(await t.driver.getDisks({ vmId })).toEqual([diskId]);
      }
      // One VM, NIC and data disk per request: nothing was created twice.
      expect(t.fake.state.vms.size).toBe(5);
      expect(t.fake.state.nics.size).toBe(5);
      expect([...t.fake.state.disks.values()].filter((d) => !d.osType)).toHaveLength(5);
    } finally {
      await t.stop();
    }
  });
});
