import { setTimeout as delay } from 'node:timers/promises';
import {
  encodeAgentSettings,
  SlipwayError,
  throwIfAborted,
  type CallOptions,
  type CloudInventory,
  type CreateDiskInput,
  type CreateStemcellInput,
  type CreateVmInput,
  type CreatedVm,
  type DiskHint,
  type FailureRehearsal,
  type IaasDriver,
  type IaasInfo,
} from '@slipway/contracts';
import type { SandboxCloud, FaultCode } from './cloud.js';
import type { SandboxConfig } from './config.js';
import { PLUGIN, sandboxError } from './errors.js';

/** The reference IaaS driver: every contract verb against an in-process simulated cloud. */
export class SandboxIaasDriver implements IaasDriver {
  readonly rehearsal: FailureRehearsal;
  private readonly zones: string[];
  private zoneCursor = 0;

  constructor(
    private readonly cloud: SandboxCloud,
    private readonly config: SandboxConfig,
  ) {
    this.zones = config.zones ?? ['z1', 'z2', 'z3'];
    this.rehearsal = {
      killVm: (vmId) => this.killVm(vmId),
      hangAgent: async (vmId) => {
        const vm = this.vms[vmId];
        if (!vm) throw sandboxError('NotFound', `VM ${vmId} does not exist`);
        vm.state = 'hung';
        await this.cloud.hangAgent(vmId);
        await this.cloud.inventory.persist();
      },
      detachDisk: async (diskId) => {
        const disk = this.disks[diskId];
        if (!disk) throw sandboxError('NotFound', `disk ${diskId} does not exist`);
        disk.attachedTo = null;
        await this.cloud.inventory.persist();
      },
      failNext: (verb, error, count = 1) => {
        const queue = this.cloud.faults.queued.get(verb) ?? [];
        for (let i = 0; i < count; i++) queue.push(error);
        this.cloud.faults.queued.set(verb, queue);
      },
      inventory: () => this.inventoryView(),
    };
  }

  private get vms() {
    return this.cloud.inventory.data.vms;
  }
  private get disks() {
    return this.cloud.inventory.data.disks;
  }
  private get data() {
    return this.cloud.inventory.data;
  }

  async info(options?: CallOptions): Promise<IaasInfo> {
    await this.enter('info', options);
    return { name: 'sandbox', apiVersion: 2, stemcellFormats: ['sandbox-raw'], zones: this.zones };
  }

  async createStemcell(input: CreateStemcellInput, options?: CallOptions): Promise<{ stemcellId: string }> {
    await this.enter('createStemcell', options);
    const known = this.byRequest(options);
    if (known && this.data.stemcells[known]) return { stemcellId: known };
    const id = this.cloud.inventory.nextId('sc');
    this.data.stemcells[id] = { name: input.name, version: input.version };
    this.remember(options, id);
    await this.cloud.inventory.persist();
    return { stemcellId: id };
  }

  async deleteStemcell(input: { stemcellId: string }, options?: CallOptions): Promise<void> {
    await this.enter('deleteStemcell', options);
    delete this.data.stemcells[input.stemcellId];
    await this.cloud.inventory.persist();
  }

  async createVm(input: CreateVmInput, options?: CallOptions): Promise<CreatedVm> {
    await this.enter('createVm', options);
    const known = this.byRequest(options);
    if (known && this.vms[known]) return { vmId: known, zone: this.vms[known].zone };
    if (!this.data.stemcells[input.stemcellId])
      throw sandboxError(
        'VmCreationFailed',
        `stemcell ${input.stemcellId} does not exist`,
        'Upload the stemcell first (createStemcell).',
      );
    const quota = this.config.quotas?.vms ?? this.cloud.faults.quota.vms;
    if (quota !== undefined && Object.keys(this.vms).length >= quota) {
      throw sandboxError(
        'QuotaExceeded',
        `VM quota of ${quota} reached`,
        'Raise quotas.vms in the sandbox config, or delete VMs.',
      );
    }
    const id = this.cloud.inventory.nextId('vm');
    const zone = input.zone ?? this.zones[this.zoneCursor++ % this.zones.length];
    await this.cloud.inventory.writeUserData(id, encodeAgentSettings(input.env));
    this.vms[id] = {
      id,
      agentId: input.agentId,
      stemcellId: input.stemcellId,
      metadata: { ...input.metadata, 'slipway.agent_id': input.agentId },
      zone,
      ip: input.network.ip,
      state: 'running',
      createdAt: new Date().toISOString(),
    };
    this.remember(options, id);
    await this.cloud.inventory.persist();
    this.cloud.boot(id, this.config.boot_delay_ms ?? 0);
    return { vmId: id, ip: input.network.ip, zone };
  }

  async deleteVm(input: { vmId: string }, options?: CallOptions): Promise<void> {
    await this.enter('deleteVm', options);
    if (!this.vms[input.vmId]) return;
    await this.cloud.stopAgent(input.vmId);
    this.detachAllFrom(input.vmId);
    delete this.vms[input.vmId];
    await this.cloud.inventory.persist();
    await this.cloud.inventory.deleteUserData(input.vmId);
    await this.cloud.inventory.deleteVmDir(input.vmId);
  }

  async hasVm(input: { vmId: string }, options?: CallOptions): Promise<boolean> {
    await this.enter('hasVm', options);
    return Boolean(this.vms[input.vmId]);
  }

  async rebootVm(input: { vmId: string }, options?: CallOptions): Promise<void> {
    await this.enter('rebootVm', options);
    const vm = this.vms[input.vmId];
    if (!vm) throw sandboxError('NotFound', `VM ${input.vmId} does not exist`);
    await this.cloud.stopAgent(vm.id);
    vm.state = 'running';
    await this.cloud.inventory.persist();
    this.cloud.boot(vm.id, this.config.boot_delay_ms ?? 0);
  }

  async setVmMetadata(input: { vmId: string; metadata: Record<string, string> }, options?: CallOptions): Promise<void> {
    await this.enter('setVmMetadata', options);
    const vm = this.vms[input.vmId];
    if (!vm) throw sandboxError('NotFound', `VM ${input.vmId} does not exist`);
    Object.assign(vm.metadata, input.metadata);
    await this.cloud.inventory.persist();
  }

  async createDisk(input: CreateDiskInput, options?: CallOptions): Promise<{ diskId: string }> {
    await this.enter('createDisk', options);
    const known = this.byRequest(options);
    if (known && this.disks[known]) return { diskId: known };
    const quota = this.config.quotas?.disks ?? this.cloud.faults.quota.disks;
    if (quota !== undefined && Object.keys(this.disks).length >= quota) {
      throw sandboxError(
        'QuotaExceeded',
        `disk quota of ${quota} reached`,
        'Raise quotas.disks in the sandbox config, or delete disks.',
      );
    }
    const gbQuota = this.config.quotas?.disk_gb;
    const usedMb = Object.values(this.disks).reduce((sum, d) => sum + d.sizeMb, 0);
    if (gbQuota !== undefined && usedMb + input.sizeMb > gbQuota * 1024) {
      throw sandboxError(
        'QuotaExceeded',
        `disk space quota of ${gbQuota} GB reached`,
        'Raise quotas.disk_gb in the sandbox config.',
      );
    }
    const id = this.cloud.inventory.nextId('disk');
    const zone = input.zone ?? (input.vmId ? this.vms[input.vmId]?.zone : undefined) ?? this.zones[0];
    await this.cloud.inventory.createDiskDir(id);
    this.disks[id] = { id, sizeMb: input.sizeMb, zone, attachedTo: null, metadata: { ...input.metadata } };
    this.remember(options, id);
    await this.cloud.inventory.persist();
    return { diskId: id };
  }

  async deleteDisk(input: { diskId: string }, options?: CallOptions): Promise<void> {
    await this.enter('deleteDisk', options);
    const disk = this.disks[input.diskId];
    if (!disk) return;
    if (disk.attachedTo && this.vms[disk.attachedTo]) {
      throw sandboxError('Conflict', `disk ${input.diskId} is attached to VM ${disk.attachedTo}`, 'Detach it first.');
    }
    delete this.disks[input.diskId];
    await this.cloud.inventory.persist();
    await this.cloud.inventory.deleteDiskDir(input.diskId);
  }

  async attachDisk(input: { vmId: string; diskId: string }, options?: CallOptions): Promise<{ hint: DiskHint }> {
    await this.enter('attachDisk', options);
    const disk = this.disks[input.diskId];
    if (!this.vms[input.vmId]) throw sandboxError('NotFound', `VM ${input.vmId} does not exist`);
    if (!disk) throw sandboxError('NotFound', `disk ${input.diskId} does not exist`);
    if (disk.attachedTo && disk.attachedTo !== input.vmId && this.vms[disk.attachedTo]) {
      throw sandboxError(
        'Conflict',
        `disk ${input.diskId} is attached to another VM (${disk.attachedTo})`,
        'Detach it from that VM first.',
      );
    }
    disk.attachedTo = input.vmId;
    await this.cloud.inventory.persist();
    return { hint: { kind: 'volumeId', volumeId: input.diskId } };
  }

  async detachDisk(input: { vmId: string; diskId: string }, options?: CallOptions): Promise<void> {
    await this.enter('detachDisk', options);
    const disk = this.disks[input.diskId];
    if (!disk || disk.attachedTo !== input.vmId) return;
    disk.attachedTo = null;
    await this.cloud.inventory.persist();
  }

  async hasDisk(input: { diskId: string }, options?: CallOptions): Promise<boolean> {
    await this.enter('hasDisk', options);
    return Boolean(this.disks[input.diskId]);
  }

  async getDisks(input: { vmId: string }, options?: CallOptions): Promise<string[]> {
    await this.enter('getDisks', options);
    return Object.values(this.disks)
      .filter((d) => d.attachedTo === input.vmId)
      .map((d) => d.id);
  }

  async resizeDisk(input: { diskId: string; sizeMb: number }, options?: CallOptions): Promise<void> {
    await this.enter('resizeDisk', options);
    const disk = this.disks[input.diskId];
    if (!disk) throw sandboxError('NotFound', `disk ${input.diskId} does not exist`);
    if (input.sizeMb < disk.sizeMb)
      throw sandboxError('CloudError', `disk ${input.diskId} cannot shrink from ${disk.sizeMb} to ${input.sizeMb} MiB`);
    disk.sizeMb = input.sizeMb;
    await this.cloud.inventory.persist();
  }

  async snapshotDisk(
    input: { diskId: string; metadata?: Record<string, string> },
    options?: CallOptions,
  ): Promise<{ snapshotId: string }> {
    await this.enter('snapshotDisk', options);
    const known = this.byRequest(options);
    if (known && this.data.snapshots[known]) return { snapshotId: known };
    if (!this.disks[input.diskId]) throw sandboxError('NotFound', `disk ${input.diskId} does not exist`);
    const id = this.cloud.inventory.nextId('snap');
    this.data.snapshots[id] = { diskId: input.diskId, metadata: { ...input.metadata } };
    this.remember(options, id);
    await this.cloud.inventory.persist();
    return { snapshotId: id };
  }

  async deleteSnapshot(input: { snapshotId: string }, options?: CallOptions): Promise<void> {
    await this.enter('deleteSnapshot', options);
    delete this.data.snapshots[input.snapshotId];
    await this.cloud.inventory.persist();
  }

  async listResources(input: { tags: Record<string, string> }, options?: CallOptions): Promise<CloudInventory> {
    await this.enter('listResources', options);
    const matches = (m: Record<string, string>) => Object.entries(input.tags).every(([k, v]) => m[k] === v);
    const all = await this.inventoryView();
    return { vms: all.vms.filter((v) => matches(v.metadata)), disks: all.disks.filter((d) => matches(d.metadata)) };
  }

  async destroy(): Promise<void> {
    await this.cloud.release();
  }

  /** Kills a VM as a host failure would: gone, its agent stopped, its disks left detached. */
  async killVm(vmId: string): Promise<void> {
    if (!this.vms[vmId]) throw sandboxError('NotFound', `VM ${vmId} does not exist`);
    await this.cloud.stopAgent(vmId);
    this.detachAllFrom(vmId);
    delete this.vms[vmId];
    await this.cloud.inventory.persist();
    await this.cloud.inventory.deleteUserData(vmId);
    await this.cloud.inventory.deleteVmDir(vmId);
  }

  private async inventoryView(): Promise<CloudInventory> {
    return {
      vms: Object.values(this.vms).map((v) => ({ vmId: v.id, metadata: { ...v.metadata }, state: v.state })),
      disks: Object.values(this.disks).map((d) => ({
        diskId: d.id,
        vmId: d.attachedTo ?? undefined,
        metadata: { ...d.metadata },
        sizeMb: d.sizeMb,
      })),
    };
  }

  private detachAllFrom(vmId: string): void {
    for (const disk of Object.values(this.disks)) if (disk.attachedTo === vmId) disk.attachedTo = null;
  }

  private byRequest(options?: CallOptions): string | undefined {
    return options?.requestId ? this.data.requests[options.requestId] : undefined;
  }

  private remember(options: CallOptions | undefined, id: string): void {
    if (options?.requestId) this.data.requests[options.requestId] = id;
  }

  /** Latency, then injected faults: what every call meets on its way into the simulated cloud. */
  private async enter(verb: string, options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal);
    const latency = this.latencyOf(verb) + this.cloud.faults.latencyMs;
    if (latency > 0) {
      try {
        await delay(latency, undefined, { signal: options?.signal });
      } catch (e) {
        throw new SlipwayError('Cancelled', `sandbox: ${verb} was aborted`, { cause: e, plugin: PLUGIN });
      }
    }
    const queued = this.cloud.faults.queued.get(verb)?.shift();
    if (queued) throw faultError(queued.code, queued.message ?? `${verb} failed (injected fault)`);
    const { throttle, serverError } = this.cloud.faults.rates;
    const roll = Math.random();
    if (roll < throttle) throw faultError('RateLimited', `${verb}: request limit exceeded (injected)`);
    if (roll < throttle + serverError) throw faultError('Retryable', `${verb}: internal error (injected)`);
    if (Math.random() < (this.config.fail_rate?.retryable ?? 0))
      throw faultError('Retryable', `${verb}: transient failure (fail_rate)`);
  }

  private latencyOf(verb: string): number {
    const l = this.config.latency_ms;
    if (typeof l === 'number') return l;
    return l?.[verb] ?? l?.default ?? 0;
  }
}

function faultError(code: FaultCode, message: string): SlipwayError {
  return new SlipwayError(code, `sandbox: ${message}`, {
    plugin: PLUGIN,
    ...(code === 'RateLimited' ? { retryAfterMs: 50 } : {}),
  });
}
