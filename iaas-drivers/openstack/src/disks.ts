import {
  SlipwayError,
  throwIfAborted,
  type CallOptions,
  type CloudInventory,
  type CreateDiskInput,
  type DiskHint,
} from '@slipway/contracts';
import type { Snapshot, Volume } from './block-storage.js';
import { stringProperty, type OpenStackContext } from './context.js';
import { PLUGIN } from './errors.js';
import { REQUEST_ID_KEY, metadataOf, resourceName } from './naming.js';
import { pollUntil } from './poll.js';

/** Cinder sizes are whole GiB: a size in MiB is rounded up, never down (a disk is never smaller than asked). */
export function gibFromMib(sizeMb: number): number {
  return Math.max(1, Math.ceil(sizeMb / 1024));
}

/** Statuses a volume leaves by itself. */
const SETTLING: ReadonlySet<string> = new Set(['creating', 'reserved', 'attaching', 'detaching', 'extending']);

const FAILED_VOLUME: ReadonlySet<string> = new Set([
  'error',
  'error_deleting',
  'error_extending',
  'error_restoring',
  'deleting',
]);

/** The persistent-disk verbs on Cinder (volumes, snapshots) and Nova (volume attachments). */
export class DiskOperations {
  constructor(private readonly ctx: OpenStackContext) {}

  /** Idempotent through the `slipway.request_id` volume metadata, which Cinder filters on server-side. */
  async create(input: CreateDiskInput, options: CallOptions = {}): Promise<{ diskId: string }> {
    const { signal, requestId } = options;
    throwIfAborted(signal);
    if (requestId) {
      const existing = (await this.ctx.volumes.listVolumes({ [REQUEST_ID_KEY]: requestId }, { signal })).find(
        (v) => !FAILED_VOLUME.has(v.status),
      );
      if (existing) return { diskId: (await this.waitCreated(existing.id, signal)).id };
    }
    const zone =
      input.zone ??
      (input.vmId && !this.ctx.config.ignore_server_availability_zone
        ? await this.serverZone(input.vmId, signal)
        : undefined) ??
      stringProperty(input.cloudProperties, 'availability_zone') ??
      this.ctx.config.availability_zone;
    const volumeType = stringProperty(input.cloudProperties, 'type') ?? this.ctx.config.volume_type;
    const volume = await this.ctx.volumes.createVolume(
      {
        size: gibFromMib(input.sizeMb),
        name: resourceName('slipway-disk', requestId ?? String(this.ctx.clock.now())),
        metadata: metadataOf({ ...input.metadata, [REQUEST_ID_KEY]: requestId }),
        ...(zone ? { availability_zone: zone } : {}),
        ...(volumeType ? { volume_type: volumeType } : {}),
      },
      { signal },
    );
    return { diskId: (await this.waitCreated(volume.id, signal)).id };
  }

  /** Refuses an attached volume with `Conflict` (Cinder would answer a 400); waits until the volume is gone. */
  async delete(diskId: string, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    const volume = await this.ctx.volumes.showVolume(diskId, { signal });
    if (!volume) return;
    if (volume.attachments.length > 0 || volume.status === 'in-use') {
      throw new SlipwayError(
        'Conflict',
        `volume ${diskId} is attached to server ${volume.attachments.map((a) => a.server_id).join(', ')}; detach it first`,
        { plugin: PLUGIN },
      );
    }
    if (volume.status !== 'deleting' && !(await this.ctx.volumes.deleteVolume(diskId, { signal }))) return;
    await pollUntil(async () => {
      const current = await this.ctx.volumes.showVolume(diskId, { signal });
      if (current?.status === 'error_deleting')
        throw new SlipwayError('DiskError', `volume ${diskId} went to error_deleting`, { plugin: PLUGIN });
      return current ? undefined : true;
    }, this.pollOptions(signal));
  }

  /**
   * Attaches through Nova and waits for Cinder's `in-use`. Already attached to this server: success.
   * The hint is the volume id: with virtio the device name Nova reports is a guess; the guest finds the disk
   * as /dev/disk/by-id/virtio-<first 20 characters of the id>.
   */
  async attach(vmId: string, diskId: string, options: CallOptions = {}): Promise<{ hint: DiskHint }> {
    const { signal } = options;
    const hint: DiskHint = { kind: 'volumeId', volumeId: diskId };
    let volume = await this.requireVolume(diskId, signal);
    // Cinder lists an attachment only once it is attached: let an attach or detach in flight finish first.
    if (SETTLING.has(volume.status)) volume = await this.waitSettled(diskId, signal);
    if (volume.attachments.some((a) => a.server_id === vmId)) return { hint };
    const other = volume.attachments[0];
    if (other)
      throw new SlipwayError('Conflict', `volume ${diskId} is attached to another server (${other.server_id})`, {
        plugin: PLUGIN,
      });
    await this.ctx.compute.attachVolume(vmId, diskId, { signal });
    await this.waitAttached(diskId, vmId, signal);
    return { hint };
  }

  /** Detaches and waits until Cinder no longer lists the server among the volume's attachments. */
  async detach(vmId: string, diskId: string, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    // Already detaching: a repeat of a call whose answer was lost. Nova refuses a second detach (400) until the
    // first ends, so wait for it instead.
    const before = await this.ctx.volumes.showVolume(diskId, { signal });
    if (!before) return;
    if (before.status !== 'detaching' && !(await this.ctx.compute.detachVolume(vmId, diskId, { signal }))) return;
    await pollUntil(async () => {
      const volume = await this.ctx.volumes.showVolume(diskId, { signal });
      if (!volume) return true;
      return volume.status !== 'detaching' && !volume.attachments.some((a) => a.server_id === vmId) ? true : undefined;
    }, this.pollOptions(signal));
  }

  async exists(diskId: string, options: CallOptions = {}): Promise<boolean> {
    return (await this.ctx.volumes.showVolume(diskId, { signal: options.signal })) !== undefined;
  }

  async ofVm(vmId: string, options: CallOptions = {}): Promise<string[]> {
    const attachments = await this.ctx.compute.listVolumeAttachments(vmId, { signal: options.signal });
    if (!attachments) throw new SlipwayError('NotFound', `compute server ${vmId} does not exist`, { plugin: PLUGIN });
    return attachments.map((a) => a.volumeId);
  }

  /** os-extend, then waits for the volume to leave `extending`. In-use volumes need volume API 3.42+. */
  async resize(diskId: string, sizeMb: number, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    const volume = await this.requireVolume(diskId, signal);
    const sizeGb = gibFromMib(sizeMb);
    if (volume.size === sizeGb) return;
    if (volume.size > sizeGb) {
      throw new SlipwayError(
        'InvalidInput',
        `volume ${diskId} has ${volume.size} GiB; Cinder cannot shrink it to ${sizeGb} GiB`,
        { plugin: PLUGIN, field: 'sizeMb' },
      );
    }
    // Already extending: a repeat of a call whose answer was lost. Extending again is refused (400) until it ends.
    if (volume.status !== 'extending') await this.ctx.volumes.extendVolume(diskId, sizeGb, { signal });
    await pollUntil(async () => {
      const current = await this.requireVolume(diskId, signal);
      if (current.status === 'error_extending')
        throw new SlipwayError('DiskError', `volume ${diskId} went to error_extending`, { plugin: PLUGIN });
      return current.status !== 'extending' && current.size >= sizeGb ? true : undefined;
    }, this.pollOptions(signal));
  }

  /** Idempotent through the snapshot's `slipway.request_id` metadata (Cinder filters snapshots on it since 3.22). */
  async snapshot(
    diskId: string,
    metadata: Record<string, string> | undefined,
    options: CallOptions = {},
  ): Promise<{ snapshotId: string }> {
    const { signal, requestId } = options;
    throwIfAborted(signal);
    if (requestId) {
      const existing = (await this.ctx.volumes.listSnapshots({ [REQUEST_ID_KEY]: requestId }, { signal })).find(
        (s) => s.status !== 'error' && s.status !== 'deleting' && s.status !== 'deleted',
      );
      if (existing) return { snapshotId: (await this.waitSnapshot(existing, signal)).id };
    }
    const snapshot = await this.ctx.volumes.createSnapshot(
      {
        volume_id: diskId,
        name: resourceName('slipway-snapshot', requestId ?? diskId),
        metadata: metadataOf({ ...metadata, [REQUEST_ID_KEY]: requestId }),
      },
      { signal },
    );
    return { snapshotId: (await this.waitSnapshot(snapshot, signal)).id };
  }

  async deleteSnapshot(snapshotId: string, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    const snapshot = await this.ctx.volumes.showSnapshot(snapshotId, { signal });
    if (!snapshot || snapshot.status === 'deleted') return;
    // Already deleting: a repeat of a call whose answer was lost. Cinder refuses a second delete (400) meanwhile.
    if (snapshot.status !== 'deleting' && !(await this.ctx.volumes.deleteSnapshot(snapshotId, { signal }))) return;
    await pollUntil(async () => {
      const current = await this.ctx.volumes.showSnapshot(snapshotId, { signal });
      if (current?.status === 'error_deleting')
        throw new SlipwayError('DiskError', `snapshot ${snapshotId} went to error_deleting`, { plugin: PLUGIN });
      return current && current.status !== 'deleted' ? undefined : true;
    }, this.pollOptions(signal));
  }

  async list(tags: Record<string, string>, signal?: AbortSignal): Promise<CloudInventory['disks']> {
    const volumes = await this.ctx.volumes.listVolumes(tags, { signal });
    return volumes.map((v) => ({
      diskId: v.id,
      ...(v.attachments[0] ? { vmId: v.attachments[0].server_id } : {}),
      metadata: v.metadata ?? {},
      sizeMb: v.size * 1024,
    }));
  }

  /** Waits through `creating`; an `error` volume is deleted and reported. */
  private async waitCreated(diskId: string, signal?: AbortSignal): Promise<Volume> {
    return pollUntil(async () => {
      const volume = await this.requireVolume(diskId, signal);
      if (volume.status === 'error') {
        await this.ctx.volumes.deleteVolume(diskId, {}).catch((cleanup: unknown) => {
          this.ctx.logger.warn('could not delete the failed volume', { volumeId: diskId, error: String(cleanup) });
        });
        throw new SlipwayError('DiskError', `volume ${diskId} went to error while creating`, { plugin: PLUGIN });
      }
      return volume.status === 'creating' ? undefined : volume;
    }, this.pollOptions(signal));
  }

  private async waitSettled(diskId: string, signal?: AbortSignal): Promise<Volume> {
    return pollUntil(async () => {
      const volume = await this.requireVolume(diskId, signal);
      return SETTLING.has(volume.status) ? undefined : volume;
    }, this.pollOptions(signal));
  }

  /** Waits for Cinder's `in-use` with this server attached; back to `available` means Nova's attach failed. */
  private async waitAttached(diskId: string, vmId: string, signal?: AbortSignal): Promise<Volume> {
    return pollUntil(async () => {
      const volume = await this.requireVolume(diskId, signal);
      if (volume.status === 'in-use' && volume.attachments.some((a) => a.server_id === vmId)) return volume;
      if (volume.status === 'available' || volume.status === 'error' || volume.status === 'in-use') {
        throw new SlipwayError(
          'DiskError',
          `volume ${diskId} is ${volume.status}${volume.attachments.length ? ` on ${volume.attachments.map((a) => a.server_id).join(', ')}` : ''}, not attached to server ${vmId}, after the attach`,
          { plugin: PLUGIN },
        );
      }
      return undefined;
    }, this.pollOptions(signal));
  }

  private async waitSnapshot(snapshot: Snapshot, signal?: AbortSignal): Promise<Snapshot> {
    return pollUntil(async () => {
      const current = await this.ctx.volumes.showSnapshot(snapshot.id, { signal });
      if (!current)
        throw new SlipwayError('DiskError', `snapshot ${snapshot.id} disappeared while creating`, { plugin: PLUGIN });
      if (current.status === 'error') {
        await this.ctx.volumes.deleteSnapshot(snapshot.id, {}).catch(() => undefined);
        throw new SlipwayError('DiskError', `snapshot ${snapshot.id} of volume ${snapshot.volume_id} went to error`, {
          plugin: PLUGIN,
        });
      }
      return current.status === 'available' ? current : undefined;
    }, this.pollOptions(signal));
  }

  private async requireVolume(diskId: string, signal?: AbortSignal): Promise<Volume> {
    const volume = await this.ctx.volumes.showVolume(diskId, { signal });
    if (!volume) throw new SlipwayError('NotFound', `volume ${diskId} does not exist`, { plugin: PLUGIN });
    return volume;
  }

  private async serverZone(vmId: string, signal?: AbortSignal): Promise<string | undefined> {
    const server = await this.ctx.compute.showServer(vmId, { signal });
    return server?.['OS-EXT-AZ:availability_zone'] || undefined;
  }

  private pollOptions(signal?: AbortSignal) {
    return { clock: this.ctx.clock, intervalMs: this.ctx.pollIntervalMs, signal };
  }
}
