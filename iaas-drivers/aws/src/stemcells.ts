import type { ArchitectureValues, Image } from '@aws-sdk/client-ec2';
import {
  SlipwayError,
  assertNever,
  throwIfAborted,
  type CallOptions,
  type CreateStemcellInput,
} from '@slipway/contracts';
import { pollOptions, stringProperty, type AwsContext } from './context.js';
import { PLUGIN } from './errors.js';
import { MANAGED_TAG, REQUEST_ID_TAG, shortHash, tagList } from './naming.js';
import { pollUntil } from './poll.js';
import { LIGHT_SUFFIX, imageIdOf } from './vms.js';

/** The root device of AMIs the driver registers (the Amazon Linux / Ubuntu HVM convention). */
const ROOT_DEVICE = '/dev/xvda';

/** The stemcell verbs on AMIs. */
export class StemcellOperations {
  constructor(private readonly ctx: AwsContext) {}

  /**
   * Two kinds of stemcell:
   * - light: `cloud_properties.ami_id` (or BOSH's `ami: { <region>: <ami id> }`) names an AMI that exists; the
   *   driver checks it is available and never deregisters it;
   * - from a snapshot: `cloud_properties.snapshot_id` names an EBS snapshot of a root disk, which RegisterImage
   *   turns into an HVM AMI. Idempotent through the AMI name, which EC2 keeps unique per account and region
   *   (strongly, unlike the tag index) and which the driver derives from the request id.
   * A raw image file (`imagePath` alone) would need the EBS direct APIs; the driver refuses it with a hint.
   */
  async create(input: CreateStemcellInput, options: CallOptions = {}): Promise<{ stemcellId: string }> {
    const { signal, requestId } = options;
    throwIfAborted(signal);
    const properties = input.cloudProperties;
    const lightId = stringProperty(properties, 'ami_id') ?? regionalAmi(properties?.ami, this.ctx.config.region);
    if (lightId) {
      const image = await this.ctx.ec2.describeImage(lightId, { signal });
      if (image?.State !== 'available') {
        throw new SlipwayError(
          'CloudError',
          `AMI ${lightId} ${image ? `is ${image.State}, not available` : `does not exist in ${this.ctx.config.region}`}`,
          {
            plugin: PLUGIN,
            field: 'cloud_properties.ami_id',
          },
        );
      }
      return { stemcellId: lightId + LIGHT_SUFFIX };
    }
    const snapshotId = stringProperty(properties, 'snapshot_id');
    if (!snapshotId) {
      throw new SlipwayError(
        'InvalidInput',
        `stemcell ${input.name}/${input.version} names neither an AMI nor an EBS snapshot`,
        {
          plugin: PLUGIN,
          field: 'cloud_properties',
          hint: 'Give cloud_properties.ami_id (a light stemcell) or cloud_properties.snapshot_id (a root-disk snapshot to register); import a raw image with `aws ec2 import-snapshot` first.',
        },
      );
    }
    const name = amiName(input, requestId);
    const existing = await this.findByName(name, signal);
    const imageId = existing ?? (await this.register(input, name, snapshotId, requestId, signal));
    await this.waitAvailable(imageId, signal);
    return { stemcellId: imageId };
  }

  /** A light stemcell's AMI belongs to the operator and stays; a registered one is deregistered (its snapshot stays: the operator gave it). */
  async delete(stemcellId: string, options: CallOptions = {}): Promise<void> {
    if (stemcellId.endsWith(LIGHT_SUFFIX)) return;
    await this.ctx.ec2.deregisterImage(imageIdOf(stemcellId), { signal: options.signal });
  }

  private async register(
    input: CreateStemcellInput,
    name: string,
    snapshotId: string,
    requestId: string | undefined,
    signal?: AbortSignal,
  ): Promise<string> {
    const architecture = (stringProperty(input.cloudProperties, 'architecture') ?? 'x86_64') as ArchitectureValues;
    try {
      return await this.ctx.ec2.registerImage(
        {
          Name: name,
          Description: `slipway stemcell ${input.name} ${input.version}`,
          Architecture: architecture,
          RootDeviceName: ROOT_DEVICE,
          VirtualizationType: 'hvm',
          EnaSupport: true,
          ImdsSupport: 'v2.0',
          BlockDeviceMappings: [
            {
              DeviceName: ROOT_DEVICE,
              Ebs: { SnapshotId: snapshotId, DeleteOnTermination: true, VolumeType: this.ctx.config.volume_type },
            },
          ],
          TagSpecifications: [
            {
              ResourceType: 'image',
              Tags: tagList(this.ctx.config.default_tags, {
                'slipway.stemcell_name': input.name,
                'slipway.stemcell_version': input.version,
                [REQUEST_ID_TAG]: requestId,
                [MANAGED_TAG]: 'true',
              }),
            },
          ],
        },
        { signal, permanent: 'CloudError' },
      );
    } catch (error) {
      // Registered by an earlier attempt whose answer was lost. EC2 names the AMI holding the name in its message
      // (`AMI name ... is already in use by AMI ami-...`), which stays true while the name index lags behind.
      if (SlipwayError.is(error) && error.details?.cloudCode === 'InvalidAMIName.Duplicate') {
        const named = /\bami-[0-9a-f]+\b/.exec(String(error.details.cloudMessage ?? ''))?.[0];
        const found = named ?? (await this.findByName(name, signal));
        if (found) return found;
      }
      throw error;
    }
  }

  private async findByName(name: string, signal?: AbortSignal): Promise<string | undefined> {
    const images = await this.ctx.ec2.describeOwnImages([{ Name: 'name', Values: [name] }], { signal });
    return images.find((i) => i.State !== 'deregistered' && i.State !== 'failed' && i.State !== 'error')?.ImageId;
  }

  private async waitAvailable(imageId: string, signal?: AbortSignal): Promise<Image> {
    return pollUntil(
      async () => {
        const image = await this.ctx.ec2.describeImage(imageId, { signal });
        // RegisterImage answered with the id; a Describe that does not know it yet is EC2's propagation delay.
        if (!image) return undefined;
        const state = image.State;
        switch (state) {
          case undefined:
          case 'pending':
          case 'transient':
            return undefined;
          case 'available':
            return image;
          case 'failed':
          case 'error':
          case 'invalid':
          case 'deregistered':
          case 'disabled':
            throw new SlipwayError(
              'CloudError',
              `AMI ${imageId} is ${state}: ${image.StateReason?.Message ?? 'no state reason'}`,
              { plugin: PLUGIN },
            );
          default:
            return assertNever(state, 'image state');
        }
      },
      pollOptions(this.ctx, `AMI ${imageId} to be available`, signal),
    );
  }
}

/** BOSH's light stemcells list one AMI per region. */
function regionalAmi(value: unknown, region: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const id = (value as Record<string, unknown>)[region];
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** AMI names allow letters, digits, spaces and ( ) [ ] . / - ' @ _; 3 to 128 characters. */
function amiName(input: CreateStemcellInput, requestId: string | undefined): string {
  const clean = (text: string) => text.replace(/[^A-Za-z0-9()[\]./\-'@_ ]+/g, '-');
  const suffix = requestId
    ? shortHash(requestId)
    : `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  return `slipway/${clean(input.name)}/${clean(input.version)}/${suffix}`.slice(0, 128);
}
