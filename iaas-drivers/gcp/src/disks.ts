import {
  SlipwayError,
  type CallOptions,
  type CloudInventory,
  type CreateDiskInput,
  type DiskHint,
} from '@slipway/contracts';
import { stringProperty, type GcpContext } from './context.js';
import { PLUGIN, throwIfCancelled } from './errors.js';
import { labelFilter, labelsOf, metadataOf } from './labels.js';
import { lastSegment, parseZonalId, resourceName, zonalId, zonalRefOfUrl, type ZonalRef } from './names.js';
import type { Disk, Operation } from './resources.js';
import { REQUEST_ID_LABEL, type VmOperations } from './vms.js';

/** Smallest size GCE accepts per disk type, in GB; unknown types are left to GCE to judge. */
const MINIMUM_GB: Readonly<Record<string, number>> = {
  'pd-standard': 10,
  'pd-balanced': 10,
  'pd-ssd': 10,
  'pd-extreme': 500,
  'hyperdisk-balanced': 4,
  'hyperdisk-extreme': 64,
  'hyperdisk-throughput': 2048,
};

/** GCE sizes are whole GB, never below the type's minimum: a disk is never smaller than asked. */
export function diskSizeGb(sizeMb: number, diskType: string): number {
  return Math.max(MINIMUM_GB[diskType] ?? 1, Math.ceil(sizeMb / 1024));
}

/** The persistent-disk verbs: zonal disks, instances' attachDisk/detachDisk, global snapshots. */
export class DiskOperations {
  constructor(
    private readonly ctx: GcpContext,
    private readonly vms: VmOperations,
  ) {}

  /** `disks.insert` in the zone of the VM it is meant for; idempotent like createVm (requestId and a derived name). */
  async create(input: CreateDiskInput, options: CallOptions = {}): Promise<{ diskId: string }> {
    const { signal, requestId } = options;
    throwIfCancelled(signal);
    const properties = input.cloudProperties;
    const zone =
      input.zone ??
      (input.vmId ? parseZonalId(input.vmId, 'vmId').zone : undefined) ??
      stringProperty(properties, 'zone') ??
      this.ctx.config.zone;
    const ref: ZonalRef = { zone, name: resourceName('slipway-disk', requestId) };
    const type = stringProperty(properties, 'type') ?? this.ctx.config.disk_type ?? 'pd-balanced';
    const body = {
      name: ref.name,
      sizeGb: String(diskSizeGb(input.sizeMb, type)),
      type: `projects/${this.ctx.project}/zones/${zone}/diskTypes/${type}`,
      labels: labelsOf({ ...input.metadata, [REQUEST_ID_LABEL]: requestId }),
    };
    try {
      await this.ctx.operations.run({
        method: 'disks.insert',
        permanent: 'DiskError',
        signal,
        ...(requestId ? { idempotencyKey: `createDisk:${zone}:${requestId}` } : {}),
        send: (gceRequestId) =>
          this.ctx.client.startOperation('disks.insert', `/zones/${zone}/disks`, {
            requestId: gceRequestId,
            json: body,
            signal,
            permanent: 'DiskError',
          }),
      });
    } catch (error) {
      if (!(requestId !== undefined && SlipwayError.is(error, 'AlreadyExists'))) throw error;
    }
    return { diskId: zonalId(ref) };
  }

  /** `disks.delete`; GCE refuses an attached disk with resourceInUseByAnotherResource, which is a Conflict. */
  async delete(diskId: string, options: CallOptions = {}): Promise<void> {
    const ref = parseZonalId(diskId, 'diskId');
    try {
      await this.ctx.operations.run({
        method: 'disks.delete',
        permanent: 'DiskError',
        signal: options.signal,
        send: (gceRequestId) =>
          this.ctx.client.startOperation('disks.delete', `/zones/${ref.zone}/disks/${ref.name}`, {
            requestId: gceRequestId,
            http: 'DELETE',
            signal: options.signal,
            permanent: 'DiskError',
          }),
      });
    } catch (error) {
      if (!SlipwayError.is(error, 'NotFound')) throw error;
    }
  }

  /**
   * `instances.attachDisk` with the disk's name as device name, so the guest finds it at
   * /dev/disk/by-id/google-NAME. Attached to this VM already: success. Held by a TERMINATED instance (a VM
   * that died, see VmOperations.exists): detached from it first, which is what replacing a dead VM needs.
   * Held by a live instance: Conflict.
   */
  async attach(vmId: string, diskId: string, options: CallOptions = {}): Promise<{ hint: DiskHint }> {
    const { signal } = options;
    const vm = parseZonalId(vmId, 'vmId');
    const ref = parseZonalId(diskId, 'diskId');
    const hint: DiskHint = { kind: 'path', path: `/dev/disk/by-id/google-${ref.name}` };
    const instance = await this.vms.get(vm, signal);
    if (!instance) throw new SlipwayError('NotFound', `instance ${vmId} does not exist`, { plugin: PLUGIN });
    if (instance.disks?.some((d) => d.source && sameDisk(d.source, ref))) return { hint };
    const disk = await this.requireDisk(ref, signal);
    for (const user of disk.users ?? []) {
      const holder = zonalRefOfUrl(user);
      if (!holder || (holder.zone === vm.zone && holder.name === vm.name)) continue;
      const held = await this.vms.get(holder, signal);
      if (held && held.status !== 'TERMINATED') {
        throw new SlipwayError(
          'Conflict',
          `disk ${diskId} is attached to instance ${zonalId(holder)}; detach it there first`,
          { plugin: PLUGIN, details: { holder: zonalId(holder) } },
        );
      }
      if (held) await this.detach(zonalId(holder), diskId, { signal });
    }
    try {
      await this.ctx.operations.run({
        method: 'instances.attachDisk',
        permanent: 'DiskError',
        signal,
        send: () =>
          this.ctx.client.startOperation('instances.attachDisk', `/zones/${vm.zone}/instances/${vm.name}/attachDisk`, {
            json: {
              source: `projects/${this.ctx.project}/zones/${ref.zone}/disks/${ref.name}`,
              deviceName: ref.name,
              autoDelete: false,
              mode: 'READ_WRITE',
              type: 'PERSISTENT',
            },
            signal,
            permanent: 'DiskError',
          }),
      });
    } catch (error) {
      if (!SlipwayError.is(error, 'Conflict') || !(await this.finishAttachInFlight(vm, ref, signal))) throw error;
    }
    return { hint };
  }

  /**
   * GCE refuses an attach while an earlier attach of the same disk is still running (an engine retry after
   * a failed wait does that). That operation is found among the instance's unfinished attachDisk operations
   * and waited for; true when the disk is attached afterwards (a refusal for any other holder stays one).
   */
  private async finishAttachInFlight(vm: ZonalRef, ref: ZonalRef, signal?: AbortSignal): Promise<boolean> {
    const target = `${this.ctx.client.projectPath('')}/zones/${vm.zone}/instances/${vm.name}`;
    const running = await this.ctx.client.listAll<Operation>({
      method: 'zoneOperations.list',
      path: this.ctx.client.projectPath(`/zones/${vm.zone}/operations`),
      signal,
      query: { filter: '(operationType = "attachDisk") AND (status != "DONE")' },
    });
    // It may have finished since GCE refused the second attach: the instance is read again either way.
    await Promise.all(
      running.filter((o) => o.targetLink?.endsWith(target)).map((o) => this.ctx.operations.wait(o, signal)),
    );
    const instance = await this.vms.get(vm, signal);
    return instance?.disks?.some((d) => d.source && sameDisk(d.source, ref)) ?? false;
  }

  /** `instances.detachDisk` by the device name the instance lists for the disk; nothing to do when it is not attached. */
  async detach(vmId: string, diskId: string, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    const vm = parseZonalId(vmId, 'vmId');
    const ref = parseZonalId(diskId, 'diskId');
    const instance = await this.vms.get(vm, signal);
    const attached = instance?.disks?.find((d) => d.source && sameDisk(d.source, ref));
    if (!attached?.deviceName) return;
    try {
      await this.ctx.operations.run({
        method: 'instances.detachDisk',
        permanent: 'DiskError',
        signal,
        send: () =>
          this.ctx.client.startOperation('instances.detachDisk', `/zones/${vm.zone}/instances/${vm.name}/detachDisk`, {
            query: { deviceName: attached.deviceName },
            signal,
            permanent: 'DiskError',
          }),
      });
    } catch (error) {
      // The instance was deleted meanwhile, which detaches every disk.
      if (!SlipwayError.is(error, 'NotFound')) throw error;
    }
  }

  async exists(diskId: string, options: CallOptions = {}): Promise<boolean> {
    return (await this.get(parseZonalId(diskId, 'diskId'), options.signal)) !== undefined;
  }

  /** The instance's persistent disks, boot disk excluded. */
  async ofVm(vmId: string, options: CallOptions = {}): Promise<string[]> {
    const instance = await this.vms.get(parseZonalId(vmId, 'vmId'), options.signal);
    if (!instance) throw new SlipwayError('NotFound', `instance ${vmId} does not exist`, { plugin: PLUGIN });
    return (instance.disks ?? [])
      .filter((d) => !d.boot && d.source)
      .flatMap((d) => {
        const ref = zonalRefOfUrl(d.source!);
        return ref ? [zonalId(ref)] : [];
      });
  }

  /** `disks.resize`; a size that rounds to what the disk has is done already; GCE cannot shrink. */
  async resize(diskId: string, sizeMb: number, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    const ref = parseZonalId(diskId, 'diskId');
    const disk = await this.requireDisk(ref, signal);
    const current = Number(disk.sizeGb);
    const wanted = diskSizeGb(sizeMb, disk.type ? lastSegment(disk.type) : 'pd-balanced');
    if (wanted === current) return;
    if (wanted < current) {
      throw new SlipwayError(
        'InvalidInput',
        `disk ${diskId} has ${current} GB; Compute Engine cannot shrink it to ${wanted} GB`,
        { plugin: PLUGIN, field: 'sizeMb' },
      );
    }
    await this.ctx.operations.run({
      method: 'disks.resize',
      permanent: 'DiskError',
      signal,
      ...(options.requestId ? { idempotencyKey: `resizeDisk:${diskId}:${options.requestId}` } : {}),
      send: (gceRequestId) =>
        this.ctx.client.startOperation('disks.resize', `/zones/${ref.zone}/disks/${ref.name}/resize`, {
          requestId: gceRequestId,
          json: { sizeGb: String(wanted) },
          signal,
          permanent: 'DiskError',
        }),
    });
  }

  /** `disks.createSnapshot` (a zonal operation) into a global snapshot named after the request id. */
  async snapshot(
    diskId: string,
    metadata: Record<string, string> | undefined,
    options: CallOptions = {},
  ): Promise<{ snapshotId: string }> {
    const { signal, requestId } = options;
    throwIfCancelled(signal);
    const ref = parseZonalId(diskId, 'diskId');
    const name = resourceName('slipway-snapshot', requestId);
    try {
      await this.ctx.operations.run({
        method: 'disks.createSnapshot',
        permanent: 'DiskError',
        signal,
        ...(requestId ? { idempotencyKey: `snapshotDisk:${diskId}:${requestId}` } : {}),
        send: (gceRequestId) =>
          this.ctx.client.startOperation(
            'disks.createSnapshot',
            `/zones/${ref.zone}/disks/${ref.name}/createSnapshot`,
            {
              requestId: gceRequestId,
              json: { name, labels: labelsOf({ ...metadata, [REQUEST_ID_LABEL]: requestId }) },
              signal,
              permanent: 'DiskError',
            },
          ),
      });
    } catch (error) {
      if (!(requestId !== undefined && SlipwayError.is(error, 'AlreadyExists'))) throw error;
    }
    return { snapshotId: name };
  }

  /** `snapshots.delete`, a global operation. */
  async deleteSnapshot(snapshotId: string, options: CallOptions = {}): Promise<void> {
    try {
      await this.ctx.operations.run({
        method: 'snapshots.delete',
        permanent: 'DiskError',
        signal: options.signal,
        send: (gceRequestId) =>
          this.ctx.client.startOperation('snapshots.delete', `/global/snapshots/${encodeURIComponent(snapshotId)}`, {
            requestId: gceRequestId,
            http: 'DELETE',
            signal: options.signal,
            permanent: 'DiskError',
          }),
      });
    } catch (error) {
      if (!SlipwayError.is(error, 'NotFound')) throw error;
    }
  }

  /** Disks carrying every tag, across zones. */
  async list(tags: Record<string, string>, signal?: AbortSignal): Promise<CloudInventory['disks']> {
    const disks = await this.ctx.client.listAll<Disk>({
      method: 'disks.aggregatedList',
      path: this.ctx.client.projectPath('/aggregated/disks'),
      query: { filter: labelFilter(tags) },
      aggregatedKey: 'disks',
      signal,
    });
    return disks.map((d) => {
      const holder = d.users?.[0] ? zonalRefOfUrl(d.users[0]) : undefined;
      return {
        diskId: zonalId({ zone: lastSegment(d.zone), name: d.name }),
        ...(holder ? { vmId: zonalId(holder) } : {}),
        metadata: metadataOf(d.labels),
        sizeMb: Number(d.sizeGb) * 1024,
      };
    });
  }

  async get(ref: ZonalRef, signal?: AbortSignal): Promise<Disk | undefined> {
    return this.ctx.client.request<Disk>({
      method: 'disks.get',
      path: this.ctx.client.projectPath(`/zones/${ref.zone}/disks/${ref.name}`),
      signal,
      notFoundOk: true,
    });
  }

  private async requireDisk(ref: ZonalRef, signal?: AbortSignal): Promise<Disk> {
    const disk = await this.get(ref, signal);
    if (!disk) throw new SlipwayError('NotFound', `disk ${zonalId(ref)} does not exist`, { plugin: PLUGIN });
    return disk;
  }
}

function sameDisk(source: string, ref: ZonalRef): boolean {
  const found = zonalRefOfUrl(source);
  return found?.zone === ref.zone && found.name === ref.name;
}
