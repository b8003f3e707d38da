import { FakeApiError, alreadyExists, inUse, invalid, notFound, notReady, required } from './http.js';
import { failureOf, requireZone } from './instances.js';
import { aggregatedReply, listReply } from './lists.js';
import type { OperationFailure } from './operations.js';
import { operationReply } from './operation-routes.js';
import { link, type FakeContext, type Reply, type Route, type RouteCall } from './routes.js';
import { DISK_TYPES, fingerprint, newId, timestamp, type FakeDisk, type FakeSnapshot } from './state.js';
import { checkLabels, checkName, parseReference } from './validate.js';

const MAX_DISK_GB = 65536;

/** Zonal persistent disks (insert, get, list, delete, resize, createSnapshot, setLabels) and global snapshots (get, list, delete). */
export function diskRoutes(ctx: FakeContext): Route[] {
  return [
    {
      http: 'POST',
      path: /^\/zones\/([^/]+)\/disks$/,
      method: 'disks.insert',
      mutation: true,
      handle: (call) => insert(ctx, call),
    },
    {
      http: 'GET',
      path: /^\/zones\/([^/]+)\/disks$/,
      method: 'disks.list',
      handle: (call) => {
        const zone = requireZone(ctx, call.params[0]!);
        const views = [...ctx.state.disks.values()].filter((d) => d.zone === zone).map((d) => diskView(ctx, d));
        return {
          status: 200,
          body: listReply(
            'compute#diskList',
            `projects/${ctx.state.project}/zones/${zone}/disks`,
            link(ctx, `zones/${zone}/disks`),
            views,
            call.query,
          ),
        };
      },
    },
    {
      http: 'GET',
      path: /^\/aggregated\/disks$/,
      method: 'disks.aggregatedList',
      handle: (call) => {
        const views = [...ctx.state.disks.values()].map((d) => ({ zone: d.zone, view: diskView(ctx, d) }));
        return {
          status: 200,
          body: aggregatedReply(
            'compute#diskAggregatedList',
            'disks',
            `projects/${ctx.state.project}/aggregated/disks`,
            link(ctx, 'aggregated/disks'),
            ctx.state.zones,
            views,
            call.query,
          ),
        };
      },
    },
    {
      http: 'GET',
      path: /^\/zones\/([^/]+)\/disks\/([^/]+)$/,
      method: 'disks.get',
      handle: (call) => ({ status: 200, body: diskView(ctx, diskOr404(ctx, call)) }),
    },
    {
      http: 'DELETE',
      path: /^\/zones\/([^/]+)\/disks\/([^/]+)$/,
      method: 'disks.delete',
      mutation: true,
      handle: (call) => remove(ctx, call, diskOr404(ctx, call)),
    },
    {
      http: 'POST',
      path: /^\/zones\/([^/]+)\/disks\/([^/]+)\/resize$/,
      method: 'disks.resize',
      mutation: true,
      handle: (call) => resize(ctx, call, diskOr404(ctx, call)),
    },
    {
      http: 'POST',
      path: /^\/zones\/([^/]+)\/disks\/([^/]+)\/createSnapshot$/,
      method: 'disks.createSnapshot',
      mutation: true,
      handle: (call) => createSnapshot(ctx, call, diskOr404(ctx, call)),
    },
    {
      http: 'POST',
      path: /^\/zones\/([^/]+)\/disks\/([^/]+)\/setLabels$/,
      method: 'disks.setLabels',
      mutation: true,
      handle: (call) => setLabels(ctx, call, diskOr404(ctx, call)),
    },
    {
      http: 'GET',
      path: /^\/global\/snapshots$/,
      method: 'snapshots.list',
      handle: (call) => ({
        status: 200,
        body: listReply(
          'compute#snapshotList',
          `projects/${ctx.state.project}/global/snapshots`,
          link(ctx, 'global/snapshots'),
          [...ctx.state.snapshots.values()].map((s) => snapshotView(ctx, s)),
          call.query,
        ),
      }),
    },
    {
      http: 'GET',
      path: /^\/global\/snapshots\/([^/]+)$/,
      method: 'snapshots.get',
      handle: (call) => ({ status: 200, body: snapshotView(ctx, snapshotOr404(ctx, call)) }),
    },
    {
      http: 'DELETE',
      path: /^\/global\/snapshots\/([^/]+)$/,
      method: 'snapshots.delete',
      mutation: true,
      handle: (call) => removeSnapshot(ctx, call, snapshotOr404(ctx, call)),
    },
  ];
}

function diskPath(ctx: FakeContext, disk: FakeDisk): string {
  return `projects/${ctx.state.project}/zones/${disk.zone}/disks/${disk.name}`;
}

function diskOr404(ctx: FakeContext, call: RouteCall): FakeDisk {
  const zone = requireZone(ctx, call.params[0]!);
  const disk = ctx.state.disks.get(`${zone}/${call.params[1]}`);
  if (!disk) throw notFound(`projects/${ctx.state.project}/zones/${zone}/disks/${call.params[1]}`);
  return disk;
}

function snapshotOr404(ctx: FakeContext, call: RouteCall): FakeSnapshot {
  const snapshot = ctx.state.snapshots.get(call.params[0]!);
  if (!snapshot) throw notFound(`projects/${ctx.state.project}/global/snapshots/${call.params[0]}`);
  return snapshot;
}

function insert(ctx: FakeContext, call: RouteCall): Reply {
  const { state } = ctx;
  const zone = requireZone(ctx, call.params[0]!);
  const name = checkName(call.body.name);
  const key = `${zone}/${name}`;
  if (state.disks.has(key)) throw alreadyExists(`projects/${state.project}/zones/${zone}/disks/${name}`);
  const typeRef = parseReference(call.body.type ?? `zones/${zone}/diskTypes/pd-standard`, 'diskTypes');
  const type = typeRef?.name ?? '';
  if (!typeRef || (typeRef.zone && typeRef.zone !== zone) || DISK_TYPES[type] === undefined) {
    throw invalid('resource.type', call.body.type, `Disk type '${type}' does not exist in zone '${zone}'.`);
  }
  if (call.body.sizeGb === undefined) throw required('resource.sizeGb');
  const sizeGb = Number(call.body.sizeGb);
  if (!Number.isInteger(sizeGb) || sizeGb < DISK_TYPES[type]! || sizeGb > MAX_DISK_GB) {
    throw invalid(
      'resource.sizeGb',
      String(call.body.sizeGb),
      `Disk size must be between ${DISK_TYPES[type]} GB and ${MAX_DISK_GB} GB for disk type '${type}'.`,
    );
  }
  const labels = checkLabels(call.body.labels);
  let failure: OperationFailure | undefined;
  if (state.quota.disks !== undefined && state.persistentDisks().length + 1 > state.quota.disks) {
    failure = {
      code: 'QUOTA_EXCEEDED',
      message: `Quota 'DISKS_TOTAL_GB' exceeded.  Limit: ${state.quota.disks * 10}.0 in region ${state.region(zone)}.`,
      httpStatus: 403,
    };
  }
  const disk: FakeDisk = {
    id: newId(),
    name,
    zone,
    sizeGb,
    type,
    status: 'CREATING',
    labels,
    labelFingerprint: fingerprint(labels),
    users: [],
    creationTimestamp: timestamp(),
  };
  if (!failure) state.disks.set(key, disk);
  const operation = ctx.operations.start(
    {
      zone,
      operationType: 'insert',
      targetLink: link(ctx, `zones/${zone}/disks/${name}`),
      targetId: disk.id,
      user: call.token.email,
      durationMs: ctx.timings.transitionMs,
      ...(failure ? { failure } : failureOf(ctx, 'disks.insert')),
      work: {
        done: () => {
          disk.status = 'READY';
        },
        failed: () => {
          if (state.disks.get(key) === disk) state.disks.delete(key);
        },
      },
    },
    call.requestId,
  );
  return operationReply(ctx, operation);
}

function remove(ctx: FakeContext, call: RouteCall, disk: FakeDisk): Reply {
  const holder = disk.users[0] ?? disk.attachingTo;
  if (holder) throw inUse(diskPath(ctx, disk), `projects/${ctx.state.project}/zones/${disk.zone}/instances/${holder}`);
  const key = `${disk.zone}/${disk.name}`;
  const before = disk.status;
  disk.status = 'DELETING';
  const operation = ctx.operations.start(
    {
      zone: disk.zone,
      operationType: 'delete',
      targetLink: link(ctx, `zones/${disk.zone}/disks/${disk.name}`),
      targetId: disk.id,
      user: call.token.email,
      durationMs: ctx.timings.transitionMs,
      ...failureOf(ctx, 'disks.delete'),
      work: {
        done: () => {
          if (ctx.state.disks.get(key) === disk) ctx.state.disks.delete(key);
        },
        failed: () => {
          disk.status = before;
        },
      },
    },
    call.requestId,
  );
  return operationReply(ctx, operation);
}

function resize(ctx: FakeContext, call: RouteCall, disk: FakeDisk): Reply {
  if (disk.status !== 'READY') throw notReady(diskPath(ctx, disk));
  const sizeGb = Number(call.body.sizeGb);
  if (!Number.isInteger(sizeGb) || sizeGb <= disk.sizeGb) {
    throw invalid(
      'sizeGb',
      String(call.body.sizeGb ?? ''),
      `Requested disk size must be larger than the current size (${disk.sizeGb} GB).`,
    );
  }
  if (sizeGb > MAX_DISK_GB)
    throw invalid('sizeGb', String(sizeGb), `Disk size cannot be larger than ${MAX_DISK_GB} GB.`);
  const operation = ctx.operations.start(
    {
      zone: disk.zone,
      operationType: 'resizeDisk',
      targetLink: link(ctx, `zones/${disk.zone}/disks/${disk.name}`),
      targetId: disk.id,
      user: call.token.email,
      durationMs: ctx.timings.transitionMs,
      ...failureOf(ctx, 'disks.resize'),
      work: {
        done: () => {
          disk.sizeGb = sizeGb;
        },
      },
    },
    call.requestId,
  );
  return operationReply(ctx, operation);
}

function createSnapshot(ctx: FakeContext, call: RouteCall, disk: FakeDisk): Reply {
  const { state } = ctx;
  if (disk.status !== 'READY') throw notReady(diskPath(ctx, disk));
  const name = checkName(call.body.name);
  if (state.snapshots.has(name)) throw alreadyExists(`projects/${state.project}/global/snapshots/${name}`);
  const labels = checkLabels(call.body.labels);
  const snapshot: FakeSnapshot = {
    id: newId(),
    name,
    status: 'CREATING',
    sourceDisk: { zone: disk.zone, name: disk.name, id: disk.id },
    diskSizeGb: disk.sizeGb,
    labels,
    labelFingerprint: fingerprint(labels),
    creationTimestamp: timestamp(),
  };
  state.snapshots.set(name, snapshot);
  // The operation is the disk's (zonal, targetLink the disk); the snapshot itself is global.
  const operation = ctx.operations.start(
    {
      zone: disk.zone,
      operationType: 'createSnapshot',
      targetLink: link(ctx, `zones/${disk.zone}/disks/${disk.name}`),
      targetId: disk.id,
      user: call.token.email,
      durationMs: ctx.timings.transitionMs,
      ...failureOf(ctx, 'disks.createSnapshot'),
      work: {
        running: () => {
          snapshot.status = 'UPLOADING';
        },
        done: () => {
          snapshot.status = 'READY';
        },
        failed: () => {
          if (state.snapshots.get(name) === snapshot) state.snapshots.delete(name);
        },
      },
    },
    call.requestId,
  );
  return operationReply(ctx, operation);
}

function setLabels(ctx: FakeContext, call: RouteCall, disk: FakeDisk): Reply {
  const labels = checkLabels(call.body.labels, 'labels');
  if (call.body.labelFingerprint !== disk.labelFingerprint) {
    throw new FakeApiError(
      412,
      'conditionNotMet',
      'Labels fingerprint either invalid or resource labels have changed',
      'global',
      {},
      { location: 'If-Match', locationType: 'header' },
    );
  }
  disk.labels = labels;
  disk.labelFingerprint = fingerprint(labels);
  const operation = ctx.operations.start(
    {
      zone: disk.zone,
      operationType: 'setLabels',
      targetLink: link(ctx, `zones/${disk.zone}/disks/${disk.name}`),
      targetId: disk.id,
      user: call.token.email,
      durationMs: ctx.timings.transitionMs,
      ...failureOf(ctx, 'disks.setLabels'),
      work: { done: () => undefined },
    },
    call.requestId,
  );
  return operationReply(ctx, operation);
}

function removeSnapshot(ctx: FakeContext, call: RouteCall, snapshot: FakeSnapshot): Reply {
  const before = snapshot.status;
  snapshot.status = 'DELETING';
  const operation = ctx.operations.start(
    {
      operationType: 'delete',
      targetLink: link(ctx, `global/snapshots/${snapshot.name}`),
      targetId: snapshot.id,
      user: call.token.email,
      durationMs: ctx.timings.transitionMs,
      ...failureOf(ctx, 'snapshots.delete'),
      work: {
        done: () => {
          if (ctx.state.snapshots.get(snapshot.name) === snapshot) ctx.state.snapshots.delete(snapshot.name);
        },
        failed: () => {
          snapshot.status = before;
        },
      },
    },
    call.requestId,
  );
  return operationReply(ctx, operation);
}

export function diskView(ctx: FakeContext, disk: FakeDisk): Record<string, unknown> {
  return {
    kind: 'compute#disk',
    id: disk.id,
    creationTimestamp: disk.creationTimestamp,
    name: disk.name,
    sizeGb: String(disk.sizeGb),
    zone: link(ctx, `zones/${disk.zone}`),
    status: disk.status,
    selfLink: link(ctx, `zones/${disk.zone}/disks/${disk.name}`),
    ...(disk.sourceImage ? { sourceImage: `${ctx.baseUrl}/compute/v1/${disk.sourceImage}` } : {}),
    type: link(ctx, `zones/${disk.zone}/diskTypes/${disk.type}`),
    ...(Object.keys(disk.labels).length ? { labels: disk.labels } : {}),
    labelFingerprint: disk.labelFingerprint,
    ...(disk.users.length ? { users: disk.users.map((u) => link(ctx, `zones/${disk.zone}/instances/${u}`)) } : {}),
    ...(disk.lastAttachTimestamp ? { lastAttachTimestamp: disk.lastAttachTimestamp } : {}),
    ...(disk.lastDetachTimestamp ? { lastDetachTimestamp: disk.lastDetachTimestamp } : {}),
    physicalBlockSizeBytes: '4096',
  };
}

function snapshotView(ctx: FakeContext, snapshot: FakeSnapshot): Record<string, unknown> {
  return {
    kind: 'compute#snapshot',
    id: snapshot.id,
    creationTimestamp: snapshot.creationTimestamp,
    name: snapshot.name,
    status: snapshot.status,
    sourceDisk: link(ctx, `zones/${snapshot.sourceDisk.zone}/disks/${snapshot.sourceDisk.name}`),
    sourceDiskId: snapshot.sourceDisk.id,
    diskSizeGb: String(snapshot.diskSizeGb),
    storageBytes: '0',
    storageBytesStatus: 'UP_TO_DATE',
    selfLink: link(ctx, `global/snapshots/${snapshot.name}`),
    ...(Object.keys(snapshot.labels).length ? { labels: snapshot.labels } : {}),
    labelFingerprint: snapshot.labelFingerprint,
    storageLocations: ['us'],
  };
}
