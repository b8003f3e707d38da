import { INSTANCE_TYPES } from './catalog.js';
import { visible, type ActionHandler, type FakeContext } from './context.js';
import { Ec2Error, checkId, invalidValue, missingParameter, notFound } from './errors.js';
import { matches, page, parseFilters, tagsFromSpecifications, type FilterSpec } from './filters.js';
import { beginTermination, scheduleLaunch } from './lifecycle.js';
import { cidrRange, intToIp, usableInSubnet } from './net.js';
import type { QueryArgs } from './query.js';
import { INSTANCE_STATE_CODES, ec2Id, isoNow, type FakeInstance, type FakeSubnet, type FakeVolume } from './state.js';
import { tagSet, type XmlObject } from './xml.js';

/** Decoded UserData may be at most 16 KiB. */
const MAX_USER_DATA = 16 * 1024;

const INSTANCE_FILTERS: FilterSpec<FakeInstance> = {
  'instance-id': (i) => [i.id],
  'instance-state-name': (i) => [i.state],
  'instance-state-code': (i) => [String(INSTANCE_STATE_CODES[i.state])],
  'instance-type': (i) => [i.instanceType],
  'image-id': (i) => [i.imageId],
  'subnet-id': (i) => [i.subnetId],
  'vpc-id': (i) => [i.vpcId],
  'availability-zone': (i) => [i.zone],
  'private-ip-address': (i) => [i.privateIp],
  'client-token': (i) => [i.clientToken],
  'reservation-id': (i) => [i.reservationId],
  'key-name': (i) => [i.keyName],
};

/** RunInstances: validates like EC2, honours ClientToken, launches pending instances with their launch volumes. */
export const runInstances: ActionHandler = (args, ctx) => {
  const { state } = ctx;
  const minCount = args.int('MinCount');
  const maxCount = args.int('MaxCount');
  if (minCount === undefined) throw missingParameter('MinCount');
  if (maxCount === undefined) throw missingParameter('MaxCount');
  if (minCount < 1 || maxCount < minCount)
    throw new Ec2Error(
      'InvalidParameterValue',
      `Invalid value '${minCount}' for minCount. Must be between 1 and maxCount (${maxCount})`,
    );
  const token = args.str('ClientToken');
  if (token !== undefined && (token.length === 0 || token.length > 64 || !/^[\x20-\x7e]+$/.test(token))) {
    throw new Ec2Error('InvalidParameterValue', 'Client token must be at most 64 ASCII characters.');
  }
  // EC2 compares a repeated token's parameters with the first request's; the fingerprint is all of them but the token.
  const fingerprint = args.flatten(new Set(['ClientToken', 'Action', 'Version']));
  if (token !== undefined) {
    const known = state.runTokens.get(token);
    if (known) {
      if (known.fingerprint !== fingerprint) {
        throw new Ec2Error(
          'IdempotentParameterMismatch',
          'The client token you have provided is associated with a resource that is already deleted or has different parameters. Please use a different client token.',
        );
      }
      return reservation(
        ctx,
        known.ids.map((id) => state.instanceOrPurged(id)!),
      );
    }
  }
  const imageId = args.required('ImageId');
  checkId(imageId, 'ami', 'InvalidAMIID.Malformed');
  const image = state.images.get(imageId);
  if (image?.state !== 'available')
    throw new Ec2Error('InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
  const instanceType = args.str('InstanceType') ?? 'm1.small';
  if (!INSTANCE_TYPES.has(instanceType))
    throw new Ec2Error('InvalidParameterValue', `Invalid value '${instanceType}' for InstanceType.`);
  const subnet = subnetFor(ctx, args);
  const securityGroupIds = args.strings('SecurityGroupId');
  for (const id of securityGroupIds) {
    if (!state.securityGroups.has(id))
      throw new Ec2Error('InvalidGroup.NotFound', `The security group '${id}' does not exist in VPC '${subnet.vpcId}'`);
  }
  const keyName = args.str('KeyName');
  if (keyName !== undefined && !state.keyPairs.has(keyName))
    throw new Ec2Error('InvalidKeyPair.NotFound', `The key pair '${keyName}' does not exist`);
  const userData = args.str('UserData');
  if (userData !== undefined) checkUserData(userData);
  const requestedIp = args.str('PrivateIpAddress');
  if (requestedIp !== undefined) {
    if (maxCount > 1)
      throw new Ec2Error(
        'InvalidParameterCombination',
        'Network interfaces and an instance-level private IP address should not be specified on the same request, nor more than one instance with one address.',
      );
    if (!usableInSubnet(subnet.cidr, requestedIp))
      throw new Ec2Error(
        'InvalidParameterValue',
        `Address ${requestedIp} does not fall within the subnet's address range`,
      );
    if (state.instanceWithIp(subnet.id, requestedIp))
      throw new Ec2Error('InvalidIPAddress.InUse', `Address ${requestedIp} is in use.`);
  }
  const httpTokens = args.str('MetadataOptions.HttpTokens') ?? (image.imdsSupport === 'v2.0' ? 'required' : 'optional');
  if (httpTokens !== 'required' && httpTokens !== 'optional') throw invalidValue('HttpTokens', httpTokens);
  const instanceTags = tagsFromSpecifications(args, 'instance', ['instance', 'volume', 'network-interface']);
  const volumeTags = tagsFromSpecifications(args, 'volume', ['instance', 'volume', 'network-interface']);
  const devices = launchDevices(args, image.rootDeviceName, image.rootSize, image.snapshotId);
  const live = state.liveInstances().length;
  if (state.quota.vms !== undefined && live + minCount > state.quota.vms) {
    throw new Ec2Error(
      'InstanceLimitExceeded',
      `You have requested more instances (${minCount}) than your current instance limit of ${state.quota.vms} allows for the specified instance type. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.`,
    );
  }
  const count = state.quota.vms === undefined ? maxCount : Math.min(maxCount, state.quota.vms - live);
  const reservationId = ec2Id('r');
  const launchTime = isoNow();
  const launched: FakeInstance[] = [];
  for (let index = 0; index < count; index++) {
    const instance: FakeInstance = {
      id: ec2Id('i'),
      reservationId,
      imageId,
      instanceType,
      state: 'pending',
      stateTransitionReason: '',
      subnetId: subnet.id,
      vpcId: subnet.vpcId,
      zone: subnet.zone,
      privateIp: requestedIp ?? freeAddress(ctx, subnet),
      securityGroupIds: securityGroupIds.length ? securityGroupIds : [defaultGroup(ctx)],
      ...(keyName ? { keyName } : {}),
      ...(args.str('IamInstanceProfile.Name') ? { iamInstanceProfile: args.str('IamInstanceProfile.Name')! } : {}),
      ...(userData !== undefined ? { userData } : {}),
      httpTokens,
      tags: new Map(instanceTags),
      ...(token ? { clientToken: token } : {}),
      launchTime,
      rootDeviceName: image.rootDeviceName,
      architecture: image.architecture,
      createdAt: Date.now(),
    };
    state.instances.set(instance.id, instance);
    for (const device of devices) {
      const volume: FakeVolume = {
        id: ec2Id('vol'),
        size: device.size,
        zone: subnet.zone,
        type: device.type,
        encrypted: device.encrypted,
        ...(device.snapshotId ? { snapshotId: device.snapshotId } : {}),
        state: 'in-use',
        tags: new Map(volumeTags),
        createTime: launchTime,
        createdAt: Date.now(),
        launchVolume: true,
        attachment: {
          instanceId: instance.id,
          device: device.name,
          state: 'attached',
          attachTime: launchTime,
          deleteOnTermination: device.deleteOnTermination,
        },
      };
      state.volumes.set(volume.id, volume);
    }
    scheduleLaunch(ctx, instance);
    launched.push(instance);
  }
  if (token !== undefined) state.runTokens.set(token, { fingerprint, ids: launched.map((i) => i.id) });
  return reservation(ctx, launched);
};

export const describeInstances: ActionHandler = (args, ctx) => {
  const ids = args.strings('InstanceId');
  if (ids.length > 0 && args.str('MaxResults') !== undefined) {
    throw new Ec2Error(
      'InvalidParameterCombination',
      'The parameter instancesSet cannot be used with the parameter maxResults',
    );
  }
  const filters = parseFilters(args.list('Filter'), INSTANCE_FILTERS);
  const instances =
    ids.length > 0
      ? lookUp(ctx, ids).filter((i) => matches(i, filters, INSTANCE_FILTERS))
      : [...ctx.state.instances.values()].filter((i) => matches(i, filters, INSTANCE_FILTERS) && visible(ctx, i));
  const byReservation = new Map<string, FakeInstance[]>();
  for (const instance of instances)
    byReservation.set(instance.reservationId, [...(byReservation.get(instance.reservationId) ?? []), instance]);
  const paged = page([...byReservation.values()], args, { min: 5, max: 1000 });
  return {
    reservationSet: paged.items.map((group) => reservation(ctx, group)),
    ...(paged.nextToken ? { nextToken: paged.nextToken } : {}),
  };
};

export const terminateInstances: ActionHandler = (args, ctx) => {
  const ids = args.strings('InstanceId');
  if (ids.length === 0) throw missingParameter('InstanceId');
  const instances = lookUp(ctx, ids);
  return {
    instancesSet: instances.map((instance) => {
      const previous = instance.state;
      beginTermination(ctx, instance);
      return { instanceId: instance.id, currentState: stateXml(instance.state), previousState: stateXml(previous) };
    }),
  };
};

export const rebootInstances: ActionHandler = (args, ctx) => {
  const ids = args.strings('InstanceId');
  if (ids.length === 0) throw missingParameter('InstanceId');
  const instances = lookUp(ctx, ids);
  for (const instance of instances) {
    if (instance.state !== 'running') {
      throw new Ec2Error(
        'IncorrectInstanceState',
        `The instance '${instance.id}' is not in a state from which it can be rebooted.`,
      );
    }
  }
  for (const instance of instances) {
    // The instance stays `running`; its agent is down while the guest restarts.
    void ctx.agents.stop(instance.id);
    ctx.scheduler.later(ctx.timings.rebootMs, () => {
      if (instance.state === 'running') ctx.agents.boot(instance.id);
    });
  }
  return { return: true };
};

/** Instances by id, as EC2 checks them: every id well-formed and known (and, under the lag, seen). */
export function lookUp(ctx: FakeContext, ids: string[]): FakeInstance[] {
  for (const id of ids) checkId(id, 'i', 'InvalidInstanceID.Malformed');
  const missing = ids.filter((id) => {
    const instance = ctx.state.instances.get(id);
    return !instance || !visible(ctx, instance);
  });
  if (missing.length > 0) throw notFound('InvalidInstanceID.NotFound', 'instance', missing);
  return ids.map((id) => ctx.state.instances.get(id)!);
}

export function stateXml(name: FakeInstance['state']): XmlObject {
  return { code: INSTANCE_STATE_CODES[name], name };
}

function reservation(ctx: FakeContext, instances: FakeInstance[]): XmlObject {
  return {
    reservationId: instances[0]?.reservationId ?? ec2Id('r'),
    ownerId: ctx.state.accountId,
    groupSet: [],
    instancesSet: instances.map((i) => instanceXml(ctx, i)),
  };
}

export function instanceXml(ctx: FakeContext, i: FakeInstance): XmlObject {
  const gone = i.state === 'terminated';
  const groups = i.securityGroupIds.map((id) => ({
    groupId: id,
    groupName: ctx.state.securityGroups.get(id)?.name ?? id,
  }));
  return {
    instanceId: i.id,
    imageId: i.imageId,
    instanceState: stateXml(i.state),
    privateDnsName: gone
      ? null
      : `ip-${i.privateIp.replace(/\./g, '-')}.${ctx.state.region === 'us-east-1' ? 'ec2' : `${ctx.state.region}.compute`}.internal`,
    dnsName: null,
    reason: i.stateTransitionReason || null,
    ...(i.keyName ? { keyName: i.keyName } : {}),
    amiLaunchIndex: 0,
    productCodes: [],
    instanceType: i.instanceType,
    launchTime: i.launchTime,
    placement: { availabilityZone: i.zone, groupName: null, tenancy: 'default' },
    monitoring: { state: 'disabled' },
    ...(gone ? {} : { subnetId: i.subnetId, vpcId: i.vpcId, privateIpAddress: i.privateIp }),
    sourceDestCheck: gone ? undefined : true,
    groupSet: gone ? [] : groups,
    ...(i.stateReason ? { stateReason: { code: i.stateReason.code, message: i.stateReason.message } } : {}),
    architecture: i.architecture,
    rootDeviceType: 'ebs',
    rootDeviceName: i.rootDeviceName,
    blockDeviceMapping: ctx.state.volumesOf(i.id).map((v) => ({
      deviceName: v.attachment!.device,
      ebs: {
        volumeId: v.id,
        status: v.attachment!.state,
        attachTime: v.attachment!.attachTime,
        deleteOnTermination: v.attachment!.deleteOnTermination,
      },
    })),
    virtualizationType: 'hvm',
    clientToken: i.clientToken ?? null,
    tagSet: tagSet(i.tags),
    hypervisor: 'xen',
    ...(i.iamInstanceProfile
      ? {
          iamInstanceProfile: {
            arn: `arn:aws:iam::${ctx.state.accountId}:instance-profile/${i.iamInstanceProfile}`,
            id: 'AIPAFAKEPROFILE0000000',
          },
        }
      : {}),
    ebsOptimized: false,
    enaSupport: true,
    metadataOptions: {
      state: 'applied',
      httpTokens: i.httpTokens,
      httpPutResponseHopLimit: 1,
      httpEndpoint: 'enabled',
    },
  };
}

function subnetFor(ctx: FakeContext, args: QueryArgs): FakeSubnet {
  const zone = args.str('Placement.AvailabilityZone');
  if (zone !== undefined && !ctx.state.zones.includes(zone))
    throw new Ec2Error('InvalidParameterValue', `Invalid availability zone: [${zone}]`);
  const subnetId = args.str('SubnetId');
  if (subnetId !== undefined) {
    const subnet = ctx.state.subnets.get(subnetId);
    if (!subnet) throw new Ec2Error('InvalidSubnetID.NotFound', `The subnet ID '${subnetId}' does not exist`);
    if (zone !== undefined && zone !== subnet.zone) {
      throw new Ec2Error(
        'InvalidParameterValue',
        `Value (${zone}) for parameter availabilityZone is invalid. Subnet '${subnetId}' is in the availability zone ${subnet.zone}`,
      );
    }
    return subnet;
  }
  // The default VPC: the default subnet of the asked zone, or of the first.
  const subnets = [...ctx.state.subnets.values()];
  return subnets.find((s) => s.zone === (zone ?? ctx.state.zones[0])) ?? subnets[0]!;
}

function defaultGroup(ctx: FakeContext): string {
  return [...ctx.state.securityGroups.values()].find((g) => g.name === 'default')!.id;
}

function freeAddress(ctx: FakeContext, subnet: FakeSubnet): string {
  const { first, last } = cidrRange(subnet.cidr);
  for (let n = first + 4; n < last; n++) {
    const ip = intToIp(n);
    if (!ctx.state.instanceWithIp(subnet.id, ip)) return ip;
  }
  throw new Ec2Error(
    'InsufficientFreeAddressesInSubnet',
    `The specified subnet ${subnet.id} does not have enough free addresses to satisfy the request.`,
  );
}

function checkUserData(userData: string): void {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(userData) || userData.length % 4 !== 0) {
    throw new Ec2Error('InvalidParameterValue', 'Invalid BASE64 encoding of user data.');
  }
  if (Buffer.from(userData, 'base64').length > MAX_USER_DATA) {
    throw new Ec2Error('InvalidParameterValue', `User data is limited to ${MAX_USER_DATA} bytes`);
  }
}

interface LaunchDevice {
  name: string;
  size: number;
  type: string;
  encrypted: boolean;
  deleteOnTermination: boolean;
  snapshotId?: string;
}

/** The root volume from the AMI plus `BlockDeviceMapping.N` EBS volumes (which may resize the root). */
function launchDevices(args: QueryArgs, rootDevice: string, rootSize: number, rootSnapshot: string): LaunchDevice[] {
  const devices: LaunchDevice[] = [
    {
      name: rootDevice,
      size: rootSize,
      type: 'gp3',
      encrypted: false,
      deleteOnTermination: true,
      snapshotId: rootSnapshot,
    },
  ];
  for (const mapping of args.list('BlockDeviceMapping')) {
    const name = mapping.str('DeviceName');
    if (!name) throw missingParameter('BlockDeviceMapping.DeviceName');
    if (!/^\/dev\/(sd|xvd)[a-z]{1,2}$/.test(name))
      throw invalidValue('deviceName', name, `${name} is not a valid EBS device name.`);
    const ebs = mapping.struct('Ebs');
    if (!ebs) continue;
    const size = ebs.int('VolumeSize');
    const existing = devices.find((d) => d.name === name);
    if (existing) {
      if (size !== undefined && size < existing.size) {
        throw new Ec2Error(
          'InvalidBlockDeviceMapping',
          `Volume of size ${size}GB is smaller than snapshot '${rootSnapshot}', expect size >= ${existing.size}GB`,
        );
      }
      if (size !== undefined) existing.size = size;
      continue;
    }
    if (size === undefined || size < 1 || size > 16_384) throw invalidValue('volumeSize', String(size));
    devices.push({
      name,
      size,
      type: ebs.str('VolumeType') ?? 'gp2',
      encrypted: ebs.bool('Encrypted') ?? false,
      deleteOnTermination: ebs.bool('DeleteOnTermination') ?? true,
    });
  }
  return devices;
}
