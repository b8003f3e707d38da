import { SlipwayError, type CreateVmInput } from '@slipway/contracts';
import { abortable } from './abort.js';
import type { ArmResources } from './arm-resources.js';
import { stringProperty } from './context.js';
import { PLUGIN } from './errors.js';
import type { VmSize } from './resources.js';

/**
 * Picks the VM size: the plan's `instance_type` (cloud property or resource), then the configured
 * `default_vm_size`, then the smallest size of the region with enough cores and memory. The region's list is
 * read once per driver (sizes change rarely) and again when a read failed.
 */
export class VmSizeSelector {
  private sizes?: Promise<VmSize[]>;

  constructor(
    private readonly api: ArmResources,
    private readonly location: string,
    private readonly defaultSize: string | undefined,
  ) {}

  async sizeFor(input: CreateVmInput, signal?: AbortSignal): Promise<string> {
    const named =
      stringProperty(input.cloudProperties, 'instance_type') ?? input.resources.instanceType ?? this.defaultSize;
    if (named) return named;
    const { cpu, memoryMb } = input.resources;
    const fitting = (await this.list(signal))
      .filter((s) => s.numberOfCores >= cpu && s.memoryInMB >= memoryMb)
      .sort((a, b) => a.numberOfCores - b.numberOfCores || a.memoryInMB - b.memoryInMB || a.name.localeCompare(b.name));
    const chosen = fitting[0];
    if (!chosen) {
      throw new SlipwayError(
        'VmCreationFailed',
        `no VM size in ${this.location} has ${cpu} cores and ${memoryMb} MiB; name one with instance_type`,
        { plugin: PLUGIN, field: 'resources' },
      );
    }
    return chosen.name;
  }

  /** Shared by concurrent callers, so fetched without any one caller's signal; each stops waiting on its own. */
  private list(signal?: AbortSignal): Promise<VmSize[]> {
    if (!this.sizes) {
      const pending = this.api.vmSizes(this.location);
      this.sizes = pending;
      pending.catch(() => {
        if (this.sizes === pending) this.sizes = undefined;
      });
    }
    return abortable(this.sizes, signal);
  }
}
