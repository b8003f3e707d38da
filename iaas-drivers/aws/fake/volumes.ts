import { visible, type ActionHandler, type FakeContext } from './context.js';
import { Ec2Error, checkId, invalidValue, missingParameter } from './errors.js';
import { matches, page, parseFilters, tagsFromSpecifications, type FilterSpec } from './filters.js';
import { lookUp } from './instances.js';
import { scheduleVolumeDeletion } from './lifecycle.js';
import { ec2Id, isoNow, type FakeAttachment, type FakeVolume } from './state.js';
import { tagSet, type XmlObject } from './xml.js';

const VOLUME_TYPES: Record<string, { min: number; max: number }> = {
  gp2: { min: 1, max: 16_384 },
  gp3: { min: 1, max: 16_384 },
  io1: { min: 4, max: 16_384 },
  io2: { min: 4, max: 65_536 },
  st1: { min: 125, max: 16_384 },
  sc1: { min: 125, max: 16_384 },
  standard: { min: 1, max: 1_024 },
};

const VOLUME_FILTERS: FilterSpec<FakeVolume> = {
  'volume-id': (v) => [v.id],
  status: (v) => [v.state],
  'availability-zone': (v) => [v.zone],
  size: (v) => [String(v.size)],
  'volume-type': (v) => [v.type],
  'snapshot-id': (v) => [v.snapshotId],
  encrypted: (v) => [String(v.encrypted)],
  'attachment.instance-id': (v) => [v.attachment?.instanceId],
  'attachment.status': (v) => [v.attachment?.state],
  'attachment.device': (v) => [v.attachment?.device],
  'attachment.delete-on-termination': (v) => [v.attachment ? String(v.attachment.deleteOnTermination) : undefined],
};

/** CreateVolume: honours ClientToken as EC2 does (the same volume, or IdempotentParameterMismatch). */
export const createVolume: ActionHandler = (args, ctx) => {
  const { state } = ctx;
  const token = args.str('ClientToken');
  const fingerprint = args.flatten(new Set(['ClientToken', 'Action', 'Version']));
  if (token !== undefined) {
    const known = state.volumeTokens.get(token);
    if (known) {
      if (known.fingerprint !== fingerprint) {
        throw new Ec2Error(
          'IdempotentParameterMismatch',
          'The client token you have provided is associated with a resource that is already deleted or has different parameters. Please use a different client token.',
        );
      }
      const id = known.ids[0]!;
      return volumeXml(state.volumes.get(id) ?? state.purgedVolumes.get(id)!);
    }
  }
  const zone = args.required('AvailabilityZone');
  if (!state.zones.includes(zone)) throw new Ec2Error('InvalidZone.NotFound', `The zone '${zone}' does not exist.`);
  const type = args.str('VolumeType') ?? 'gp2';
  const limits = VOLUME_TYPES[type];
  if (!limits) throw invalidValue('volumeType', type);
  const snapshotId = args.str('SnapshotId');
  const snapshot = snapshotId !== undefined ? state.snapshots.get(snapshotId) : undefined;
  if (snapshotId !== undefined && snapshot?.state !== 'completed')
    throw new Ec2Error('InvalidSnapshot.NotFound', `The snapshot '${snapshotId}' does not exist.`);
  const size = args.int('Size') ?? snapshot?.volumeSize;
  if (size === undefined) throw missingParameter('size');
  if (size < limits.min || size > limits.max) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `The volume size is invalid for ${type} volumes: ${size} GiB. ${type} volumes must be at least ${limits.min} GiB and at most ${limits.max} GiB in size.`,
    );
  }
  const encrypted = args.bool('Encrypted') ?? false;
  const kmsKeyId = args.str('KmsKeyId');
  if (kmsKeyId !== undefined && !encrypted)
    throw new Ec2Error(
      'InvalidParameterDependency',
      'The parameter KmsKeyId requires the parameter Encrypted to be set.',
    );
  const tags = tagsFromSpecifications(args, 'volume', ['volume']);
  if (state.quota.disks !== undefined && state.createdVolumes().length >= state.quota.disks) {
    throw new Ec2Error(
      'VolumeLimitExceeded',
      `You have exceeded your maximum ${type} storage limit in this region (${state.quota.disks} volumes). Please contact AWS Support to request an Elastic Block Store service limit increase.`,
    );
  }
  const volume: FakeVolume = {
    id: ec2Id('vol'),
    size,
    zone,
    type,
    encrypted,
    state: 'creating',
    tags,
    createTime: isoNow(),
    createdAt: Date.now(),
    launchVolume: false,
    ...(args.int('Iops') !== undefined ? { iops: args.int('Iops')! } : type === 'gp3' ? { iops: 3000 } : {}),
    ...(args.int('Throughput') !== undefined
      ? { throughput: args.int('Throughput')! }
      : type === 'gp3'
        ? { throughput: 125 }
        : {}),
    ...(kmsKeyId
      ? { kmsKeyId }
      : encrypted
        ? { kmsKeyId: `arn:aws:kms:${state.region}:${state.accountId}:key/aws-ebs-default` }
        : {}),
    ...(snapshotId ? { snapshotId } : {}),
    ...(token ? { clientToken: token } : {}),
  };
  state.volumes.set(volume.id, volume);
  if (token !== undefined) state.volumeTokens.set(token, { fingerprint, ids: [volume.id] });
  ctx.scheduler.later(ctx.timings.volumeMs, () => {
    if (volume.state === 'creating') volume.state = 'available';
  });
  return volumeXml(volume);
};

export const describeVolumes: ActionHandler = (args, ctx) => {
  const ids = args.strings('VolumeId');
  const filters = parseFilters(args.list('Filter'), VOLUME_FILTERS);
  const volumes =
    ids.length > 0
      ? lookUpVolumes(ctx, ids).filter((v) => matches(v, filters, VOLUME_FILTERS))
      : [...ctx.state.volumes.values()].filter((v) => matches(v, filters, VOLUME_FILTERS) && visible(ctx, v));
  const paged = page(volumes, args, { min: 5, max: 500 });
  return { volumeSet: paged.items.map(volumeXml), ...(paged.nextToken ? { nextToken: paged.nextToken } : {}) };
};

export const attachVolume: ActionHandler = (args, ctx) => {
  const volumeId = args.required('VolumeId');
  const instanceId = args.required('InstanceId');
  const device = args.required('Device');
  const [volume] = lookUpVolumes(ctx, [volumeId]);
  const [instance] = lookUp(ctx, [instanceId]);
  if (!/^\/dev\/(sd|xvd)[a-z]{1,2}$/.test(device))
    throw invalidValue('device', device, `${device} is not a valid EBS device name.`);
  if (volume!.attachment) throw new Ec2Error('VolumeInUse', `${volumeId} is already attached to an instance`);
  if (volume!.state !== 'available')
    throw new Ec2Error('IncorrectState', `Volume '${volumeId}' is in the '${volume!.state}' state.`);
  if (instance!.state !== 'running' && instance!.state !== 'stopped')
    throw new Ec2Error('IncorrectInstanceState', `Instance '${instanceId}' is not 'running'.`);
  if (volume!.zone !== instance!.zone) {
    throw new Ec2Error(
      'InvalidVolume.ZoneMismatch',
      `The volume '${volumeId}' is not in the same availability zone as instance '${instanceId}'`,
    );
  }
  const key = (name: string) => name.replace(/^\/dev\/(xv|s)d/, '');
  const taken = ctx.state.volumesOf(instanceId).map((v) => key(v.attachment!.device));
  if (taken.includes(key(device)) || key(instance!.rootDeviceName) === key(device)) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Invalid value '${device}' for unixDevice. Attachment point ${device} is already in use`,
    );
  }
  const attachment: FakeAttachment = {
    instanceId,
    device,
    state: 'attaching',
    attachTime: isoNow(),
    deleteOnTermination: false,
  };
  volume!.attachment = attachment;
  volume!.state = 'in-use';
  ctx.scheduler.later(ctx.timings.volumeMs, () => {
    if (volume!.attachment === attachment && attachment.state === 'attaching') attachment.state = 'attached';
  });
  return attachmentXml(volume!);
};

export const detachVolume: ActionHandler = (args, ctx) => {
  const volumeId = args.required('VolumeId');
  const instanceId = args.str('InstanceId');
  const [volume] = lookUpVolumes(ctx, [volumeId]);
  const attachment = volume!.attachment;
  if (!attachment) throw new Ec2Error('IncorrectState', `Volume '${volumeId}' is in the '${volume!.state}' state.`);
  if (instanceId !== undefined && attachment.instanceId !== instanceId) {
    throw new Ec2Error(
      'InvalidAttachment.NotFound',
      `The volume '${volumeId}' is not attached to instance '${instanceId}'`,
    );
  }
  const instance = ctx.state.instances.get(attachment.instanceId);
  if (instance && instance.rootDeviceName === attachment.device) {
    throw new Ec2Error('OperationNotPermitted', 'Unable to detach root volume from the instance.');
  }
  if (attachment.state !== 'detaching') {
    attachment.state = 'detaching';
    ctx.scheduler.later(ctx.timings.volumeMs, () => {
      if (volume!.attachment !== attachment) return;
      attachment.state = 'detached';
      volume!.attachment = undefined;
      volume!.state = 'available';
    });
  }
  return attachmentXml(volume!, attachment);
};

export const deleteVolume: ActionHandler = (args, ctx) => {
  const volumeId = args.required('VolumeId');
  const [volume] = lookUpVolumes(ctx, [volumeId]);
  if (volume!.attachment)
    throw new Ec2Error('VolumeInUse', `Volume ${volumeId} is currently attached to ${volume!.attachment.instanceId}`);
  if (volume!.state !== 'deleting') scheduleVolumeDeletion(ctx, volume!);
  return { return: true };
};

export const modifyVolume: ActionHandler = (args, ctx) => {
  const volumeId = args.required('VolumeId');
  const [volume] = lookUpVolumes(ctx, [volumeId]);
  const v = volume!;
  if (v.state !== 'available' && v.state !== 'in-use')
    throw new Ec2Error('IncorrectState', `Volume '${volumeId}' is in the '${v.state}' state.`);
  if (v.modification && (v.modification.state === 'modifying' || v.modification.state === 'optimizing')) {
    throw new Ec2Error(
      'IncorrectModificationState',
      `Cannot modify volume ${volumeId}: it is already being modified (${v.modification.state}).`,
    );
  }
  const size = args.int('Size');
  if (
    size === undefined &&
    args.str('VolumeType') === undefined &&
    args.str('Iops') === undefined &&
    args.str('Throughput') === undefined
  ) {
    throw new Ec2Error(
      'InvalidParameterCombination',
      'At least one of size, volume type, IOPS or throughput must be given.',
    );
  }
  const target = size ?? v.size;
  if (target < v.size) throw new Ec2Error('InvalidParameterValue', 'New size cannot be smaller than existing size');
  if (target > (VOLUME_TYPES[v.type]?.max ?? 16_384))
    throw new Ec2Error(
      'InvalidParameterValue',
      `Volume size of ${target} GiB exceeds the maximum for ${v.type} volumes.`,
    );
  const modification = {
    state: 'modifying' as const,
    originalSize: v.size,
    targetSize: target,
    progress: 0,
    startTime: isoNow(),
  };
  v.modification = modification;
  ctx.scheduler.later(ctx.timings.modifyMs, () => {
    if (v.modification !== modification) return;
    // The new size is visible (and usable by the guest) from `optimizing` on.
    Object.assign(modification, { state: 'optimizing', progress: 50 });
    v.size = target;
    ctx.scheduler.later(ctx.timings.modifyMs, () => {
      if (v.modification === modification)
        Object.assign(modification, { state: 'completed', progress: 100, endTime: isoNow() });
    });
  });
  return { volumeModification: modificationXml(v) };
};

export const describeVolumesModifications: ActionHandler = (args, ctx) => {
  const ids = args.strings('VolumeId');
  const volumes =
    ids.length > 0 ? lookUpVolumes(ctx, ids) : [...ctx.state.volumes.values()].filter((v) => v.modification);
  for (const volume of volumes) {
    if (!volume.modification)
      throw new Ec2Error(
        'InvalidVolumeModification.NotFound',
        `Modification for volume '${volume.id}' does not exist.`,
      );
  }
  return { volumeModificationSet: volumes.map(modificationXml) };
};

/** Volumes by id: well-formed, known and (under the lag) seen; EC2 fails the whole call for one unknown id. */
export function lookUpVolumes(ctx: FakeContext, ids: string[]): FakeVolume[] {
  for (const id of ids) checkId(id, 'vol', 'InvalidVolume.Malformed');
  const missing = ids.filter((id) => {
    const volume = ctx.state.volumes.get(id);
    return !volume || !visible(ctx, volume);
  });
  if (missing.length === 1) throw new Ec2Error('InvalidVolume.NotFound', `The volume '${missing[0]}' does not exist.`);
  if (missing.length > 1)
    throw new Ec2Error('InvalidVolume.NotFound', `The volumes '${missing.join(', ')}' do not exist.`);
  return ids.map((id) => ctx.state.volumes.get(id)!);
}

function volumeXml(v: FakeVolume): XmlObject {
  return {
    volumeId: v.id,
    size: v.size,
    snapshotId: v.snapshotId ?? null,
    availabilityZone: v.zone,
    status: v.state,
    createTime: v.createTime,
    attachmentSet: v.attachment ? [attachmentItem(v, v.attachment)] : [],
    tagSet: tagSet(v.tags),
    volumeType: v.type,
    ...(v.iops !== undefined ? { iops: v.iops } : {}),
    ...(v.throughput !== undefined ? { throughput: v.throughput } : {}),
    encrypted: v.encrypted,
    ...(v.kmsKeyId ? { kmsKeyId: v.kmsKeyId } : {}),
    multiAttachEnabled: false,
  };
}

function attachmentItem(v: FakeVolume, a: FakeAttachment): XmlObject {
  return {
    volumeId: v.id,
    instanceId: a.instanceId,
    device: a.device,
    status: a.state,
    attachTime: a.attachTime,
    deleteOnTermination: a.deleteOnTermination,
  };
}

function attachmentXml(v: FakeVolume, a: FakeAttachment = v.attachment!): XmlObject {
  return attachmentItem(v, a);
}

function modificationXml(v: FakeVolume): XmlObject {
  const m = v.modification!;
  return {
    volumeId: v.id,
    modificationState: m.state,
    targetSize: m.targetSize,
    originalSize: m.originalSize,
    targetVolumeType: v.type,
    originalVolumeType: v.type,
    progress: m.progress,
    startTime: m.startTime,
    ...(m.endTime ? { endTime: m.endTime } : {}),
  };
}
