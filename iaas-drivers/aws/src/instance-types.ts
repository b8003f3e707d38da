import { SlipwayError, type VmResources } from '@slipway/contracts';
import { PLUGIN } from './errors.js';

interface InstanceType {
  name: string;
  vcpus: number;
  memoryMib: number;
}

/**
 * Instance types the driver picks from when a plan gives only cpu and memory: burstable t3 for small VMs,
 * general-purpose m6i above. A plan that names `instance_type` gets exactly that type (EC2 checks it).
 */
const CATALOG: readonly InstanceType[] = Object.freeze([
  { name: 't3.nano', vcpus: 2, memoryMib: 512 },
  { name: 't3.micro', vcpus: 2, memoryMib: 1024 },
  { name: 't3.small', vcpus: 2, memoryMib: 2048 },
  { name: 't3.medium', vcpus: 2, memoryMib: 4096 },
  { name: 't3.large', vcpus: 2, memoryMib: 8192 },
  { name: 't3.xlarge', vcpus: 4, memoryMib: 16384 },
  { name: 't3.2xlarge', vcpus: 8, memoryMib: 32768 },
  { name: 'm6i.4xlarge', vcpus: 16, memoryMib: 65536 },
  { name: 'm6i.8xlarge', vcpus: 32, memoryMib: 131072 },
  { name: 'm6i.12xlarge', vcpus: 48, memoryMib: 196608 },
  { name: 'm6i.16xlarge', vcpus: 64, memoryMib: 262144 },
  { name: 'm6i.24xlarge', vcpus: 96, memoryMib: 393216 },
  { name: 'm6i.32xlarge', vcpus: 128, memoryMib: 524288 },
]);

/** The named type, or the smallest catalogue type with at least the asked cpu and memory. */
export function selectInstanceType(resources: VmResources, named: string | undefined): string {
  if (named) return named;
  const fit = CATALOG.find((t) => t.vcpus >= resources.cpu && t.memoryMib >= resources.memoryMb);
  if (!fit) {
    throw new SlipwayError(
      'VmCreationFailed',
      `no instance type in the driver's catalogue has ${resources.cpu} vCPUs and ${resources.memoryMb} MiB; name one in the plan (cloud_properties.instance_type)`,
      {
        plugin: PLUGIN,
        field: 'resources',
      },
    );
  }
  return fit.name;
}
