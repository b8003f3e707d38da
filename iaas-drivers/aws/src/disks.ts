import type { CreateVolumeCommandInput, Instance, Volume, VolumeState, VolumeType } from '@aws-sdk/client-ec2';
import {
  SlipwayError,
  assertNever,
  throwIfAborted,
  type CallOptions,
  type CloudInventory,
  type CreateDiskInput,
  type DiskHint,
} from '@slipway/contracts';
import { numberProperty, pollOptions, stringProperty, type AwsContext } from './context.js';
import { PLUGIN } from './errors.js';
import { MANAGED_TAG, REQUEST_ID_TAG, clientToken, gibFromMib, tagList, tagRecord } from './naming.js';
import { pollUntil } from './poll.js';
import { EPHEMERAL_DEVICE, notVisibleYet } from './vms.js';

/** Device names AWS recommends for EBS data volumes (/dev/sd[f-p]); the guest finds the disk by volume id anyway. */
const DEVICE_LETTERS = 'fghijklmnop';

/** See ClientToken generations in vms.ts. */
const MAX_GENERATIONS = 8;

const GONE: ReadonlySet<VolumeState | undefined> = new Set(['deleting', 'deleted']);

/** The persistent-disk verbs on EBS volumes. */
export class DiskOperations {
  private subnetZone?: Promise<string | undefined>;

  constructor(private readonly ctx: AwsContext) {}

  /** CreateVolume with a ClientToken from the request id (EC2 answers a repeated token with the same volume). */
  async create(input: CreateDiskInput, options: CallOptions = {}): Promise<{ diskId: string }> {
    const { signal, requestId } = options;
    throwIfAborted(signal);
    const { config } = this.ctx;
    const properties = input.cloudProperties;
    const zone = await this.zoneFor(input, signal);
    const encrypted = properties?.encrypted === true || config.encrypted === true;
    const tags = tagList(config.default_tags, input.metadata, { [REQUEST_ID_TAG]: requestId, [MANAGED_TAG]: 'true' });
    const iops = numberProperty(properties, 'iops');
    const throughput = numberProperty(properties, 'throughput');
    const params: CreateVolumeCommandInput = {
      AvailabilityZone: zone,
      Size: gibFromMib(input.sizeMb),
      VolumeType: (stringProperty(properties, 'type') ?? config.volume_type) as VolumeType,
      ...(iops !== undefined ? { Iops: iops } : {}),
      ...(throughput !== undefined ? { Throughput: throughput } : {}),
      ...(encrypted ? { Encrypted: true, ...(config.kms_key_arn ? { KmsKeyId: config.kms_key_arn } : {}) } : {}),
      TagSpecifications: [{ ResourceType: 'volume', Tags: tags }],
    };
    for (let generation = 0; generation < MAX_GENERATIONS; generation++) {
      const token = requestId ? clientToken('disk', requestId, generation) : undefined;
      const volume = await this.ctx.ec2.createVolume(
        { ...params, ...(token ? { ClientToken: token } : {}) },
        { signal, permanent: 'DiskError' },
      );
      if (token && (GONE.has(volume.State) || volume.State === 'error')) continue;
      const id = volume.VolumeId!;
      this.ctx.recent.remember(id, tagRecord(tags));
      await this.waitCreated(id, signal);
      return { diskId: id };
    }
    throw new SlipwayError(
      'DiskError',
      `request ${requestId} already created ${MAX_GENERATIONS} volumes that are gone; use a new requestId`,
      { plugin: PLUGIN },
    );
  }

  /** Refuses an attached volume with `Conflict`; a volume already deleting or gone is success. */
  async delete(diskId: string, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    const volume = await this.ctx.ec2.describeVolume(diskId, { signal });
    if (!volume) {
      if (this.ctx.recent.isUnseen(diskId)) throw notVisibleYet('volume', diskId, 'delete');
      this.ctx.recent.forget(diskId);
      return;
    }
    const holders = activeAttachments(volume);
    if (holders.length > 0 || volume.State === 'in-use') {
      throw new SlipwayError(
        'Conflict',
        `EBS volume ${diskId} is attached to ${holders.map((a) => a.InstanceId).join(', ') || 'an instance'}; detach it first`,
        { plugin: PLUGIN },
      );
    }
    if (!GONE.has(volume.State)) await this.ctx.ec2.deleteVolume(diskId, { signal, permanent: 'DiskError' });
    this.ctx.recent.forget(diskId);
  }

  /**
   * AttachVolume at the first free /dev/sd[f-p] and waits for `attached`. Already attached to this instance:
   * success. The hint is the volume id: on Nitro instances the disk shows up as an NVMe device whose serial
   * is the volume id, whatever device name was asked for.
   */
  async attach(vmId: string, diskId: string, options: CallOptions = {}): Promise<{ hint: DiskHint }> {
    const { signal } = options;
    const hint: DiskHint = { kind: 'volumeId', volumeId: diskId };
    let volume = await this.requireVolume(diskId, signal);
    const settling = () =>
      activeAttachments(volume).some((a) => a.State === 'attaching' || a.State === 'detaching' || a.State === 'busy');
    if (settling()) volume = await this.waitSettled(diskId, signal);
    const current = activeAttachments(volume);
    if (current.some((a) => a.InstanceId === vmId)) return { hint };
    if (current[0]) {
      throw new SlipwayError(
        'Conflict',
        `EBS volume ${diskId} is attached to another instance (${current[0].InstanceId})`,
        { plugin: PLUGIN },
      );
    }
    const instance = await this.requireInstance(vmId, signal);
    await this.ctx.ec2.attachVolume(diskId, vmId, freeDevice(instance), { signal, permanent: 'DiskError' });
    await pollUntil(
      async () => {
        const now = await this.requireVolume(diskId, signal);
        const attachment = (now.Attachments ?? []).find((a) => a.InstanceId === vmId);
        if (attachment?.State === 'attached') return true;
        if (!attachment || attachment.State === 'detached' || attachment.State === 'detaching') {
          throw new SlipwayError(
            'DiskError',
            `EBS volume ${diskId} is ${now.State}, not attached to instance ${vmId}, after AttachVolume`,
            { plugin: PLUGIN },
          );
        }
        return undefined;
      },
      pollOptions(this.ctx, `volume ${diskId} to attach to ${vmId}`, signal),
    );
    return { hint };
  }

  /** DetachVolume and waits until EC2 no longer lists the attachment; not attached (or VM gone) is success. */
  async detach(vmId: string, diskId: string, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    let volume = await this.ctx.ec2.describeVolume(diskId, { signal });
    if (!volume) {
      if (this.ctx.recent.isYoung(diskId)) throw notVisibleYet('volume', diskId, 'detach');
      return;
    }
    let attachment = activeAttachments(volume).find((a) => a.InstanceId === vmId);
    if (!attachment) return;
    // EC2 refuses to detach a volume that is still attaching: let that finish first.
    if (attachment.State === 'attaching' || attachment.State === 'busy') {
      volume = await this.waitSettled(diskId, signal);
      attachment = activeAttachments(volume).find((a) => a.InstanceId === vmId);
      if (!attachment) return;
    }
    if (attachment.State !== 'detaching') {
      try {
        await this.ctx.ec2.detachVolume(diskId, vmId, { signal, permanent: 'DiskError' });
      } catch (error) {
        // Detached (or the instance gone) between our look and the call: what detach wanted.
        const code = SlipwayError.is(error) ? error.details?.cloudCode : undefined;
        if (!(code === 'IncorrectState' || (typeof code === 'string' && code.endsWith('.NotFound')))) throw error;
      }
    }
    await pollUntil(
      async () => {
        const now = await this.ctx.ec2.describeVolume(diskId, { signal });
        return !now || !activeAttachments(now).some((a) => a.InstanceId === vmId) ? true : undefined;
      },
      pollOptions(this.ctx, `volume ${diskId} to detach from ${vmId}`, signal),
    );
  }

  async exists(diskId: string, options: CallOptions = {}): Promise<boolean> {
    const volume = await this.ctx.ec2.describeVolume(diskId, { signal: options.signal });
    if (!volume) return this.ctx.recent.isYoung(diskId);
    return !GONE.has(volume.State);
  }

  /** The instance's EBS mappings minus its root and ephemeral volumes. */
  async ofVm(vmId: string, options: CallOptions = {}): Promise<string[]> {
    const instance = await this.requireInstance(vmId, options.signal);
    const own = new Set([deviceKey(instance.RootDeviceName), deviceKey(EPHEMERAL_DEVICE)]);
    return (instance.BlockDeviceMappings ?? [])
      .filter(
        (m) =>
          m.Ebs?.VolumeId &&
          !own.has(deviceKey(m.DeviceName)) &&
          (m.Ebs.Status === 'attached' || m.Ebs.Status === 'attaching'),
      )
      .map((m) => m.Ebs!.VolumeId!);
  }

  /** ModifyVolume, then waits for `optimizing` (the new size is usable from then on) or `completed`. */
  async resize(diskId: string, sizeMb: number, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    const volume = await this.requireVolume(diskId, signal);
    const target = gibFromMib(sizeMb);
    const size = volume.Size ?? 0;
    if (size === target) return;
    if (size > target) {
      throw new SlipwayError(
        'InvalidInput',
        `EBS volume ${diskId} has ${size} GiB; EBS cannot shrink it to ${target} GiB`,
        { plugin: PLUGIN, field: 'sizeMb' },
      );
    }
    await this.ctx.ec2.modifyVolume(diskId, target, { signal, permanent: 'DiskError' });
    await pollUntil(
      async () => {
        const modification = await this.ctx.ec2.describeVolumeModification(diskId, { signal });
        const state = modification?.ModificationState;
        switch (state) {
          case undefined:
          case 'modifying':
            return undefined;
          case 'optimizing':
          case 'completed':
            return (modification?.TargetSize ?? 0) >= target ? true : undefined;
          case 'failed':
            throw new SlipwayError(
              'DiskError',
              `EBS volume ${diskId} modification to ${target} GiB failed: ${modification?.StatusMessage ?? 'no status message'}`,
              { plugin: PLUGIN },
            );
          default:
            return assertNever(state, 'volume modification state');
        }
      },
      pollOptions(this.ctx, `volume ${diskId} to grow to ${target} GiB`, signal),
    );
  }

  async list(tags: Record<string, string>, signal?: AbortSignal): Promise<CloudInventory['disks']> {
    const filters = Object.entries({ ...tags, [MANAGED_TAG]: 'true' }).map(([key, value]) => ({
      Name: `tag:${key}`,
      Values: [value],
    }));
    const volumes = (await this.ctx.ec2.describeVolumes(filters, { signal })).filter((v) => !GONE.has(v.State));
    const disks: CloudInventory['disks'] = volumes.map((v) => diskEntry(v));
    const listed = new Set(disks.map((d) => d.diskId));
    for (const recent of this.ctx.recent.matching('vol-', tags)) {
      if (listed.has(recent.id)) continue;
      const volume = await this.ctx.ec2.describeVolume(recent.id, { signal });
      if (volume && GONE.has(volume.State)) continue;
      disks.push(volume ? diskEntry(volume) : { diskId: recent.id, metadata: recent.tags });
    }
    return disks;
  }

  /** Waits through `creating` (and through EC2 not showing the new volume yet); an `error` volume is deleted and reported. */
  private async waitCreated(diskId: string, signal?: AbortSignal): Promise<Volume> {
    return pollUntil(
      async () => {
        const volume = await this.ctx.ec2.describeVolume(diskId, { signal });
        if (!volume) {
          if (this.ctx.recent.isYoung(diskId)) return undefined;
          throw new SlipwayError('DiskError', `EBS volume ${diskId} disappeared while creating`, {
            plugin: PLUGIN,
            retryable: true,
          });
        }
        const state = volume.State;
        switch (state) {
          case undefined:
          case 'creating':
            return undefined;
          case 'available':
          case 'in-use':
            return volume;
          case 'error':
            await this.ctx.ec2.deleteVolume(diskId, {}).catch((error: unknown) => {
              this.ctx.logger.warn('could not delete the failed volume', { volumeId: diskId, error: String(error) });
            });
            this.ctx.recent.forget(diskId);
            throw new SlipwayError('DiskError', `EBS volume ${diskId} went to error while creating`, {
              plugin: PLUGIN,
            });
          case 'deleting':
          case 'deleted':
            throw new SlipwayError('DiskError', `EBS volume ${diskId} is ${state} while creating`, { plugin: PLUGIN });
          default:
            return assertNever(state, 'volume state');
        }
      },
      pollOptions(this.ctx, `volume ${diskId} to be available`, signal),
    );
  }

  private async waitSettled(diskId: string, signal?: AbortSignal): Promise<Volume> {
    return pollUntil(
      async () => {
        const volume = await this.requireVolume(diskId, signal);
        return activeAttachments(volume).some((a) => a.State !== 'attached') ? undefined : volume;
      },
      pollOptions(this.ctx, `volume ${diskId} to finish attaching or detaching`, signal),
    );
  }

  private async requireVolume(diskId: string, signal?: AbortSignal): Promise<Volume> {
    const volume = await this.ctx.ec2.describeVolume(diskId, { signal });
    if (volume && !GONE.has(volume.State)) return volume;
    if (!volume && this.ctx.recent.isYoung(diskId)) throw notVisibleYet('volume', diskId, 'use');
    throw new SlipwayError('NotFound', `EBS volume ${diskId} does not exist`, { plugin: PLUGIN });
  }

  private async requireInstance(vmId: string, signal?: AbortSignal): Promise<Instance> {
    const instance = await this.ctx.ec2.describeInstance(vmId, { signal });
    if (instance) return instance;
    if (this.ctx.recent.isYoung(vmId)) throw notVisibleYet('instance', vmId, 'use');
    throw new SlipwayError('NotFound', `EC2 instance ${vmId} does not exist`, { plugin: PLUGIN });
  }

  /** The zone a disk must live in: the call's, else its VM's (EBS attaches only within a zone), else configured ones. */
  private async zoneFor(input: CreateDiskInput, signal?: AbortSignal): Promise<string> {
    if (input.zone) return input.zone;
    if (input.vmId) {
      const zone = (await this.ctx.ec2.describeInstance(input.vmId, { signal }))?.Placement?.AvailabilityZone;
      if (zone) return zone;
    }
    const configured =
      stringProperty(input.cloudProperties, 'availability_zone') ??
      this.ctx.config.availability_zone ??
      (await this.zoneOfSubnet(signal));
    if (configured) return configured;
    throw new SlipwayError(
      'InvalidInput',
      'no availability zone for the disk: give a vmId or zone, or set availability_zone or subnet_id in the config',
      {
        plugin: PLUGIN,
        field: 'availability_zone',
      },
    );
  }

  /** The configured subnet's zone, looked up once. */
  private zoneOfSubnet(signal?: AbortSignal): Promise<string | undefined> {
    const subnetId = this.ctx.config.subnet_id;
    if (!subnetId) return Promise.resolve(undefined);
    if (!this.subnetZone) {
      const pending = this.ctx.ec2.describeSubnet(subnetId, { signal }).then((s) => s?.AvailabilityZone);
      this.subnetZone = pending;
      pending.catch(() => {
        if (this.subnetZone === pending) this.subnetZone = undefined;
      });
    }
    return this.subnetZone;
  }
}

/** Attachments that hold the volume (EC2 keeps listing `detached` ones for a moment). */
function activeAttachments(volume: Volume) {
  return (volume.Attachments ?? []).filter((a) => a.State !== 'detached');
}

/** `/dev/sdf` and `/dev/xvdf` name the same slot. */
function deviceKey(device: string | undefined): string {
  return (device ?? '').replace(/^\/dev\//, '').replace(/^(xv|s)d/, '');
}

function freeDevice(instance: Instance): string {
  const used = new Set((instance.BlockDeviceMappings ?? []).map((m) => deviceKey(m.DeviceName)));
  used.add(deviceKey(instance.RootDeviceName));
  const letter = [...DEVICE_LETTERS].find((l) => !used.has(l));
  if (!letter)
    throw new SlipwayError('DiskError', `EC2 instance ${instance.InstanceId} has no free device name in /dev/sd[f-p]`, {
      plugin: PLUGIN,
    });
  return `/dev/sd${letter}`;
}

function diskEntry(volume: Volume): CloudInventory['disks'][number] {
  const attachment = activeAttachments(volume)[0];
  return {
    diskId: volume.VolumeId!,
    ...(attachment?.InstanceId ? { vmId: attachment.InstanceId } : {}),
    metadata: tagRecord(volume.Tags),
    ...(volume.Size !== undefined ? { sizeMb: volume.Size * 1024 } : {}),
  };
}
