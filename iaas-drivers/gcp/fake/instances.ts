import { FakeApiError, alreadyExists, inUse, invalid, notFound, notReady, required } from './http.js';
import { aggregatedReply, listReply } from './lists.js';
import type { OperationFailure } from './operations.js';
import { link, type FakeContext, type Reply, type Route, type RouteCall } from './routes.js';
import { findImage, imageRefOf } from './images.js';
import { operationReply } from './operation-routes.js';
import {
  DISK_TYPES,
  MACHINE_TYPES,
  fingerprint,
  newId,
  timestamp,
  type FakeAttachedDisk,
  type FakeDisk,
  type FakeInstance,
} from './state.js';
import { checkIp, checkLabels, checkMetadataItems, checkName, parseReference } from './validate.js';

/** Compute Engine instances: insert, get, list, delete, reset, setLabels, attachDisk, detachDisk; aggregated list. */
export function instanceRoutes(ctx: FakeContext): Route[] {
  return [
    {
      http: 'POST',
      path: /^\/zones\/([^/]+)\/instances$/,
      method: 'instances.insert',
      mutation: true,
      handle: (call) => insert(ctx, call),
    },
    {
      http: 'GET',
      path: /^\/zones\/([^/]+)\/instances$/,
      method: 'instances.list',
      handle: (call) => {
        const zone = requireZone(ctx, call.params[0]!);
        const views = ctx.state.instancesIn(zone).map((i) => instanceView(ctx, i));
        return {
          status: 200,
          body: listReply(
            'compute#instanceList',
            `projects/${ctx.state.project}/zones/${zone}/instances`,
            link(ctx, `zones/${zone}/instances`),
            views,
            call.query,
          ),
        };
      },
    },
    {
      http: 'GET',
      path: /^\/aggregated\/instances$/,
      method: 'instances.aggregatedList',
      handle: (call) => {
        const views = [...ctx.state.instances.values()].map((i) => ({ zone: i.zone, view: instanceView(ctx, i) }));
        return {
          status: 200,
          body: aggregatedReply(
            'compute#instanceAggregatedList',
            'instances',
            `projects/${ctx.state.project}/aggregated/instances`,
            link(ctx, 'aggregated/instances'),
            ctx.state.zones,
            views,
            call.query,
          ),
        };
      },
    },
    {
      http: 'GET',
      path: /^\/zones\/([^/]+)\/instances\/([^/]+)$/,
      method: 'instances.get',
      handle: (call) => ({ status: 200, body: instanceView(ctx, instanceOr404(ctx, call)) }),
    },
    {
      http: 'DELETE',
      path: /^\/zones\/([^/]+)\/instances\/([^/]+)$/,
      method: 'instances.delete',
      mutation: true,
      handle: (call) => remove(ctx, call, instanceOr404(ctx, call)),
    },
    {
      http: 'POST',
      path: /^\/zones\/([^/]+)\/instances\/([^/]+)\/reset$/,
      method: 'instances.reset',
      mutation: true,
      handle: (call) => reset(ctx, call, instanceOr404(ctx, call)),
    },
    {
      http: 'POST',
      path: /^\/zones\/([^/]+)\/instances\/([^/]+)\/setLabels$/,
      method: 'instances.setLabels',
      mutation: true,
      handle: (call) => setLabels(ctx, call, instanceOr404(ctx, call)),
    },
    {
      http: 'POST',
      path: /^\/zones\/([^/]+)\/instances\/([^/]+)\/attachDisk$/,
      method: 'instances.attachDisk',
      mutation: true,
      handle: (call) => attachDisk(ctx, call, instanceOr404(ctx, call)),
    },
    {
      http: 'POST',
      path: /^\/zones\/([^/]+)\/instances\/([^/]+)\/detachDisk$/,
      method: 'instances.detachDisk',
      mutation: true,
      handle: (call) => detachDisk(ctx, call, instanceOr404(ctx, call)),
    },
  ];
}

export function requireZone(ctx: FakeContext, zone: string): string {
  if (!ctx.state.zones.includes(zone)) throw notFound(`projects/${ctx.state.project}/zones/${zone}`);
  return zone;
}

function instanceOr404(ctx: FakeContext, call: RouteCall): FakeInstance {
  const zone = requireZone(ctx, call.params[0]!);
  const instance = ctx.state.instances.get(`${zone}/${call.params[1]}`);
  if (!instance) throw notFound(`projects/${ctx.state.project}/zones/${zone}/instances/${call.params[1]}`);
  return instance;
}

function instancePath(ctx: FakeContext, instance: FakeInstance): string {
  return `projects/${ctx.state.project}/zones/${instance.zone}/instances/${instance.name}`;
}

/** A custom machine type, `e2-custom-CPUS-MEMORY`: E2 allows 2 to 32 even vCPUs and 0.5 to 8 GB per vCPU in 256 MB steps. */
function customMachine(name: string): { guestCpus: number; memoryMb: number } | undefined {
  const match = /^e2-custom-(\d+)-(\d+)$/.exec(name);
  if (!match) return undefined;
  const cpus = Number(match[1]);
  const memory = Number(match[2]);
  const ok =
    cpus >= 2 && cpus <= 32 && cpus % 2 === 0 && memory % 256 === 0 && memory >= 512 * cpus && memory <= 8192 * cpus;
  return ok ? { guestCpus: cpus, memoryMb: memory } : undefined;
}

function insert(ctx: FakeContext, call: RouteCall): Reply {
  const { state } = ctx;
  const zone = requireZone(ctx, call.params[0]!);
  const body = call.body;
  const name = checkName(body.name);
  if (state.instances.has(`${zone}/${name}`))
    throw alreadyExists(`projects/${state.project}/zones/${zone}/instances/${name}`);
  if (typeof body.machineType !== 'string') throw required('resource.machineType');
  const machine = parseReference(body.machineType, 'machineTypes');
  const machineName = machine?.name ?? '';
  if (
    !machine ||
    (machine.zone && machine.zone !== zone) ||
    (!MACHINE_TYPES.some((m) => m.name === machineName) && !customMachine(machineName))
  ) {
    throw invalid(
      'resource.machineType',
      body.machineType,
      `Machine type with name '${machineName}' does not exist in zone '${zone}'.`,
    );
  }
  const disks = Array.isArray(body.disks) ? (body.disks as Array<Record<string, unknown>>) : [];
  const bootIndex = Math.max(
    0,
    disks.findIndex((d) => d.boot === true),
  );
  const boot = disks[bootIndex];
  if (!boot) throw invalid('resource.disks', '', 'An instance must have a boot disk.');
  if (disks.length > 1)
    throw invalid(
      'resource.disks',
      '',
      'The fake creates instances with their boot disk only; attach persistent disks with instances.attachDisk.',
    );
  const params = (boot.initializeParams ?? {}) as Record<string, unknown>;
  const field = `resource.disks[${bootIndex}].initializeParams`;
  if (typeof params.sourceImage !== 'string') throw required(`${field}.sourceImage`);
  const image = findImage(ctx, params.sourceImage);
  if (!image)
    throw invalid(`${field}.sourceImage`, params.sourceImage, 'The referenced image resource cannot be found.');
  if (image.status !== 'READY') throw notReady(imageRefOf(image));
  const diskType = parseReference(params.diskType ?? `zones/${zone}/diskTypes/pd-standard`, 'diskTypes')?.name ?? '';
  if (DISK_TYPES[diskType] === undefined)
    throw invalid(`${field}.diskType`, params.diskType, `Disk type '${diskType}' does not exist in zone '${zone}'.`);
  const bootGb = params.diskSizeGb === undefined ? image.diskSizeGb : Number(params.diskSizeGb);
  if (!Number.isInteger(bootGb) || bootGb < image.diskSizeGb) {
    throw invalid(
      `${field}.diskSizeGb`,
      String(params.diskSizeGb),
      `Requested disk size cannot be smaller than the image size (${image.diskSizeGb} GB)`,
    );
  }
  const bootName = typeof params.diskName === 'string' ? checkName(params.diskName, `${field}.diskName`) : name;
  if (state.disks.has(`${zone}/${bootName}`))
    throw alreadyExists(`projects/${state.project}/zones/${zone}/disks/${bootName}`);
  const nic = (Array.isArray(body.networkInterfaces) ? body.networkInterfaces[0] : undefined) as
    | Record<string, unknown>
    | undefined;
  const network = parseReference(nic?.network ?? 'global/networks/default', 'networks');
  if (!network || (network.project && network.project !== state.project) || !state.networks.includes(network.name)) {
    throw invalid(
      'resource.networkInterfaces[0].network',
      nic?.network,
      'The referenced network resource cannot be found.',
    );
  }
  const subnetwork = nic?.subnetwork === undefined ? undefined : parseReference(nic.subnetwork, 'subnetworks');
  if (nic?.subnetwork !== undefined && (!subnetwork || subnetwork.region !== state.region(zone))) {
    throw invalid(
      'resource.networkInterfaces[0].subnetwork',
      nic.subnetwork,
      `The referenced subnetwork resource cannot be found in region '${state.region(zone)}'.`,
    );
  }
  const networkIP =
    nic?.networkIP === undefined
      ? `10.128.${Math.floor(Math.random() * 250)}.${2 + Math.floor(Math.random() * 250)}`
      : checkIp(nic.networkIP, 'resource.networkInterfaces[0].networkIP');
  const labels = checkLabels(body.labels);
  const metadataItems = checkMetadataItems(body.metadata);
  const tags = ((body.tags as { items?: unknown } | undefined)?.items ?? []) as string[];

  // Decided at insert time, reported by the operation, as GCE does: quota, an address in use.
  let failure: OperationFailure | undefined;
  const live = [...state.instances.values()].filter((i) => !i.deleting).length;
  if (state.quota.vms !== undefined && live + 1 > state.quota.vms) {
    failure = {
      code: 'QUOTA_EXCEEDED',
      message: `Quota 'INSTANCES' exceeded.  Limit: ${state.quota.vms}.0 in region ${state.region(zone)}.`,
      httpStatus: 403,
    };
  }
  const holder = state.holderOfIp(network.name, networkIP);
  if (!failure && holder)
    failure = {
      code: 'IP_IN_USE_BY_ANOTHER_RESOURCE',
      message: `IP '${networkIP}' is already being used by another resource.`,
      httpStatus: 400,
    };
  const injected = ctx.faults.takeOperationFailure('instances.insert');
  const instance: FakeInstance = {
    id: newId(),
    name,
    zone,
    status: 'PROVISIONING',
    machineType: machineName,
    labels,
    labelFingerprint: fingerprint(labels),
    metadataItems,
    metadataFingerprint: fingerprint(metadataItems),
    network: network.name,
    ...(subnetwork ? { subnetwork: `regions/${subnetwork.region}/subnetworks/${subnetwork.name}` } : {}),
    networkIP,
    disks: [
      {
        disk: bootName,
        deviceName: 'persistent-disk-0',
        boot: true,
        autoDelete: boot.autoDelete !== false,
        mode: 'READ_WRITE',
        index: 0,
      },
    ],
    tags,
    scheduling: (body.scheduling ?? {}) as Record<string, unknown>,
    serviceAccounts: (body.serviceAccounts ?? []) as FakeInstance['serviceAccounts'],
    creationTimestamp: timestamp(),
    deleting: false,
  };
  const bootDisk: FakeDisk = {
    id: newId(),
    name: bootName,
    zone,
    sizeGb: bootGb,
    type: diskType,
    status: 'CREATING',
    labels: {},
    labelFingerprint: fingerprint({}),
    users: [name],
    sourceImage: imageRefOf(image),
    creationTimestamp: timestamp(),
  };
  const key = `${zone}/${name}`;
  if (!failure) {
    state.instances.set(key, instance);
    state.disks.set(`${zone}/${bootName}`, bootDisk);
  }
  const operation = ctx.operations.start(
    {
      zone,
      operationType: 'insert',
      targetLink: link(ctx, `zones/${zone}/instances/${name}`),
      targetId: instance.id,
      user: call.token.email,
      durationMs: ctx.timings.buildMs,
      ...(failure ? { failure } : {}),
      work: {
        running: () => {
          if (instance.status === 'PROVISIONING') instance.status = 'STAGING';
        },
        done: () => {
          if (injected) return injected;
          if (instance.deleting || state.instances.get(key) !== instance) return undefined;
          instance.status = 'RUNNING';
          instance.lastStartTimestamp = timestamp();
          bootDisk.status = 'READY';
          ctx.agents.boot(instance.id);
          return undefined;
        },
        failed: (failed) => {
          if (failed.leavesInstance && state.instances.get(key) === instance) {
            instance.status = 'TERMINATED';
            bootDisk.status = 'READY';
            return;
          }
          if (state.instances.get(key) === instance) state.instances.delete(key);
          if (state.disks.get(`${zone}/${bootName}`) === bootDisk) state.disks.delete(`${zone}/${bootName}`);
        },
      },
    },
    call.requestId,
  );
  return operationReply(ctx, operation);
}

/** GCE deletes asynchronously: STOPPING while the operation runs, gone (boot disk too, others detached) when DONE. */
function remove(ctx: FakeContext, call: RouteCall, instance: FakeInstance): Reply {
  const { state } = ctx;
  instance.deleting = true;
  const key = `${instance.zone}/${instance.name}`;
  const operation = ctx.operations.start(
    {
      zone: instance.zone,
      operationType: 'delete',
      targetLink: link(ctx, `zones/${instance.zone}/instances/${instance.name}`),
      targetId: instance.id,
      user: call.token.email,
      durationMs: ctx.timings.transitionMs,
      ...failureOf(ctx, 'instances.delete'),
      work: {
        running: () => {
          if (instance.status !== 'TERMINATED') instance.status = 'STOPPING';
        },
        done: async () => {
          if (state.instances.get(key) !== instance) return;
          await ctx.agents.stop(instance.id);
          for (const attached of instance.disks) {
            const diskKey = `${instance.zone}/${attached.disk}`;
            const disk = state.disks.get(diskKey);
            if (!disk) continue;
            disk.users = disk.users.filter((u) => u !== instance.name);
            if (attached.autoDelete) state.disks.delete(diskKey);
            else disk.lastDetachTimestamp = timestamp();
          }
          state.instances.delete(key);
        },
        failed: () => {
          instance.deleting = false;
          if (instance.status === 'STOPPING') instance.status = 'RUNNING';
        },
      },
    },
    call.requestId,
  );
  return operationReply(ctx, operation);
}

function reset(ctx: FakeContext, call: RouteCall, instance: FakeInstance): Reply {
  if (instance.status !== 'RUNNING' || instance.deleting) throw notReady(instancePath(ctx, instance));
  const operation = ctx.operations.start(
    {
      zone: instance.zone,
      operationType: 'reset',
      targetLink: link(ctx, `zones/${instance.zone}/instances/${instance.name}`),
      targetId: instance.id,
      user: call.token.email,
      durationMs: ctx.timings.transitionMs,
      ...failureOf(ctx, 'instances.reset'),
      work: {
        done: async () => {
          instance.lastStartTimestamp = timestamp();
          // The guest restarts: its agent process dies and boots again.
          await ctx.agents.restart(instance.id);
        },
      },
    },
    call.requestId,
  );
  return operationReply(ctx, operation);
}

/** Labels are replaced whole, guarded by the fingerprint of the labels the caller read. */
function setLabels(ctx: FakeContext, call: RouteCall, instance: FakeInstance): Reply {
  const labels = checkLabels(call.body.labels, 'labels');
  if (call.body.labelFingerprint !== instance.labelFingerprint) {
    throw new FakeApiError(
      412,
      'conditionNotMet',
      'Labels fingerprint either invalid or resource labels have changed',
      'global',
      {},
      { location: 'If-Match', locationType: 'header' },
    );
  }
  instance.labels = labels;
  instance.labelFingerprint = fingerprint(labels);
  const operation = ctx.operations.start(
    {
      zone: instance.zone,
      operationType: 'setLabels',
      targetLink: link(ctx, `zones/${instance.zone}/instances/${instance.name}`),
      targetId: instance.id,
      user: call.token.email,
      durationMs: ctx.timings.transitionMs,
      ...failureOf(ctx, 'instances.setLabels'),
      work: { done: () => undefined },
    },
    call.requestId,
  );
  return operationReply(ctx, operation);
}

function attachDisk(ctx: FakeContext, call: RouteCall, instance: FakeInstance): Reply {
  const { state } = ctx;
  if (instance.deleting) throw notReady(instancePath(ctx, instance));
  const source = parseReference(call.body.source, 'disks');
  if (!source) throw required('resource.source');
  const diskZone = source.zone ?? instance.zone;
  if (diskZone !== instance.zone)
    throw invalid('resource.source', call.body.source, 'Disk must be in the same zone as the instance.');
  const disk = state.disks.get(`${diskZone}/${source.name}`);
  const diskPath = `projects/${state.project}/zones/${diskZone}/disks/${source.name}`;
  if (!disk) throw notFound(diskPath);
  if (disk.status !== 'READY') throw notReady(diskPath);
  const holder = disk.users[0] ?? disk.attachingTo;
  if (holder) throw inUse(diskPath, `projects/${state.project}/zones/${diskZone}/instances/${holder}`);
  const deviceName =
    call.body.deviceName === undefined ? disk.name : checkName(call.body.deviceName, 'resource.deviceName');
  if (instance.disks.some((d) => d.deviceName === deviceName))
    throw invalid(
      'resource.deviceName',
      deviceName,
      `The device name '${deviceName}' is already in use on the instance.`,
    );
  disk.attachingTo = instance.name;
  const attached: FakeAttachedDisk = {
    disk: disk.name,
    deviceName,
    boot: false,
    autoDelete: call.body.autoDelete === true,
    mode: call.body.mode === 'READ_ONLY' ? 'READ_ONLY' : 'READ_WRITE',
    index: Math.max(...instance.disks.map((d) => d.index)) + 1,
  };
  const operation = ctx.operations.start(
    {
      zone: instance.zone,
      operationType: 'attachDisk',
      targetLink: link(ctx, `zones/${instance.zone}/instances/${instance.name}`),
      targetId: instance.id,
      user: call.token.email,
      durationMs: ctx.timings.transitionMs,
      ...failureOf(ctx, 'instances.attachDisk'),
      work: {
        done: () => {
          disk.attachingTo = undefined;
          if (
            state.instances.get(`${instance.zone}/${instance.name}`) !== instance ||
            instance.deleting ||
            state.disks.get(`${diskZone}/${disk.name}`) !== disk
          ) {
            return {
              code: 'RESOURCE_NOT_FOUND',
              message: `The resource '${instancePath(ctx, instance)}' was not found`,
              httpStatus: 404,
            };
          }
          instance.disks.push(attached);
          disk.users.push(instance.name);
          disk.lastAttachTimestamp = timestamp();
          return undefined;
        },
        failed: () => {
          disk.attachingTo = undefined;
        },
      },
    },
    call.requestId,
  );
  return operationReply(ctx, operation);
}

function detachDisk(ctx: FakeContext, call: RouteCall, instance: FakeInstance): Reply {
  const deviceName = call.query.get('deviceName');
  if (!deviceName) throw required('deviceName');
  const attached = instance.disks.find((d) => d.deviceName === deviceName);
  if (!attached) throw invalid('deviceName', deviceName, `No attached disk found with device name '${deviceName}'`);
  if (attached.boot) throw invalid('deviceName', deviceName, 'Boot disk cannot be detached.');
  const operation = ctx.operations.start(
    {
      zone: instance.zone,
      operationType: 'detachDisk',
      targetLink: link(ctx, `zones/${instance.zone}/instances/${instance.name}`),
      targetId: instance.id,
      user: call.token.email,
      durationMs: ctx.timings.transitionMs,
      ...failureOf(ctx, 'instances.detachDisk'),
      work: {
        done: () => {
          instance.disks = instance.disks.filter((d) => d !== attached);
          const disk = ctx.state.disks.get(`${instance.zone}/${attached.disk}`);
          if (disk) {
            disk.users = disk.users.filter((u) => u !== instance.name);
            disk.lastDetachTimestamp = timestamp();
          }
        },
      },
    },
    call.requestId,
  );
  return operationReply(ctx, operation);
}

/** An operation failure queued for this method with failNextOperation. */
export function failureOf(ctx: FakeContext, method: string): { failure?: OperationFailure } {
  const failure = ctx.faults.takeOperationFailure(method);
  return failure ? { failure } : {};
}

export function instanceView(ctx: FakeContext, instance: FakeInstance): Record<string, unknown> {
  const { state } = ctx;
  return {
    kind: 'compute#instance',
    id: instance.id,
    creationTimestamp: instance.creationTimestamp,
    name: instance.name,
    tags: { ...(instance.tags.length ? { items: instance.tags } : {}), fingerprint: fingerprint(instance.tags) },
    machineType: link(ctx, `zones/${instance.zone}/machineTypes/${instance.machineType}`),
    status: instance.status,
    zone: link(ctx, `zones/${instance.zone}`),
    canIpForward: false,
    networkInterfaces: [
      {
        kind: 'compute#networkInterface',
        network: link(ctx, `global/networks/${instance.network}`),
        ...(instance.subnetwork ? { subnetwork: link(ctx, instance.subnetwork) } : {}),
        networkIP: instance.networkIP,
        name: 'nic0',
        fingerprint: fingerprint(instance.networkIP),
        stackType: 'IPV4_ONLY',
      },
    ],
    disks: instance.disks.map((d) => {
      const disk = state.disks.get(`${instance.zone}/${d.disk}`);
      return {
        kind: 'compute#attachedDisk',
        type: 'PERSISTENT',
        mode: d.mode,
        source: link(ctx, `zones/${instance.zone}/disks/${d.disk}`),
        deviceName: d.deviceName,
        index: d.index,
        boot: d.boot,
        autoDelete: d.autoDelete,
        interface: 'SCSI',
        ...(disk ? { diskSizeGb: String(disk.sizeGb) } : {}),
      };
    }),
    metadata: {
      kind: 'compute#metadata',
      fingerprint: instance.metadataFingerprint,
      ...(instance.metadataItems.length ? { items: instance.metadataItems } : {}),
    },
    ...(instance.serviceAccounts.length ? { serviceAccounts: instance.serviceAccounts } : {}),
    selfLink: link(ctx, `zones/${instance.zone}/instances/${instance.name}`),
    scheduling: {
      onHostMaintenance: 'MIGRATE',
      automaticRestart: true,
      preemptible: false,
      provisioningModel: 'STANDARD',
      ...instance.scheduling,
    },
    cpuPlatform: 'Intel Broadwell',
    ...(Object.keys(instance.labels).length ? { labels: instance.labels } : {}),
    labelFingerprint: instance.labelFingerprint,
    startRestricted: false,
    deletionProtection: false,
    ...(instance.lastStartTimestamp ? { lastStartTimestamp: instance.lastStartTimestamp } : {}),
  };
}
