import { randomBytes } from 'node:crypto';
import { ArmHttpError, objectAt, stringTags } from './http.js';
import { busy, checkLocation, checkName, page, propertiesOf, resourceNotFound } from './resource-rules.js';
import { SEGMENT, groupPath, type FakeContext, type Reply, type Route, type RouteCall } from './routes.js';
import type { FakeNic, FakeSubnet } from './state.js';

const NIC = 'Microsoft.Network/networkInterfaces';

/** Microsoft.Network/networkInterfaces with one IP configuration in a known subnet. */
export function networkRoutes(ctx: FakeContext): Route[] {
  const nic = groupPath(`Microsoft\\.Network/networkInterfaces/${SEGMENT}`);
  const base = { schedule: 'network' as const, resourceType: NIC };
  return [
    {
      ...base,
      method: 'PUT',
      path: nic,
      operation: 'NetworkInterfaces_CreateOrUpdate',
      handle: (call) => putNic(ctx, call),
    },
    {
      ...base,
      method: 'GET',
      path: nic,
      operation: 'NetworkInterfaces_Get',
      handle: (call) => ({ status: 200, body: nicView(ctx, nicOr404(ctx, call.params[2]!)) }),
    },
    {
      ...base,
      method: 'DELETE',
      path: nic,
      operation: 'NetworkInterfaces_Delete',
      handle: (call) => deleteNic(ctx, call),
    },
    {
      ...base,
      method: 'GET',
      path: groupPath('Microsoft\\.Network/networkInterfaces'),
      operation: 'NetworkInterfaces_List',
      handle: (call) =>
        page(
          ctx,
          call,
          [...ctx.state.nics.values()].map((n) => nicView(ctx, n)),
        ),
    },
  ];
}

function nicOr404(ctx: FakeContext, name: string): FakeNic {
  const nic = ctx.state.nics.get(name.toLowerCase());
  if (!nic) throw resourceNotFound(ctx, NIC, name);
  return nic;
}

function putNic(ctx: FakeContext, call: RouteCall): Reply {
  const { state } = ctx;
  const name = call.params[2]!;
  checkName(name, NIC, 80);
  const location = checkLocation(ctx, call.body, NIC);
  const nicId = state.nicId(name);
  const properties = propertiesOf(call.body);
  const configs = properties.ipConfigurations;
  if (!Array.isArray(configs) || configs.length === 0) {
    throw new ArmHttpError(
      400,
      'NetworkInterfaceMustHaveAtLeastOneIpConfiguration',
      `Network interface ${nicId} must have at least one IP configuration.`,
    );
  }
  const config = objectAt(configs[0]);
  const ipProps = objectAt(config.properties);
  const configId = `${nicId}/ipConfigurations/${String(config.name ?? 'ipconfig1')}`;
  const subnetRef = objectAt(ipProps.subnet).id;
  const subnet = state.subnets.find(
    (s) => typeof subnetRef === 'string' && s.id.toLowerCase() === subnetRef.toLowerCase(),
  );
  if (!subnet) {
    throw new ArmHttpError(
      400,
      'InvalidResourceReference',
      `Resource ${String(subnetRef)} referenced by resource ${nicId} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.`,
    );
  }
  const existing = state.nics.get(name.toLowerCase());
  if (existing && existing.provisioningState !== 'Succeeded') throw busy();
  const allocation = ipProps.privateIPAllocationMethod === 'Static' ? 'Static' : 'Dynamic';
  let ip: string;
  if (allocation === 'Static') {
    if (typeof ipProps.privateIPAddress !== 'string') {
      throw new ArmHttpError(
        400,
        'PrivateIPAddressIsNotSpecified',
        `Static private IP address is not specified for IP configuration ${configId}.`,
      );
    }
    ip = ipProps.privateIPAddress;
    checkStaticIp(subnet, ip, configId);
  } else {
    ip = existing?.privateIp ?? nextFreeIp(ctx, subnet);
  }
  const holder = state.nicWithIp(subnet.id, ip);
  if (holder && holder.name.toLowerCase() !== name.toLowerCase()) {
    throw new ArmHttpError(
      400,
      'PrivateIPAddressInUse',
      `IP configuration ${configId} is using the private IP address ${ip} which is already allocated to resource ${state.nicId(holder.name)}/ipConfigurations/ipconfig1.`,
    );
  }
  const nsg = objectAt(properties.networkSecurityGroup).id;
  const nic: FakeNic = existing ?? {
    name,
    location,
    tags: {},
    subnetId: subnet.id,
    privateIp: ip,
    allocation,
    provisioningState: 'Updating',
    macAddress: randomBytes(6)
      .toString('hex')
      .toUpperCase()
      .replace(/(..)(?!$)/g, '$1-'),
    etag: '',
  };
  Object.assign(nic, {
    tags: stringTags(call.body.tags),
    subnetId: subnet.id,
    privateIp: ip,
    allocation,
    provisioningState: 'Updating',
    etag: `W/"${randomBytes(16).toString('hex')}"`,
  });
  if (typeof nsg === 'string') nic.nsgId = nsg;
  else delete nic.nsgId;
  state.nics.set(name.toLowerCase(), nic);
  const operation = ctx.operations.start({
    operation: 'NetworkInterfaces_CreateOrUpdate',
    schedule: 'network',
    apiVersion: call.apiVersion,
    method: 'PUT',
    delayMs: ctx.timings.transitionMs,
    succeed: () => {
      if (nic.provisioningState === 'Updating') nic.provisioningState = 'Succeeded';
    },
    fail: () => {
      nic.provisioningState = 'Failed';
    },
    result: () => nicView(ctx, nic),
  });
  return ctx.operations.accepted(operation, existing ? 200 : 201, nicView(ctx, nic));
}

function deleteNic(ctx: FakeContext, call: RouteCall): Reply {
  const { state } = ctx;
  const nic = state.nics.get(call.params[2]!.toLowerCase());
  if (!nic) return { status: 204 };
  if (nic.vmKey && state.vms.has(nic.vmKey.slice(nic.vmKey.lastIndexOf('/') + 1))) {
    throw new ArmHttpError(
      400,
      'NicInUse',
      `Network Interface ${state.nicId(nic.name)} is used by existing resource ${nic.vmKey}. In order to delete the network interface, it must be dissociated from the resource. To learn more, see aka.ms/deletenic.`,
    );
  }
  nic.provisioningState = 'Deleting';
  const operation = ctx.operations.start({
    operation: 'NetworkInterfaces_Delete',
    schedule: 'network',
    apiVersion: call.apiVersion,
    method: 'DELETE',
    delayMs: ctx.timings.transitionMs,
    succeed: () => {
      if (state.nics.get(nic.name.toLowerCase()) === nic) state.nics.delete(nic.name.toLowerCase());
    },
  });
  return ctx.operations.accepted(operation, 202);
}

function nicView(ctx: FakeContext, nic: FakeNic): unknown {
  const id = ctx.state.nicId(nic.name);
  const vm = nic.vmKey ? ctx.state.vms.get(nic.vmKey.slice(nic.vmKey.lastIndexOf('/') + 1)) : undefined;
  return {
    name: nic.name,
    id,
    etag: nic.etag,
    type: NIC,
    location: nic.location,
    tags: nic.tags,
    properties: {
      provisioningState: nic.provisioningState,
      ipConfigurations: [
        {
          name: 'ipconfig1',
          id: `${id}/ipConfigurations/ipconfig1`,
          type: `${NIC}/ipConfigurations`,
          properties: {
            provisioningState: nic.provisioningState,
            privateIPAddress: nic.privateIp,
            privateIPAllocationMethod: nic.allocation,
            subnet: { id: nic.subnetId },
            primary: true,
            privateIPAddressVersion: 'IPv4',
          },
        },
      ],
      ...(nic.nsgId ? { networkSecurityGroup: { id: nic.nsgId } } : {}),
      ...(vm ? { virtualMachine: { id: ctx.state.vmId(vm.name) }, macAddress: nic.macAddress } : {}),
      enableAcceleratedNetworking: false,
      enableIPForwarding: false,
      nicType: 'Standard',
    },
  };
}

/** The address must be inside the subnet, and not one of the five Azure reserves (network, .1-.3, broadcast). */
function checkStaticIp(subnet: FakeSubnet, ip: string, configId: string): void {
  const [base, bits] = subnet.addressPrefix.split('/') as [string, string];
  const size = 2 ** (32 - Number(bits));
  const first = toInt(base);
  const value = toInt(ip);
  if (Number.isNaN(value) || value < first || value >= first + size) {
    throw new ArmHttpError(
      400,
      'PrivateIPAddressNotInSubnet',
      `IP configuration ${configId} is using the private IP address ${ip} which does not belong to the range of subnet prefix ${subnet.addressPrefix}.`,
    );
  }
  if (value - first < 4 || value === first + size - 1) {
    throw new ArmHttpError(
      400,
      'PrivateIPAddressIsReserved',
      `IP configuration ${configId} is using the private IP address ${ip} which is reserved by Azure in subnet ${subnet.id}.`,
    );
  }
}

function nextFreeIp(ctx: FakeContext, subnet: FakeSubnet): string {
  const [base, bits] = subnet.addressPrefix.split('/') as [string, string];
  const first = toInt(base);
  const size = 2 ** (32 - Number(bits));
  for (let offset = 4; offset < size - 1; offset++) {
    const ip = fromInt(first + offset);
    if (!ctx.state.nicWithIp(subnet.id, ip)) return ip;
  }
  throw new ArmHttpError(400, 'SubnetIsFull', `Subnet ${subnet.id} has no free IP address.`);
}

function toInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return NaN;
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

function fromInt(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}
