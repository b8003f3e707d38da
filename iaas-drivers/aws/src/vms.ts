import type { BlockDeviceMapping, Instance, InstanceStateName, RunInstancesCommandInput } from '@aws-sdk/client-ec2';
import {
  SlipwayError,
  assertNever,
  encodeAgentSettings,
  throwIfAborted,
  type CallOptions,
  type CloudInventory,
  type CreateVmInput,
  type CreatedVm,
} from '@slipway/contracts';
import { pollOptions, stringListProperty, stringProperty, type AwsContext } from './context.js';
import { PLUGIN, launchFailure } from './errors.js';
import { selectInstanceType } from './instance-types.js';
import { AGENT_ID_TAG, MANAGED_TAG, REQUEST_ID_TAG, clientToken, gibFromMib, tagList, tagRecord } from './naming.js';
import { pollUntil } from './poll.js';

/** The device of the ephemeral EBS volume a VM gets at launch (BOSH's convention); never a persistent disk. */
export const EPHEMERAL_DEVICE = '/dev/sdb';

/**
 * How many ClientToken generations a requestId may use: each one is spent by an instance that died (a failed
 * launch, or a VM killed and recreated with the same requestId). Past this the requestId is refused.
 */
const MAX_GENERATIONS = 8;

/** States of an instance that is gone or on its way out. */
const GONE: ReadonlySet<InstanceStateName | undefined> = new Set(['shutting-down', 'terminated']);

/** The VM verbs on EC2 instances. */
export class VmOperations {
  constructor(private readonly ctx: AwsContext) {}

  /**
   * RunInstances with a ClientToken derived from the request id: EC2 itself answers a repeated token with the
   * instance it launched for it, even right after the first call and across a control-plane restart, so the
   * same requestId gives the same VM without a lookup. Waits until the instance is running; a launch that ends
   * terminated is reported with EC2's state reason.
   */
  async create(input: CreateVmInput, options: CallOptions = {}): Promise<CreatedVm> {
    const { signal, requestId } = options;
    throwIfAborted(signal);
    const { params, tags } = this.launchParameters(input, requestId);
    for (let generation = 0; generation < MAX_GENERATIONS; generation++) {
      const token = requestId ? clientToken('vm', requestId, generation) : undefined;
      const launched = await this.ctx.ec2.runInstances(
        { ...params, ...(token ? { ClientToken: token } : {}) },
        { signal, permanent: 'VmCreationFailed' },
      );
      const id = launched.InstanceId!;
      // A fresh launch is pending; a token answered with a dead instance belongs to an earlier attempt.
      if (token && GONE.has(launched.State?.Name)) continue;
      this.ctx.recent.remember(id, tags);
      return this.createdVm(await this.waitRunning(id, signal));
    }
    throw new SlipwayError(
      'VmCreationFailed',
      `request ${requestId} already launched ${MAX_GENERATIONS} instances that all terminated; use a new requestId`,
      { plugin: PLUGIN },
    );
  }

  /** TerminateInstances; with `wait_for_termination`, waits for `terminated` so the private IP is free again. */
  async delete(vmId: string, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    if (!(await this.ctx.ec2.terminateInstance(vmId, { signal }))) {
      if (this.ctx.recent.isUnseen(vmId)) throw notVisibleYet('instance', vmId, 'terminate');
      this.ctx.recent.forget(vmId);
      return;
    }
    this.ctx.recent.forget(vmId);
    if (!this.ctx.config.wait_for_termination) return;
    await pollUntil(
      async () => {
        const instance = await this.ctx.ec2.describeInstance(vmId, { signal });
        return !instance || instance.State?.Name === 'terminated' ? true : undefined;
      },
      pollOptions(this.ctx, `instance ${vmId} to be terminated`, signal),
    );
  }

  /** Shutting-down and terminated instances do not exist for the contract; an unseen new one does. */
  async exists(vmId: string, options: CallOptions = {}): Promise<boolean> {
    const instance = await this.ctx.ec2.describeInstance(vmId, { signal: options.signal });
    if (!instance) return this.ctx.recent.isYoung(vmId);
    return !GONE.has(instance.State?.Name);
  }

  /** EC2 reboots in place (the instance stays `running`), so there is no state to wait for. */
  async reboot(vmId: string, options: CallOptions = {}): Promise<void> {
    await this.ctx.ec2.rebootInstance(vmId, { signal: options.signal });
  }

  /** CreateTags adds or overwrites keys and keeps the others: a merge, as the contract wants. */
  async setMetadata(vmId: string, metadata: Record<string, string>, options: CallOptions = {}): Promise<void> {
    await this.ctx.ec2.createTags([vmId], tagList(metadata), { signal: options.signal });
    this.ctx.recent.retag(vmId, metadata);
  }

  /**
   * Instances carrying every tag (EC2 filters server-side), plus the ones this process launched moments ago
   * that EC2's index may not list yet.
   */
  async list(tags: Record<string, string>, signal?: AbortSignal): Promise<CloudInventory['vms']> {
    const filters = [
      ...Object.entries({ ...tags, [MANAGED_TAG]: 'true' }).map(([key, value]) => ({
        Name: `tag:${key}`,
        Values: [value],
      })),
      { Name: 'instance-state-name', Values: ['pending', 'running', 'shutting-down', 'stopping', 'stopped'] },
    ];
    const instances = await this.ctx.ec2.describeInstances(filters, { signal });
    const vms = instances.map((i) => ({
      vmId: i.InstanceId!,
      metadata: tagRecord(i.Tags),
      state: i.State?.Name ?? 'unknown',
    }));
    const listed = new Set(vms.map((v) => v.vmId));
    for (const recent of this.ctx.recent.matching('i-', tags)) {
      if (listed.has(recent.id)) continue;
      const instance = await this.ctx.ec2.describeInstance(recent.id, { signal });
      if (instance && GONE.has(instance.State?.Name)) continue;
      vms.push(
        instance
          ? { vmId: recent.id, metadata: tagRecord(instance.Tags), state: instance.State?.Name ?? 'unknown' }
          : { vmId: recent.id, metadata: recent.tags, state: 'pending' },
      );
    }
    return vms;
  }

  private launchParameters(
    input: CreateVmInput,
    requestId: string | undefined,
  ): { params: RunInstancesCommandInput; tags: Record<string, string> } {
    const { config } = this.ctx;
    const properties = input.cloudProperties;
    const instanceType = selectInstanceType(
      input.resources,
      stringProperty(properties, 'instance_type') ?? input.resources.instanceType,
    );
    const subnetId = stringProperty(properties, 'subnet_id') ?? config.subnet_id;
    const securityGroupIds = stringListProperty(properties, 'security_group_ids') ?? config.security_group_ids;
    const zone = input.zone ?? stringProperty(properties, 'availability_zone') ?? config.availability_zone;
    const keyName = stringProperty(properties, 'key_name') ?? config.key_name;
    const profile = stringProperty(properties, 'iam_instance_profile') ?? config.iam_instance_profile;
    const tags = tagList(
      config.default_tags,
      { Name: `slipway/${input.env.clusterId}/${input.env.instanceId}` },
      input.metadata,
      { [AGENT_ID_TAG]: input.agentId, [REQUEST_ID_TAG]: requestId, [MANAGED_TAG]: 'true' },
    );
    const devices: BlockDeviceMapping[] = [];
    if (input.resources.ephemeralDiskMb > 0) {
      devices.push({
        DeviceName: EPHEMERAL_DEVICE,
        Ebs: {
          VolumeSize: gibFromMib(input.resources.ephemeralDiskMb),
          VolumeType: config.volume_type,
          DeleteOnTermination: true,
          ...(config.encrypted
            ? { Encrypted: true, ...(config.kms_key_arn ? { KmsKeyId: config.kms_key_arn } : {}) }
            : {}),
        },
      });
    }
    const params: RunInstancesCommandInput = {
      ImageId: imageIdOf(input.stemcellId),
      InstanceType: instanceType as RunInstancesCommandInput['InstanceType'],
      MinCount: 1,
      MaxCount: 1,
      // EC2 wants UserData base64-encoded; IMDS serves it decoded, i.e. the settings JSON.
      UserData: encodeAgentSettings(input.env),
      PrivateIpAddress: input.network.ip,
      ...(subnetId ? { SubnetId: subnetId } : {}),
      ...(securityGroupIds?.length ? { SecurityGroupIds: [...securityGroupIds] } : {}),
      ...(zone ? { Placement: { AvailabilityZone: zone } } : {}),
      ...(keyName ? { KeyName: keyName } : {}),
      ...(profile ? { IamInstanceProfile: { Name: profile } } : {}),
      ...(devices.length ? { BlockDeviceMappings: devices } : {}),
      // The agent reads its settings with IMDSv2 only; refusing v1 closes the SSRF path to the VM's credentials.
      MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled' },
      TagSpecifications: [{ ResourceType: 'instance', Tags: tags }],
    };
    return { params, tags: tagRecord(tags) };
  }

  /** Waits through `pending` (and through EC2 not showing the new instance yet). */
  private async waitRunning(id: string, signal?: AbortSignal): Promise<Instance> {
    return pollUntil(
      async () => {
        const instance = await this.ctx.ec2.describeInstance(id, { signal });
        if (!instance) {
          if (this.ctx.recent.isYoung(id)) return undefined;
          throw new SlipwayError('VmCreationFailed', `EC2 instance ${id} disappeared while launching`, {
            plugin: PLUGIN,
            retryable: true,
          });
        }
        const state = instance.State?.Name;
        switch (state) {
          case undefined:
          case 'pending':
            return undefined;
          case 'running':
            return instance;
          case 'shutting-down':
          case 'terminated':
            this.ctx.recent.forget(id);
            throw launchFailure(id, instance.StateReason);
          case 'stopping':
          case 'stopped':
            // Not a state a fresh launch reaches on its own: clean up what we created, then report.
            await this.ctx.ec2.terminateInstance(id, {}).catch((error: unknown) => {
              this.ctx.logger.warn('could not terminate the failed instance', { instanceId: id, error: String(error) });
            });
            this.ctx.recent.forget(id);
            throw new SlipwayError(
              'VmCreationFailed',
              `EC2 instance ${id} went to ${state} while launching: ${instance.StateReason?.Message ?? 'no state reason'}`,
              { plugin: PLUGIN },
            );
          default:
            return assertNever(state, 'instance state');
        }
      },
      pollOptions(this.ctx, `instance ${id} to be running`, signal),
    );
  }

  private createdVm(instance: Instance): CreatedVm {
    return {
      vmId: instance.InstanceId!,
      ...(instance.PrivateIpAddress ? { ip: instance.PrivateIpAddress } : {}),
      ...(instance.Placement?.AvailabilityZone ? { zone: instance.Placement.AvailabilityZone } : {}),
    };
  }
}

/** A light stemcell's id is the AMI id with the suffix ` light` (BOSH's convention): the AMI belongs to the operator. */
export const LIGHT_SUFFIX = ' light';

export function imageIdOf(stemcellId: string): string {
  return stemcellId.endsWith(LIGHT_SUFFIX) ? stemcellId.slice(0, -LIGHT_SUFFIX.length) : stemcellId;
}

/** A NotFound for something this process created moments ago: retry later rather than act on a false absence. */
export function notVisibleYet(kind: string, id: string, action: string): SlipwayError {
  return new SlipwayError(
    'Retryable',
    `EC2 does not show ${kind} ${id} yet (created moments ago; EC2 is eventually consistent); cannot ${action} it until it does`,
    {
      plugin: PLUGIN,
      details: { id },
    },
  );
}
