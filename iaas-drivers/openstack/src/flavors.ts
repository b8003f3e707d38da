import { SlipwayError, type VmResources } from '@slipway/contracts';
import type { Flavor } from './compute.js';
import { PLUGIN } from './errors.js';

/**
 * Picks the Nova flavor for a VM: the one the plan names (by name or id), else the smallest flavor whose
 * vCPUs, RAM and root disk cover the resources, else the configured default.
 */
export function selectFlavor(
  flavors: Flavor[],
  resources: VmResources,
  named: string | undefined,
  fallback: string | undefined,
): Flavor {
  if (named) {
    const found = flavors.find((f) => f.name === named || f.id === named);
    if (found) return found;
    throw new SlipwayError(
      'VmCreationFailed',
      `flavor "${named}" does not exist; this project has: ${flavors.map((f) => f.name).join(', ') || 'none'}`,
      {
        plugin: PLUGIN,
        field: 'cloud_properties.instance_type',
        hint: 'Name a flavor from `openstack flavor list` in the plan.',
      },
    );
  }
  const diskGb = Math.ceil(resources.ephemeralDiskMb / 1024);
  const fitting = flavors
    .filter((f) => f.vcpus >= resources.cpu && f.ram >= resources.memoryMb && f.disk >= diskGb)
    .sort((a, b) => a.vcpus - b.vcpus || a.ram - b.ram || a.disk - b.disk);
  if (fitting[0]) return fitting[0];
  if (fallback) return selectFlavor(flavors, resources, fallback, undefined);
  throw new SlipwayError(
    'VmCreationFailed',
    `no flavor has ${resources.cpu} vCPUs, ${resources.memoryMb} MiB RAM and a ${diskGb} GiB disk`,
    {
      plugin: PLUGIN,
      hint: 'Name a flavor in the plan (instance_type), set default_flavor, or ask the cloud operators for a larger flavor.',
    },
  );
}
