import {
  AttachVolumeCommand,
  CreateSnapshotCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  DeleteSnapshotCommand,
  DeleteVolumeCommand,
  DeregisterImageCommand,
  DescribeAvailabilityZonesCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  DescribeSubnetsCommand,
  DescribeVolumesCommand,
  DescribeVolumesModificationsCommand,
  DetachVolumeCommand,
  ModifyVolumeCommand,
  RebootInstancesCommand,
  RegisterImageCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type AvailabilityZone,
  type CreateSnapshotCommandInput,
  type CreateVolumeCommandInput,
  type CreateVolumeCommandOutput,
  type EC2Client,
  type Filter,
  type Image,
  type Instance,
  type RegisterImageCommandInput,
  type RunInstancesCommandInput,
  type Snapshot,
  type Subnet,
  type Tag,
  type Volume,
  type VolumeModification,
} from '@aws-sdk/client-ec2';
import { SlipwayError } from '@slipway/contracts';
import type { RecentResources } from './consistency.js';
import {
  PLUGIN,
  faultToError,
  isNotFoundCode,
  readFault,
  transportError,
  type FaultContext,
  type PermanentCode,
} from './errors.js';

/** Options of one EC2 call. */
export interface Ec2CallOptions {
  signal?: AbortSignal;
  /** The verb's code for a permanent refusal. */
  permanent?: PermanentCode;
}

/** Page size of the Describe calls that list (DescribeVolumes pages at most 500, the others 1000). */
const PAGE = 500;

/**
 * The EC2 actions the driver makes, one method per action, over the AWS SDK v3 client (configured with a
 * single attempt: the engine owns retries). Every SDK exception passes through errors.ts; a NotFound where the
 * caller can handle absence comes back as `undefined` / `false`.
 */
export class Ec2Api {
  constructor(
    private readonly client: EC2Client,
    private readonly recent: RecentResources,
  ) {}

  async runInstances(input: RunInstancesCommandInput, options: Ec2CallOptions): Promise<Instance> {
    const output = await this.call(
      'RunInstances',
      (abortSignal) => this.client.send(new RunInstancesCommand(input), { abortSignal }),
      {
        ...options,
        notFoundIsPermanent: true,
      },
    );
    const instance = output.Instances?.[0];
    if (!instance?.InstanceId)
      throw new SlipwayError('CloudError', 'EC2 RunInstances answered without an instance', { plugin: PLUGIN });
    return instance;
  }

  /** The instance, or undefined when EC2 says it does not exist (which, right after a launch, may not be true yet). */
  async describeInstance(instanceId: string, options: Ec2CallOptions): Promise<Instance | undefined> {
    const output = await this.optional(
      'DescribeInstances',
      (abortSignal) => this.client.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }), { abortSignal }),
      options,
    );
    return this.seen(
      instanceId,
      output?.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === instanceId),
    );
  }

  async describeInstances(filters: Filter[], options: Ec2CallOptions): Promise<Instance[]> {
    const all: Instance[] = [];
    for (let token: string | undefined; ; ) {
      const output = await this.call(
        'DescribeInstances',
        (abortSignal) =>
          this.client.send(new DescribeInstancesCommand({ Filters: filters, MaxResults: PAGE, NextToken: token }), {
            abortSignal,
          }),
        options,
      );
      all.push(...(output.Reservations ?? []).flatMap((r) => r.Instances ?? []));
      token = output.NextToken;
      if (!token) return all;
    }
  }

  /** False when EC2 does not know the instance. */
  async terminateInstance(instanceId: string, options: Ec2CallOptions): Promise<boolean> {
    const output = await this.optional(
      'TerminateInstances',
      (abortSignal) => this.client.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }), { abortSignal }),
      options,
    );
    return output !== undefined;
  }

  async rebootInstance(instanceId: string, options: Ec2CallOptions): Promise<void> {
    await this.call(
      'RebootInstances',
      (abortSignal) => this.client.send(new RebootInstancesCommand({ InstanceIds: [instanceId] }), { abortSignal }),
      options,
    );
  }

  async createTags(resourceIds: string[], tags: Tag[], options: Ec2CallOptions): Promise<void> {
    await this.call(
      'CreateTags',
      (abortSignal) => this.client.send(new CreateTagsCommand({ Resources: resourceIds, Tags: tags }), { abortSignal }),
      options,
    );
  }

  async createVolume(input: CreateVolumeCommandInput, options: Ec2CallOptions): Promise<CreateVolumeCommandOutput> {
    const output = await this.call(
      'CreateVolume',
      (abortSignal) => this.client.send(new CreateVolumeCommand(input), { abortSignal }),
      {
        ...options,
        notFoundIsPermanent: true,
      },
    );
    if (!output.VolumeId)
      throw new SlipwayError('CloudError', 'EC2 CreateVolume answered without a volume id', { plugin: PLUGIN });
    return output;
  }

  async describeVolume(volumeId: string, options: Ec2CallOptions): Promise<Volume | undefined> {
    const output = await this.optional(
      'DescribeVolumes',
      (abortSignal) => this.client.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }), { abortSignal }),
      options,
    );
    return this.seen(
      volumeId,
      output?.Volumes?.find((v) => v.VolumeId === volumeId),
    );
  }

  async describeVolumes(filters: Filter[], options: Ec2CallOptions): Promise<Volume[]> {
    const all: Volume[] = [];
    for (let token: string | undefined; ; ) {
      const output = await this.call(
        'DescribeVolumes',
        (abortSignal) =>
          this.client.send(new DescribeVolumesCommand({ Filters: filters, MaxResults: PAGE, NextToken: token }), {
            abortSignal,
          }),
        options,
      );
      all.push(...(output.Volumes ?? []));
      token = output.NextToken;
      if (!token) return all;
    }
  }

  async attachVolume(volumeId: string, instanceId: string, device: string, options: Ec2CallOptions): Promise<void> {
    await this.call(
      'AttachVolume',
      (abortSignal) =>
        this.client.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: instanceId, Device: device }), {
          abortSignal,
        }),
      options,
    );
  }

  async detachVolume(volumeId: string, instanceId: string, options: Ec2CallOptions): Promise<void> {
    await this.call(
      'DetachVolume',
      (abortSignal) =>
        this.client.send(new DetachVolumeCommand({ VolumeId: volumeId, InstanceId: instanceId }), { abortSignal }),
      options,
    );
  }

  /** False when the volume is already gone. */
  async deleteVolume(volumeId: string, options: Ec2CallOptions): Promise<boolean> {
    const output = await this.optional(
      'DeleteVolume',
      (abortSignal) => this.client.send(new DeleteVolumeCommand({ VolumeId: volumeId }), { abortSignal }),
      options,
    );
    return output !== undefined;
  }

  async modifyVolume(
    volumeId: string,
    sizeGib: number,
    options: Ec2CallOptions,
  ): Promise<VolumeModification | undefined> {
    const output = await this.call(
      'ModifyVolume',
      (abortSignal) =>
        this.client.send(new ModifyVolumeCommand({ VolumeId: volumeId, Size: sizeGib }), { abortSignal }),
      options,
    );
    return output.VolumeModification;
  }

  /** The volume's latest modification; undefined when it was never modified. */
  async describeVolumeModification(volumeId: string, options: Ec2CallOptions): Promise<VolumeModification | undefined> {
    const output = await this.optional(
      'DescribeVolumesModifications',
      (abortSignal) =>
        this.client.send(new DescribeVolumesModificationsCommand({ VolumeIds: [volumeId] }), { abortSignal }),
      options,
    );
    const modifications = (output?.VolumesModifications ?? []).filter((m) => m.VolumeId === volumeId);
    return modifications.sort((a, b) => (b.StartTime?.getTime() ?? 0) - (a.StartTime?.getTime() ?? 0))[0];
  }

  async createSnapshot(input: CreateSnapshotCommandInput, options: Ec2CallOptions): Promise<Snapshot> {
    const output = await this.call(
      'CreateSnapshot',
      (abortSignal) => this.client.send(new CreateSnapshotCommand(input), { abortSignal }),
      options,
    );
    if (!output.SnapshotId)
      throw new SlipwayError('CloudError', 'EC2 CreateSnapshot answered without a snapshot id', { plugin: PLUGIN });
    return output;
  }

  async describeSnapshot(snapshotId: string, options: Ec2CallOptions): Promise<Snapshot | undefined> {
    const output = await this.optional(
      'DescribeSnapshots',
      (abortSignal) => this.client.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }), { abortSignal }),
      options,
    );
    return this.seen(
      snapshotId,
      output?.Snapshots?.find((s) => s.SnapshotId === snapshotId),
    );
  }

  /** Snapshots of this account matching `filters`. */
  async describeSnapshots(filters: Filter[], options: Ec2CallOptions): Promise<Snapshot[]> {
    const all: Snapshot[] = [];
    for (let token: string | undefined; ; ) {
      const output = await this.call(
        'DescribeSnapshots',
        (abortSignal) =>
          this.client.send(
            new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: filters, MaxResults: PAGE, NextToken: token }),
            { abortSignal },
          ),
        options,
      );
      all.push(...(output.Snapshots ?? []));
      token = output.NextToken;
      if (!token) return all;
    }
  }

  /** False when the snapshot is already gone. */
  async deleteSnapshot(snapshotId: string, options: Ec2CallOptions): Promise<boolean> {
    const output = await this.optional(
      'DeleteSnapshot',
      (abortSignal) => this.client.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }), { abortSignal }),
      options,
    );
    return output !== undefined;
  }

  async registerImage(input: RegisterImageCommandInput, options: Ec2CallOptions): Promise<string> {
    const output = await this.call(
      'RegisterImage',
      (abortSignal) => this.client.send(new RegisterImageCommand(input), { abortSignal }),
      {
        ...options,
        notFoundIsPermanent: true,
      },
    );
    if (!output.ImageId)
      throw new SlipwayError('CloudError', 'EC2 RegisterImage answered without an image id', { plugin: PLUGIN });
    return output.ImageId;
  }

  async describeImage(imageId: string, options: Ec2CallOptions): Promise<Image | undefined> {
    const output = await this.optional(
      'DescribeImages',
      (abortSignal) => this.client.send(new DescribeImagesCommand({ ImageIds: [imageId] }), { abortSignal }),
      options,
    );
    return output?.Images?.find((i) => i.ImageId === imageId);
  }

  /** Images this account owns matching `filters`. */
  async describeOwnImages(filters: Filter[], options: Ec2CallOptions): Promise<Image[]> {
    const all: Image[] = [];
    for (let token: string | undefined; ; ) {
      const output = await this.call(
        'DescribeImages',
        (abortSignal) =>
          this.client.send(
            new DescribeImagesCommand({ Owners: ['self'], Filters: filters, MaxResults: PAGE, NextToken: token }),
            { abortSignal },
          ),
        options,
      );
      all.push(...(output.Images ?? []));
      token = output.NextToken;
      if (!token) return all;
    }
  }

  /** False when the image is already gone. */
  async deregisterImage(imageId: string, options: Ec2CallOptions): Promise<boolean> {
    const output = await this.optional(
      'DeregisterImage',
      (abortSignal) => this.client.send(new DeregisterImageCommand({ ImageId: imageId }), { abortSignal }),
      options,
    );
    return output !== undefined;
  }

  async describeAvailabilityZones(options: Ec2CallOptions): Promise<AvailabilityZone[]> {
    const output = await this.call(
      'DescribeAvailabilityZones',
      (abortSignal) => this.client.send(new DescribeAvailabilityZonesCommand({}), { abortSignal }),
      options,
    );
    return output.AvailabilityZones ?? [];
  }

  async describeSubnet(subnetId: string, options: Ec2CallOptions): Promise<Subnet | undefined> {
    const output = await this.optional(
      'DescribeSubnets',
      (abortSignal) => this.client.send(new DescribeSubnetsCommand({ SubnetIds: [subnetId] }), { abortSignal }),
      options,
    );
    return output?.Subnets?.find((s) => s.SubnetId === subnetId);
  }

  private seen<T>(id: string, found: T | undefined): T | undefined {
    if (found !== undefined) this.recent.markSeen(id);
    return found;
  }

  /** Like `call`, but a NotFound answers undefined: the caller decides what absence means. */
  private async optional<O>(
    operation: string,
    send: (abortSignal?: AbortSignal) => Promise<O>,
    options: Ec2CallOptions,
  ): Promise<O | undefined> {
    try {
      return await this.call(operation, send, { ...options, keepNotFound: true });
    } catch (error) {
      if (error instanceof NotFoundAnswer) return undefined;
      throw error;
    }
  }

  private async call<O>(
    operation: string,
    send: (abortSignal?: AbortSignal) => Promise<O>,
    options: Ec2CallOptions & Omit<FaultContext, 'isYoung'> & { keepNotFound?: boolean },
  ): Promise<O> {
    const { signal } = options;
    if (signal?.aborted)
      throw new SlipwayError('Cancelled', `EC2 ${operation}: the operation was aborted`, {
        plugin: PLUGIN,
        cause: signal.reason,
      });
    try {
      return await send(signal);
    } catch (error) {
      const fault = readFault(error, operation);
      if (!fault) throw transportError(error, operation, signal);
      if (options.keepNotFound && isNotFoundCode(fault.code)) throw new NotFoundAnswer();
      throw faultToError(fault, {
        permanent: options.permanent,
        notFoundIsPermanent: options.notFoundIsPermanent,
        isYoung: (id) => this.recent.isYoung(id),
      });
    }
  }
}

/** Internal marker: the call answered `*.NotFound` and the caller asked to see it as absence. */
class NotFoundAnswer extends Error {}
