import type { ActionHandler } from './context.js';
import { Ec2Error } from './errors.js';
import { matches, parseFilters, type FilterSpec } from './filters.js';
import { cidrRange } from './net.js';
import type { FakeSubnet } from './state.js';

export const describeAvailabilityZones: ActionHandler = (args, ctx) => {
  const { state } = ctx;
  const asked = args.strings('ZoneName');
  for (const zone of asked)
    if (!state.zones.includes(zone))
      throw new Ec2Error('InvalidParameterValue', `Invalid availability zone: [${zone}]`);
  const zones = asked.length ? asked : state.zones;
  return {
    availabilityZoneInfo: zones.map((zone) => ({
      zoneName: zone,
      zoneState: 'available',
      regionName: state.region,
      messageSet: [],
      zoneId: zoneId(state.region, state.zones.indexOf(zone)),
      zoneType: 'availability-zone',
      optInStatus: 'opt-in-not-required',
      groupName: state.region,
      networkBorderGroup: state.region,
    })),
  };
};

const SUBNET_FILTERS: FilterSpec<FakeSubnet & { tags: Map<string, string> }> = {
  'subnet-id': (s) => [s.id],
  'vpc-id': (s) => [s.vpcId],
  'availability-zone': (s) => [s.zone],
  'cidr-block': (s) => [s.cidr],
};

export const describeSubnets: ActionHandler = (args, ctx) => {
  const { state } = ctx;
  const ids = args.strings('SubnetId');
  const missing = ids.filter((id) => !state.subnets.has(id));
  if (missing.length > 0)
    throw new Ec2Error('InvalidSubnetID.NotFound', `The subnet ID '${missing.join(', ')}' does not exist`);
  const filters = parseFilters(args.list('Filter'), SUBNET_FILTERS);
  const subnets = (ids.length ? ids.map((id) => state.subnets.get(id)!) : [...state.subnets.values()])
    .map((s) => ({ ...s, tags: new Map<string, string>() }))
    .filter((s) => matches(s, filters, SUBNET_FILTERS));
  return {
    subnetSet: subnets.map((s) => {
      const { first, last } = cidrRange(s.cidr);
      const used = state.liveInstances().filter((i) => i.subnetId === s.id).length;
      return {
        subnetId: s.id,
        subnetArn: `arn:aws:ec2:${state.region}:${state.accountId}:subnet/${s.id}`,
        state: 'available',
        vpcId: s.vpcId,
        cidrBlock: s.cidr,
        availableIpAddressCount: last - first - 4 - used,
        availabilityZone: s.zone,
        availabilityZoneId: s.zoneId,
        defaultForAz: true,
        mapPublicIpOnLaunch: false,
        ownerId: state.accountId,
        tagSet: [],
      };
    }),
  };
};

/** EC2's zone ids (`use1-az1`): the region's initials and a number. */
export function zoneId(region: string, index: number): string {
  const [area, direction, number] = region.split('-');
  return `${area}${direction?.[0] ?? ''}${number ?? ''}-az${index + 1}`;
}
