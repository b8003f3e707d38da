import { SlipwayError, type VmResources } from '@slipway/contracts';
import { abortable } from './abort.js';
import type { ComputeClient } from './client.js';
import { PLUGIN } from './errors.js';
import type { MachineType } from './resources.js';

/**
 * The machine types of each zone, listed once per driver (`machineTypes.list`) and used to pick the
 * smallest machine of the configured series that fits a plan's cpu and memory. A plan that names a machine
 * type skips the list entirely: GCE itself refuses an unknown name, in its own words.
 */
export class MachineTypeCatalog {
  private readonly byZone = new Map<string, Promise<MachineType[]>>();

  constructor(
    private readonly client: ComputeClient,
    private readonly series: string,
    private readonly fallback: string | undefined,
  ) {}

  async choose(zone: string, resources: VmResources, signal?: AbortSignal): Promise<string> {
    const types = await this.list(zone, signal);
    const fits = types
      .filter((t) => t.name.startsWith(`${this.series}-`) && !t.deprecated?.state)
      .filter((t) => t.guestCpus >= resources.cpu && t.memoryMb >= resources.memoryMb)
      .sort((a, b) => a.guestCpus - b.guestCpus || a.memoryMb - b.memoryMb || a.name.localeCompare(b.name));
    const chosen = fits[0]?.name ?? this.fallback;
    if (!chosen) {
      throw new SlipwayError(
        'VmCreationFailed',
        `no ${this.series} machine type in zone ${zone} has ${resources.cpu} vCPUs and ${resources.memoryMb} MiB`,
        {
          plugin: PLUGIN,
          field: 'resources',
          hint: 'Name a machine type in the plan (instance_type or cloud_properties.machine_type), or set default_machine_type / machine_type_series in the driver config.',
        },
      );
    }
    return chosen;
  }

  private list(zone: string, signal?: AbortSignal): Promise<MachineType[]> {
    let pending = this.byZone.get(zone);
    if (!pending) {
      // Listed without the caller's signal: the listing is shared, and one caller's abort must not fail the others.
      pending = this.client.listAll<MachineType>({
        method: 'machineTypes.list',
        path: this.client.projectPath(`/zones/${zone}/machineTypes`),
      });
      this.byZone.set(zone, pending);
      // A failed or aborted listing is not cached: the next VM lists again.
      pending.catch(() => {
        if (this.byZone.get(zone) === pending) this.byZone.delete(zone);
      });
    }
    return abortable(pending, signal);
  }
}
