import { FakeHttpError } from './http.js';
import { atLeast, type FakeContext, type Reply, type RouteCall, type ServiceMount } from './routes.js';
import { newId, now, type FakeSnapshot, type FakeVolume } from './state.js';

const VOLUME_TYPES = ['__DEFAULT__', 'lvmdriver-1'];
const DELETABLE = new Set(['available', 'error', 'error_restoring', 'error_extending', 'error_managing']);

/** Cinder v3 (microversions 3.0 - 3.71) under /volume/v3/{project_id}: volumes, the extend action, snapshots. */
export function cinderMount(ctx: FakeContext): ServiceMount {
  const { state } = ctx;
  const volumeOr404 = (id: string): FakeVolume => {
    const volume = state.volumes.get(id);
    if (!volume) throw new FakeHttpError(404, `Volume ${id} could not be found.`);
    return volume;
  };
  const snapshotOr404 = (id: string): FakeSnapshot => {
    const snapshot = state.snapshots.get(id);
    if (!snapshot) throw new FakeHttpError(404, `Snapshot ${id} could not be found.`);
    return snapshot;
  };
  return {
    service: 'volume',
    prefix: /^\/volume\/v3\/([^/]+)/,
    versions: { header: 'volume', min: { major: 3, minor: 0 }, max: { major: 3, minor: 71 } },
    routes: [
      { method: 'POST', path: /^\/volumes$/, operation: 'createVolume', handle: (call) => createVolume(ctx, call) },
      {
        method: 'GET',
        path: /^\/volumes$/,
        operation: 'listVolumes',
        handle: (call) => ({
          status: 200,
          body: {
            volumes: page(filterByMetadata([...state.volumes.values()], call), call).map((v) => ({
              id: v.id,
              name: v.name,
              links: [],
            })),
          },
        }),
      },
      {
        method: 'GET',
        path: /^\/volumes\/detail$/,
        operation: 'listVolumesWithDetails',
        handle: (call) => ({
          status: 200,
          body: {
            volumes: page(filterByMetadata([...state.volumes.values()], call), call).map((v) => volumeView(ctx, v)),
          },
        }),
      },
      {
        method: 'GET',
        path: /^\/volumes\/([^/]+)$/,
        operation: 'showVolume',
        handle: (call) => ({ status: 200, body: { volume: volumeView(ctx, volumeOr404(call.params[1]!)) } }),
      },
      {
        method: 'DELETE',
        path: /^\/volumes\/([^/]+)$/,
        operation: 'deleteVolume',
        handle: (call) => {
          const volume = volumeOr404(call.params[1]!);
          const hasSnapshots = [...state.snapshots.values()].some((s) => s.volumeId === volume.id);
          if (!DELETABLE.has(volume.status) || volume.attachments.length > 0 || hasSnapshots) {
            throw new FakeHttpError(
              400,
              'Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots or be disassociated from snapshots after volume transfer.',
            );
          }
          volume.status = 'deleting';
          ctx.scheduler.later(ctx.timings.transitionMs, () => {
            state.volumes.delete(volume.id);
          });
          return { status: 202 };
        },
      },
      {
        method: 'POST',
        path: /^\/volumes\/([^/]+)\/action$/,
        operation: (body) =>
          (({ 'os-extend': 'extendVolume', 'os-reset_status': 'resetVolumeStatus' }) as Record<string, string>)[
            Object.keys(body)[0] ?? ''
          ] ?? 'volumeAction',
        handle: (call) => volumeAction(ctx, volumeOr404(call.params[1]!), call),
      },
      {
        method: 'POST',
        path: /^\/snapshots$/,
        operation: 'createSnapshot',
        handle: (call) => createSnapshot(ctx, call),
      },
      {
        method: 'GET',
        path: /^\/snapshots\/detail$/,
        operation: 'listSnapshotsWithDetails',
        // Snapshot lists honour the metadata filter from 3.22 on.
        handle: (call) => ({
          status: 200,
          body: {
            snapshots: page(
              atLeast(call.version, 3, 22)
                ? filterByMetadata([...state.snapshots.values()], call)
                : [...state.snapshots.values()],
              call,
            ).map((s) => snapshotView(ctx, s)),
          },
        }),
      },
      {
        method: 'GET',
        path: /^\/snapshots\/([^/]+)$/,
        operation: 'showSnapshot',
        handle: (call) => ({ status: 200, body: { snapshot: snapshotView(ctx, snapshotOr404(call.params[1]!)) } }),
      },
      {
        method: 'DELETE',
        path: /^\/snapshots\/([^/]+)$/,
        operation: 'deleteSnapshot',
        handle: (call) => {
          const snapshot = snapshotOr404(call.params[1]!);
          if (snapshot.status !== 'available' && snapshot.status !== 'error')
            throw new FakeHttpError(400, 'Invalid snapshot: Snapshot status must be available or error.');
          snapshot.status = 'deleting';
          ctx.scheduler.later(ctx.timings.transitionMs, () => {
            state.snapshots.delete(snapshot.id);
          });
          return { status: 202 };
        },
      },
    ],
  };
}

function createVolume(ctx: FakeContext, call: RouteCall): Reply {
  const { state } = ctx;
  const input = call.body.volume as Record<string, unknown> | undefined;
  if (!input || typeof input !== 'object')
    throw new FakeHttpError(400, "Invalid input received: 'volume' is a required property");
  const size = input.size;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1)
    throw new FakeHttpError(400, "Invalid input received: 'size' parameter must be between 1 and 2147483647");
  const zone = input.availability_zone ?? state.zones[0];
  if (typeof zone !== 'string' || !state.zones.includes(zone))
    throw new FakeHttpError(400, `Invalid input received: Availability zone '${String(zone)}' is invalid.`);
  const type = input.volume_type ?? '__DEFAULT__';
  if (typeof type !== 'string' || !VOLUME_TYPES.includes(type))
    throw new FakeHttpError(404, `Volume type with name ${String(type)} could not be found.`);
  const metadata = checkMetadata(input.metadata);
  const used = state.volumes.size;
  if (state.quota.disks !== undefined && used + 1 > state.quota.disks) {
    throw new FakeHttpError(
      413,
      `VolumeLimitExceeded: Maximum number of volumes allowed (${state.quota.disks}) exceeded for quota 'volumes'.`,
    );
  }
  const volume: FakeVolume = {
    id: newId(),
    name: typeof input.name === 'string' ? input.name : null,
    status: 'creating',
    size,
    zone,
    volumeType: type,
    metadata,
    attachments: [],
    created: now(),
    updated: null,
  };
  state.volumes.set(volume.id, volume);
  ctx.scheduler.later(ctx.timings.transitionMs, () => {
    if (volume.status !== 'creating') return;
    volume.status = 'available';
    volume.updated = now();
  });
  return { status: 202, body: { volume: volumeView(ctx, volume) } };
}

function volumeAction(ctx: FakeContext, volume: FakeVolume, call: RouteCall): Reply {
  const action = Object.keys(call.body)[0];
  if (action !== 'os-extend') throw new FakeHttpError(400, `There is no such action: ${action ?? ''}`);
  const newSize = (call.body['os-extend'] as { new_size?: unknown } | undefined)?.new_size;
  if (typeof newSize !== 'number' || !Number.isInteger(newSize))
    throw new FakeHttpError(400, "Invalid input received: 'new_size' must be an integer");
  if (volume.status === 'in-use' && !atLeast(call.version, 3, 42)) {
    throw new FakeHttpError(
      400,
      `Invalid volume: Volume status must be available to extend, but current status is: ${volume.status}.`,
    );
  }
  if (volume.status !== 'available' && volume.status !== 'in-use') {
    throw new FakeHttpError(
      400,
      `Invalid volume: Volume status must be in-use or available to extend, but current status is: ${volume.status}.`,
    );
  }
  if (newSize <= volume.size) {
    throw new FakeHttpError(
      400,
      `Invalid input received: New size for extend must be greater than current size. (current: ${volume.size}, extended: ${newSize}).`,
    );
  }
  const previous = volume.status;
  volume.status = 'extending';
  ctx.scheduler.later(ctx.timings.transitionMs, () => {
    if (volume.status !== 'extending') return;
    volume.size = newSize;
    volume.status = previous;
    volume.updated = now();
  });
  return { status: 202 };
}

function createSnapshot(ctx: FakeContext, call: RouteCall): Reply {
  const input = call.body.snapshot as Record<string, unknown> | undefined;
  if (!input || typeof input.volume_id !== 'string')
    throw new FakeHttpError(400, "Invalid input received: 'volume_id' is a required property");
  const volume = ctx.state.volumes.get(input.volume_id);
  if (!volume) throw new FakeHttpError(404, `Volume ${input.volume_id} could not be found.`);
  const force = input.force === true || input.force === 'true' || input.force === 'True';
  if (volume.status === 'in-use' && !force) {
    throw new FakeHttpError(
      400,
      `Invalid volume: Volume ${volume.id} status must be available, but current status is: in-use.`,
    );
  }
  if (volume.status !== 'available' && volume.status !== 'in-use') {
    throw new FakeHttpError(
      400,
      `Invalid volume: Volume ${volume.id} status must be available or in-use, but current status is: ${volume.status}.`,
    );
  }
  const snapshot: FakeSnapshot = {
    id: newId(),
    volumeId: volume.id,
    name: typeof input.name === 'string' ? input.name : null,
    status: 'creating',
    size: volume.size,
    metadata: checkMetadata(input.metadata),
    created: now(),
  };
  ctx.state.snapshots.set(snapshot.id, snapshot);
  ctx.scheduler.later(ctx.timings.transitionMs, () => {
    if (snapshot.status === 'creating') snapshot.status = 'available';
  });
  return { status: 202, body: { snapshot: snapshotView(ctx, snapshot) } };
}

/** Cinder's `metadata` query parameter: a dict literal (`{"k": "v"}` or Python's `{'k': 'v'}`); every pair must match. */
function filterByMetadata<T extends { metadata: Record<string, string> }>(items: T[], call: RouteCall): T[] {
  const raw = call.query.get('metadata');
  if (raw === null) return items;
  let wanted: Record<string, unknown>;
  try {
    wanted = JSON.parse(raw.replace(/'/g, '"')) as Record<string, unknown>;
  } catch {
    throw new FakeHttpError(400, `Invalid input received: Invalid metadata filter: ${raw}`);
  }
  return items.filter((item) => Object.entries(wanted).every(([k, v]) => item.metadata[k] === String(v)));
}

function page<T extends { id: string }>(items: T[], call: RouteCall): T[] {
  let result = items;
  const marker = call.query.get('marker');
  if (marker !== null) {
    const index = result.findIndex((i) => i.id === marker);
    if (index < 0) throw new FakeHttpError(404, `Marker ${marker} could not be found.`);
    result = result.slice(index + 1);
  }
  const limit = Number(call.query.get('limit') ?? 1000);
  if (!Number.isInteger(limit) || limit < 0)
    throw new FakeHttpError(400, `Invalid input received: limit must be a non-negative integer`);
  return result.slice(0, Math.min(limit, 1000));
}

function volumeView(ctx: FakeContext, v: FakeVolume) {
  return {
    id: v.id,
    name: v.name,
    status: v.status,
    size: v.size,
    availability_zone: v.zone,
    created_at: v.created,
    updated_at: v.updated,
    volume_type: v.volumeType,
    metadata: v.metadata,
    bootable: 'false',
    encrypted: false,
    multiattach: false,
    description: null,
    snapshot_id: null,
    source_volid: null,
    replication_status: null,
    consistencygroup_id: null,
    group_id: null,
    user_id: ctx.state.user.id,
    // Cinder lists an attachment once it is attached; Nova already knows it while attaching.
    attachments: v.attachments
      .filter((a) => a.attached)
      .map((a) => ({
        id: v.id,
        attachment_id: a.attachment_id,
        volume_id: v.id,
        server_id: a.server_id,
        host_name: null,
        device: a.device,
        attached_at: a.attached_at,
      })),
    links: [{ rel: 'self', href: `${ctx.baseUrl}/volume/v3/${ctx.state.project.id}/volumes/${v.id}` }],
  };
}

function snapshotView(ctx: FakeContext, s: FakeSnapshot) {
  return {
    id: s.id,
    volume_id: s.volumeId,
    name: s.name,
    description: null,
    status: s.status,
    size: s.size,
    metadata: s.metadata,
    created_at: s.created,
    updated_at: null,
    progress: s.status === 'available' ? '100%' : '0%',
    user_id: ctx.state.user.id,
    group_snapshot_id: null,
  };
}

function checkMetadata(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new FakeHttpError(400, 'Invalid input received: Invalid metadata: metadata must be a dict');
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (key.length < 1 || key.length > 255 || typeof item !== 'string' || item.length > 255) {
      throw new FakeHttpError(
        400,
        `Invalid input received: Invalid metadata: key or value of ${key} is not a string of at most 255 characters`,
      );
    }
  }
  return { ...(value as Record<string, string>) };
}
