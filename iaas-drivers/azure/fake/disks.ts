import { ArmHttpError, objectAt, stringTags } from './http.js';
import { busy, checkLocation, checkName, checkZones, page, propertiesOf, resourceNotFound } from './resource-rules.js';
import { SEGMENT, groupPath, type FakeContext, type Reply, type Route, type RouteCall } from './routes.js';
import { armTime, newGuid, type FakeDisk, type FakeSnapshot } from './state.js';

const DISK = 'Microsoft.Compute/disks';
const SNAPSHOT = 'Microsoft.Compute/snapshots';
const SKUS = [
  'Standard_LRS',
  'Premium_LRS',
  'StandardSSD_LRS',
  'UltraSSD_LRS',
  'Premium_ZRS',
  'StandardSSD_ZRS',
  'PremiumV2_LRS',
];

/**
 * The disk resource provider: managed disks and snapshots, on their own api-version schedule. Its writes
 * answer 202 with both Azure-AsyncOperation (a DiskOperations URL) and Location.
 */
export function diskRoutes(ctx: FakeContext): Route[] {
  const disk = groupPath(`Microsoft\\.Compute/disks/${SEGMENT}`);
  const snapshot = groupPath(`Microsoft\\.Compute/snapshots/${SEGMENT}`);
  const d = { schedule: 'disks' as const, resourceType: DISK };
  const s = { schedule: 'disks' as const, resourceType: SNAPSHOT };
  return [
    { ...d, method: 'PUT', path: disk, operation: 'Disks_CreateOrUpdate', handle: (call) => putDisk(ctx, call) },
    {
      ...d,
      method: 'GET',
      path: disk,
      operation: 'Disks_Get',
      handle: (call) => ({ status: 200, body: diskView(ctx, diskOr404(ctx, call.params[2]!)) }),
    },
    { ...d, method: 'PATCH', path: disk, operation: 'Disks_Update', handle: (call) => patchDisk(ctx, call) },
    { ...d, method: 'DELETE', path: disk, operation: 'Disks_Delete', handle: (call) => deleteDisk(ctx, call) },
    {
      ...d,
      method: 'GET',
      path: groupPath('Microsoft\\.Compute/disks'),
      operation: 'Disks_ListByResourceGroup',
      handle: (call) =>
        page(
          ctx,
          call,
          [...ctx.state.disks.values()].map((x) => diskView(ctx, x)),
        ),
    },
    {
      ...s,
      method: 'PUT',
      path: snapshot,
      operation: 'Snapshots_CreateOrUpdate',
      handle: (call) => putSnapshot(ctx, call),
    },
    {
      ...s,
      method: 'GET',
      path: snapshot,
      operation: 'Snapshots_Get',
      handle: (call) => ({ status: 200, body: snapshotView(ctx, snapshotOr404(ctx, call.params[2]!)) }),
    },
    {
      ...s,
      method: 'DELETE',
      path: snapshot,
      operation: 'Snapshots_Delete',
      handle: (call) => deleteSnapshot(ctx, call),
    },
    {
      ...s,
      method: 'GET',
      path: groupPath('Microsoft\\.Compute/snapshots'),
      operation: 'Snapshots_ListByResourceGroup',
      handle: (call) =>
        page(
          ctx,
          call,
          [...ctx.state.snapshots.values()].map((x) => snapshotView(ctx, x)),
        ),
    },
  ];
}

function diskOr404(ctx: FakeContext, name: string): FakeDisk {
  const disk = ctx.state.disks.get(name.toLowerCase());
  if (!disk) throw resourceNotFound(ctx, DISK, name);
  return disk;
}

function snapshotOr404(ctx: FakeContext, name: string): FakeSnapshot {
  const snapshot = ctx.state.snapshots.get(name.toLowerCase());
  if (!snapshot) throw resourceNotFound(ctx, SNAPSHOT, name);
  return snapshot;
}

function putDisk(ctx: FakeContext, call: RouteCall): Reply {
  const { state } = ctx;
  const name = call.params[2]!;
  checkName(name, DISK, 80);
  const location = checkLocation(ctx, call.body, DISK);
  const properties = propertiesOf(call.body);
  const sku = checkSku(objectAt(call.body.sku).name);
  const existing = state.disks.get(name.toLowerCase());
  if (existing) return updateDisk(ctx, existing, call, 'PUT');
  const zones = checkZones(ctx, call.body.zones, state.diskId(name));
  const creation = objectAt(properties.creationData);
  const size = properties.diskSizeGB;
  let sourceResourceId: string | undefined;
  let sizeGb: number;
  switch (creation.createOption) {
    case 'Empty':
      if (size === undefined || size === null)
        throw new ArmHttpError(
          400,
          'InvalidParameter',
          "Required parameter 'diskSizeGB' is missing (null).",
          {},
          'diskSizeGB',
        );
      sizeGb = checkSize(size);
      break;
    case 'Copy': {
      const source = typeof creation.sourceResourceId === 'string' ? creation.sourceResourceId : '';
      const from =
        state.disks.get(state.byId('disk', source) ?? '') ?? state.snapshots.get(state.byId('snapshot', source) ?? '');
      if (!from)
        throw new ArmHttpError(
          404,
          'NotFound',
          `The source resource '${source}' was not found.`,
          {},
          'sourceResourceId',
        );
      sourceResourceId = source;
      sizeGb = size === undefined ? from.sizeGb : checkSize(size);
      break;
    }
    default:
      throw new ArmHttpError(
        400,
        'InvalidParameter',
        `The value '${String(creation.createOption)}' of parameter 'creationData.createOption' is not supported by this fake; use Empty or Copy.`,
        {},
        'createOption',
      );
  }
  const used = [...state.disks.values()].filter((d) => !d.osType).length;
  if (state.quota.disks !== undefined && used + 1 > state.quota.disks) {
    throw new ArmHttpError(
      409,
      'OperationNotAllowed',
      `Operation results in exceeding quota limits of Total Disks. Maximum allowed: ${state.quota.disks}, Current in use: ${used}, Additional requested: 1.`,
    );
  }
  const disk: FakeDisk = {
    name,
    location,
    sku,
    ...(zones ? { zones } : {}),
    tags: stringTags(call.body.tags),
    sizeGb,
    createOption: String(creation.createOption),
    ...(sourceResourceId ? { sourceResourceId } : {}),
    provisioningState: 'Creating',
    uniqueId: newGuid(),
    timeCreated: armTime(),
  };
  state.disks.set(name.toLowerCase(), disk);
  const operation = ctx.operations.start({
    operation: 'Disks_CreateOrUpdate',
    schedule: 'disks',
    apiVersion: call.apiVersion,
    method: 'PUT',
    delayMs: ctx.timings.transitionMs,
    succeed: () => {
      if (disk.provisioningState === 'Creating') disk.provisioningState = 'Succeeded';
    },
    fail: () => {
      disk.provisioningState = 'Failed';
    },
    result: () => diskView(ctx, disk),
  });
  return ctx.operations.accepted(operation, 202, diskView(ctx, disk));
}

function patchDisk(ctx: FakeContext, call: RouteCall): Reply {
  return updateDisk(ctx, diskOr404(ctx, call.params[2]!), call, 'PATCH');
}

/** Grows a disk (never shrinks it), replaces tags, changes the SKU; an attached data disk may grow in place. */
function updateDisk(ctx: FakeContext, disk: FakeDisk, call: RouteCall, method: 'PUT' | 'PATCH'): Reply {
  if (disk.provisioningState !== 'Succeeded' && disk.provisioningState !== 'Failed') throw busy();
  const properties = propertiesOf(call.body);
  if (properties.diskSizeGB !== undefined) {
    const size = checkSize(properties.diskSizeGB);
    if (size < disk.sizeGb) {
      throw new ArmHttpError(
        400,
        'InvalidParameter',
        `Disk '${disk.name}' of size ${disk.sizeGb} GB cannot be resized to ${size} GB: a disk can only grow.`,
        {},
        'diskSizeGB',
      );
    }
    disk.sizeGb = size;
  }
  if (call.body.tags !== undefined || method === 'PUT') disk.tags = stringTags(call.body.tags);
  const sku = objectAt(call.body.sku).name;
  if (sku !== undefined) disk.sku = checkSku(sku);
  disk.provisioningState = 'Updating';
  const operation = ctx.operations.start({
    operation: method === 'PUT' ? 'Disks_CreateOrUpdate' : 'Disks_Update',
    schedule: 'disks',
    apiVersion: call.apiVersion,
    method,
    delayMs: ctx.timings.transitionMs,
    succeed: () => {
      if (disk.provisioningState === 'Updating') disk.provisioningState = 'Succeeded';
    },
    fail: () => {
      disk.provisioningState = 'Failed';
    },
    result: () => diskView(ctx, disk),
  });
  return ctx.operations.accepted(operation, 202, diskView(ctx, disk));
}

function deleteDisk(ctx: FakeContext, call: RouteCall): Reply {
  const { state } = ctx;
  const disk = state.disks.get(call.params[2]!.toLowerCase());
  if (!disk) return { status: 204 };
  if (disk.managedBy) {
    const vm = state.vms.get(disk.managedBy.slice(disk.managedBy.lastIndexOf('/') + 1));
    throw new ArmHttpError(
      409,
      'OperationNotAllowed',
      `Disk ${disk.name} is attached to VM ${vm ? state.vmId(vm.name) : disk.managedBy}.`,
    );
  }
  if (disk.provisioningState === 'Creating' || disk.provisioningState === 'Updating') throw busy();
  disk.provisioningState = 'Deleting';
  const operation = ctx.operations.start({
    operation: 'Disks_Delete',
    schedule: 'disks',
    apiVersion: call.apiVersion,
    method: 'DELETE',
    delayMs: ctx.timings.transitionMs,
    succeed: () => {
      if (state.disks.get(disk.name.toLowerCase()) === disk) state.disks.delete(disk.name.toLowerCase());
    },
    fail: () => {
      disk.provisioningState = 'Failed';
    },
  });
  return ctx.operations.accepted(operation, 202);
}

function putSnapshot(ctx: FakeContext, call: RouteCall): Reply {
  const { state } = ctx;
  const name = call.params[2]!;
  checkName(name, SNAPSHOT, 80);
  const location = checkLocation(ctx, call.body, SNAPSHOT);
  const existing = state.snapshots.get(name.toLowerCase());
  if (existing) {
    if (existing.provisioningState !== 'Succeeded') throw busy();
    existing.tags = stringTags(call.body.tags);
    return { status: 200, body: snapshotView(ctx, existing) };
  }
  const creation = objectAt(propertiesOf(call.body).creationData);
  if (creation.createOption !== 'Copy') {
    throw new ArmHttpError(
      400,
      'InvalidParameter',
      `The value '${String(creation.createOption)}' of parameter 'creationData.createOption' is not supported for a snapshot by this fake; use Copy.`,
      {},
      'createOption',
    );
  }
  const source = typeof creation.sourceResourceId === 'string' ? creation.sourceResourceId : '';
  const disk = state.disks.get(state.byId('disk', source) ?? '');
  if (!disk)
    throw new ArmHttpError(404, 'NotFound', `The source resource '${source}' was not found.`, {}, 'sourceResourceId');
  const snapshot: FakeSnapshot = {
    name,
    location,
    sku: String(objectAt(call.body.sku).name ?? 'Standard_LRS'),
    tags: stringTags(call.body.tags),
    sourceResourceId: source,
    incremental: propertiesOf(call.body).incremental === true,
    sizeGb: disk.sizeGb,
    provisioningState: 'Creating',
    timeCreated: armTime(),
  };
  state.snapshots.set(name.toLowerCase(), snapshot);
  const operation = ctx.operations.start({
    operation: 'Snapshots_CreateOrUpdate',
    schedule: 'disks',
    apiVersion: call.apiVersion,
    method: 'PUT',
    delayMs: ctx.timings.transitionMs,
    succeed: () => {
      if (snapshot.provisioningState === 'Creating') snapshot.provisioningState = 'Succeeded';
    },
    fail: () => {
      snapshot.provisioningState = 'Failed';
    },
    result: () => snapshotView(ctx, snapshot),
  });
  return ctx.operations.accepted(operation, 202, snapshotView(ctx, snapshot));
}

function deleteSnapshot(ctx: FakeContext, call: RouteCall): Reply {
  const { state } = ctx;
  const snapshot = state.snapshots.get(call.params[2]!.toLowerCase());
  if (!snapshot) return { status: 204 };
  snapshot.provisioningState = 'Deleting';
  const operation = ctx.operations.start({
    operation: 'Snapshots_Delete',
    schedule: 'disks',
    apiVersion: call.apiVersion,
    method: 'DELETE',
    delayMs: ctx.timings.transitionMs,
    succeed: () => {
      if (state.snapshots.get(snapshot.name.toLowerCase()) === snapshot)
        state.snapshots.delete(snapshot.name.toLowerCase());
    },
  });
  return ctx.operations.accepted(operation, 202);
}

export function diskView(ctx: FakeContext, disk: FakeDisk): unknown {
  const owner = disk.managedBy
    ? ctx.state.vms.get(disk.managedBy.slice(disk.managedBy.lastIndexOf('/') + 1))
    : undefined;
  return {
    id: ctx.state.diskId(disk.name),
    name: disk.name,
    type: DISK,
    location: disk.location,
    tags: disk.tags,
    ...(owner ? { managedBy: ctx.state.vmId(owner.name) } : {}),
    sku: { name: disk.sku, tier: disk.sku.startsWith('Premium') ? 'Premium' : 'Standard' },
    ...(disk.zones ? { zones: disk.zones } : {}),
    properties: {
      ...(disk.osType ? { osType: disk.osType } : {}),
      creationData: {
        createOption: disk.createOption,
        ...(disk.sourceResourceId ? { sourceResourceId: disk.sourceResourceId } : {}),
      },
      diskSizeGB: disk.sizeGb,
      diskSizeBytes: disk.sizeGb * 1024 ** 3,
      uniqueId: disk.uniqueId,
      encryption: { type: 'EncryptionAtRestWithPlatformKey' },
      networkAccessPolicy: 'AllowAll',
      publicNetworkAccess: 'Enabled',
      timeCreated: disk.timeCreated,
      provisioningState: disk.provisioningState,
      diskState: disk.managedBy ? 'Attached' : 'Unattached',
    },
  };
}

function snapshotView(ctx: FakeContext, snapshot: FakeSnapshot): unknown {
  return {
    id: ctx.state.snapshotId(snapshot.name),
    name: snapshot.name,
    type: SNAPSHOT,
    location: snapshot.location,
    tags: snapshot.tags,
    sku: { name: snapshot.sku, tier: 'Standard' },
    properties: {
      creationData: { createOption: 'Copy', sourceResourceId: snapshot.sourceResourceId },
      diskSizeGB: snapshot.sizeGb,
      incremental: snapshot.incremental,
      timeCreated: snapshot.timeCreated,
      provisioningState: snapshot.provisioningState,
    },
  };
}

function checkSku(value: unknown): string {
  if (value === undefined) return 'Standard_LRS';
  if (typeof value !== 'string' || !SKUS.includes(value)) {
    throw new ArmHttpError(
      400,
      'InvalidParameter',
      `The value '${String(value)}' of parameter 'sku.name' is invalid. Allowed values are ${SKUS.join(', ')}.`,
      {},
      'sku.name',
    );
  }
  return value;
}

function checkSize(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 32767) {
    throw new ArmHttpError(
      400,
      'InvalidParameter',
      `The value '${String(value)}' of parameter 'diskSizeGB' is out of range. The value must be between '1' and '32767', inclusive.`,
      {},
      'diskSizeGB',
    );
  }
  return value;
}
