import { randomBytes } from 'node:crypto';
import { cp, mkdir, rm, lstat, readFile, readlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  SlipwayError,
  throwIfAborted,
  type CallOptions,
  type CloudInventory,
  type CreateDiskInput,
  type CreateStemcellInput,
  type CreateVmInput,
  type CreatedVm,
  type DiskHint,
  type DiskLocation,
  type FailureRehearsal,
  type IaasDriver,
  type IaasInfo,
  type Logger,
} from '@slipway/contracts';
import { pickLoopback, isLoopback } from './addresses.js';
import { DEFAULT_ADDRESS_POOL, type LocalConfig } from './config.js';
import { hostError, localError, PLUGIN } from './errors.js';
import { HostFaults, type HostFaultKind } from './faults.js';
import type { Inventory, VmRecord } from './inventory.js';
import { diskDir, pidsUnderRoot, vmLayout, type LocalMachine } from './machine.js';
import { innerRelayArgs, type VmNetworks } from './vm-network.js';

/** How long job processes get to stop (SIGTERM) when a VM is deleted or Slipway stops, before SIGKILL. */
const STOP_GRACE_MS = 3_000;

/**
 * VMs as process trees on this machine (what bosh-lite and Cluster API's Docker provider are, without
 * Docker): each VM is an init that keeps its node agent running, with its own loopback address, its own
 * ephemeral directory (deleted with the VM) and persistent disk directories (kept until the disk is
 * deleted). Killing a VM kills its tree. The inventory is a state file that outlives the control plane.
 */
export class LocalIaasDriver implements IaasDriver {
  readonly rehearsal: FailureRehearsal;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly root: string,
    private readonly inventory: Inventory,
    private readonly machine: LocalMachine,
    private readonly faults: HostFaults,
    private readonly config: LocalConfig,
    private readonly logger: Logger,
    /** Network namespaces for VMs, where the config and the machine allow them. */
    private readonly networks?: VmNetworks,
  ) {
    this.rehearsal = {
      killVm: (vmId) =>
        this.exclusive(async () => {
          const vm = this.vms[vmId];
          if (!vm || vm.state === 'terminated') throw localError('NotFound', `VM ${vmId} does not exist`);
          await this.machine.kill(vm, 0);
          await this.networks?.closeRelay(vm.id);
          this.terminate(vm);
        }),
      hangAgent: async (vmId) => {
        const vm = this.vms[vmId];
        if (!vm) throw localError('NotFound', `VM ${vmId} does not exist`);
        // SIGSTOP freezes the VM's init and agent (one process group): the jobs run on, the agent answers nothing.
        if (vm.initPid) process.kill(-vm.initPid, 'SIGSTOP');
      },
      detachDisk: (diskId) =>
        this.exclusive(async () => {
          const disk = this.disks[diskId];
          if (!disk) throw localError('NotFound', `disk ${diskId} does not exist`);
          if (disk.attachedTo) await this.unplug(disk.attachedTo, diskId);
          disk.attachedTo = null;
          this.inventory.save();
        }),
      failNext: (verb, error, count = 1) => {
        const kind: HostFaultKind =
          error.code === 'RateLimited' ? 'throttle' : error.code === 'Retryable' ? 'server' : 'permanent';
        const faults = this.faults.read();
        const queue = [...(faults.queued?.[verb] ?? [])];
        for (let i = 0; i < count; i++) queue.push({ kind, message: error.message });
        this.faults.write({ ...faults, queued: { ...faults.queued, [verb]: queue } });
      },
      inventory: () => this.inventoryView(),
    };
  }

  private get vms() {
    return this.inventory.data.vms;
  }
  private get disks() {
    return this.inventory.data.disks;
  }
  private get data() {
    return this.inventory.data;
  }

  /**
   * Takes over the VMs of an earlier control plane: running trees are left alone (a crash of Slipway leaves
   * them running, as a cloud would), VMs Slipway stopped when it ended boot again, and VMs whose tree died
   * meanwhile (killed, or the machine rebooted) are terminated: `hasVm` is false and the resurrector replaces them.
   */
  async adopt(): Promise<void> {
    await this.exclusive(async () => {
      for (const vm of Object.values(this.vms)) {
        if (vm.state === 'terminated') continue;
        if ((vm.state === 'running' || vm.state === 'booting') && this.machine.isRunning(vm)) {
          // Its processes run on; the host's end of its control-plane relay died with the earlier control plane.
          if (vm.namespace) await this.networkOf(vm);
          continue;
        }
        if (vm.state === 'stopped' || vm.state === 'booting') {
          await this.boot(vm);
          this.logger.info('local VM booted again', { vm: vm.id, pid: vm.initPid });
          continue;
        }
        await this.machine.kill(vm, 0);
        this.terminate(vm);
        this.logger.warn('local VM died while Slipway was not running; it is gone', { vm: vm.id });
      }
      this.inventory.save();
    });
  }

  async info(options?: CallOptions): Promise<IaasInfo> {
    await this.enter('info', options);
    return { name: 'local', apiVersion: 2, stemcellFormats: ['local'], zones: ['local'] };
  }

  async createStemcell(input: CreateStemcellInput, options?: CallOptions): Promise<{ stemcellId: string }> {
    await this.enter('createStemcell', options);
    return this.exclusive(async () => {
      const known = this.byRequest(options);
      if (known && this.data.stemcells[known]) return { stemcellId: known };
      // The "image" of a local VM is this machine: a stemcell only records what the control plane asked for.
      const id = newId('sc');
      this.data.stemcells[id] = { name: input.name, version: input.version };
      this.remember(options, id);
      this.inventory.save();
      return { stemcellId: id };
    });
  }

  async deleteStemcell(input: { stemcellId: string }, options?: CallOptions): Promise<void> {
    await this.enter('deleteStemcell', options);
    await this.exclusive(async () => {
      delete this.data.stemcells[input.stemcellId];
      this.inventory.save();
    });
  }

  async createVm(input: CreateVmInput, options?: CallOptions): Promise<CreatedVm> {
    await this.enter('createVm', options);
    return this.exclusive(async () => {
      const known = this.byRequest(options);
      const existing = known ? this.vms[known] : undefined;
      if (existing && existing.state !== 'terminated') return { vmId: existing.id, ip: existing.ip, zone: 'local' };
      if (!this.data.stemcells[input.stemcellId]) {
        throw localError(
          'VmCreationFailed',
          `stemcell ${input.stemcellId} does not exist`,
          'Upload the stemcell first (createStemcell).',
        );
      }
      const live = Object.values(this.vms).filter((v) => v.state !== 'terminated');
      const quota = this.config.quotas?.vms ?? this.faults.read().quota?.vms;
      if (quota !== undefined && live.length >= quota) {
        throw localError(
          'QuotaExceeded',
          `VM quota of ${quota} reached`,
          'Raise quotas.vms in the local driver config, or delete VMs.',
        );
      }
      const ip = this.addressFor(input.network.ip, live);
      const id = newId('vm');
      const vm: VmRecord = {
        id,
        agentId: input.agentId,
        stemcellId: input.stemcellId,
        ip,
        state: 'booting',
        metadata: { ...input.metadata, 'slipway.agent_id': input.agentId },
        createdAt: new Date().toISOString(),
        ...(this.networks?.holds(ip) ? { namespace: this.networks.namespaceOf(id) } : {}),
      };
      try {
        this.machine.prepare(vm, input.env);
      } catch (error) {
        await rm(vmLayout(this.root, vm.id).dir, { recursive: true, force: true });
        throw hostError('createVm', error);
      }
      // Recorded before its processes exist: a crash right after leaves a VM the next start boots, never a stray tree.
      this.vms[vm.id] = vm;
      this.remember(options, vm.id);
      this.inventory.save();
      try {
        await this.boot(vm);
      } catch (error) {
        await this.machine.kill(vm, 0);
        if (vm.namespace) await this.networks?.detach(vm.id);
        delete this.vms[vm.id];
        this.inventory.save();
        await rm(vmLayout(this.root, vm.id).dir, { recursive: true, force: true });
        throw hostError('createVm', error);
      }
      this.inventory.save();
      return { vmId: vm.id, ip, zone: 'local' };
    });
  }

  async deleteVm(input: { vmId: string }, options?: CallOptions): Promise<void> {
    await this.enter('deleteVm', options);
    await this.exclusive(async () => {
      const vm = this.vms[input.vmId];
      if (!vm) return;
      await this.machine.kill(vm, STOP_GRACE_MS);
      // Its namespace (and veth pair) goes with it; the bridge stays for the other VMs.
      if (vm.namespace) await this.networks?.detach(vm.id);
      for (const disk of Object.values(this.disks)) if (disk.attachedTo === vm.id) disk.attachedTo = null;
      delete this.vms[vm.id];
      this.inventory.save();
      // The ephemeral disk goes with the VM; persistent disk directories live elsewhere and stay.
      await rm(vmLayout(this.root, vm.id).dir, { recursive: true, force: true });
    });
  }

  async hasVm(input: { vmId: string }, options?: CallOptions): Promise<boolean> {
    await this.enter('hasVm', options);
    return this.exclusive(async () => {
      const vm = this.vms[input.vmId];
      if (!vm || vm.state === 'terminated') return false;
      if (vm.state === 'stopped' || this.machine.isRunning(vm)) return true;
      // Its init died behind our back: the VM is gone, like a cloud VM whose host failed. Nothing of it may linger.
      await this.machine.kill(vm, 0);
      this.terminate(vm);
      return false;
    });
  }

  async rebootVm(input: { vmId: string }, options?: CallOptions): Promise<void> {
    await this.enter('rebootVm', options);
    await this.exclusive(async () => {
      const vm = this.vms[input.vmId];
      if (!vm || vm.state === 'terminated') throw localError('NotFound', `VM ${input.vmId} does not exist`);
      await this.machine.kill(vm, STOP_GRACE_MS);
      await this.networks?.closeRelay(vm.id);
      await this.boot(vm);
      this.inventory.save();
    });
  }

  async setVmMetadata(input: { vmId: string; metadata: Record<string, string> }, options?: CallOptions): Promise<void> {
    await this.enter('setVmMetadata', options);
    await this.exclusive(async () => {
      const vm = this.vms[input.vmId];
      if (!vm || vm.state === 'terminated') throw localError('NotFound', `VM ${input.vmId} does not exist`);
      Object.assign(vm.metadata, input.metadata);
      this.inventory.save();
    });
  }

  async createDisk(input: CreateDiskInput, options?: CallOptions): Promise<{ diskId: string }> {
    await this.enter('createDisk', options);
    return this.exclusive(async () => {
      const known = this.byRequest(options);
      if (known && this.disks[known]) return { diskId: known };
      const quota = this.config.quotas?.disks ?? this.faults.read().quota?.disks;
      if (quota !== undefined && Object.keys(this.disks).length >= quota) {
        throw localError(
          'QuotaExceeded',
          `disk quota of ${quota} reached`,
          'Raise quotas.disks in the local driver config, or delete disks.',
        );
      }
      const id = newId('disk');
      try {
        await mkdir(diskDir(this.root, id), { recursive: true, mode: 0o700 });
      } catch (error) {
        throw hostError('createDisk', error);
      }
      this.disks[id] = { id, sizeMb: input.sizeMb, attachedTo: null, metadata: { ...input.metadata } };
      this.remember(options, id);
      this.inventory.save();
      return { diskId: id };
    });
  }

  async deleteDisk(input: { diskId: string }, options?: CallOptions): Promise<void> {
    await this.enter('deleteDisk', options);
    await this.exclusive(async () => {
      const disk = this.disks[input.diskId];
      if (!disk) return;
      if (disk.attachedTo && this.vms[disk.attachedTo] && this.vms[disk.attachedTo]!.state !== 'terminated') {
        throw localError('Conflict', `disk ${input.diskId} is attached to VM ${disk.attachedTo}`, 'Detach it first.');
      }
      delete this.disks[input.diskId];
      this.inventory.save();
      await rm(diskDir(this.root, input.diskId), { recursive: true, force: true });
    });
  }

  async attachDisk(input: { vmId: string; diskId: string }, options?: CallOptions): Promise<{ hint: DiskHint }> {
    await this.enter('attachDisk', options);
    return this.exclusive(async () => {
      const vm = this.vms[input.vmId];
      const disk = this.disks[input.diskId];
      if (!vm || vm.state === 'terminated') throw localError('NotFound', `VM ${input.vmId} does not exist`);
      if (!disk) throw localError('NotFound', `disk ${input.diskId} does not exist`);
      const holder = disk.attachedTo ? this.vms[disk.attachedTo] : undefined;
      if (holder && holder.id !== vm.id && holder.state !== 'terminated') {
        throw localError(
          'Conflict',
          `disk ${input.diskId} is attached to another VM (${holder.id})`,
          'Detach it from that VM first.',
        );
      }
      disk.attachedTo = vm.id;
      this.inventory.save();
      this.publishDisks(vm);
      return { hint: { kind: 'directory', path: diskDir(this.root, disk.id) } };
    });
  }

  async detachDisk(input: { vmId: string; diskId: string }, options?: CallOptions): Promise<void> {
    await this.enter('detachDisk', options);
    await this.exclusive(async () => {
      const disk = this.disks[input.diskId];
      if (!disk || disk.attachedTo !== input.vmId) return;
      disk.attachedTo = null;
      this.inventory.save();
      await this.unplug(input.vmId, input.diskId);
    });
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

  async snapshotDisk(
    input: { diskId: string; metadata?: Record<string, string> },
    options?: CallOptions,
  ): Promise<{ snapshotId: string }> {
    await this.enter('snapshotDisk', options);
    return this.exclusive(async () => {
      const known = this.byRequest(options);
      if (known && this.data.snapshots[known]) return { snapshotId: known };
      if (!this.disks[input.diskId]) throw localError('NotFound', `disk ${input.diskId} does not exist`);
      const id = newId('snap');
      try {
        await cp(diskDir(this.root, input.diskId), join(this.root, 'snapshots', id), {
          recursive: true,
          verbatimSymlinks: true,
        });
      } catch (error) {
        throw hostError('snapshotDisk', error);
      }
      this.data.snapshots[id] = { diskId: input.diskId, metadata: { ...input.metadata } };
      this.remember(options, id);
      this.inventory.save();
      return { snapshotId: id };
    });
  }

  async deleteSnapshot(input: { snapshotId: string }, options?: CallOptions): Promise<void> {
    await this.enter('deleteSnapshot', options);
    await this.exclusive(async () => {
      delete this.data.snapshots[input.snapshotId];
      this.inventory.save();
      await rm(join(this.root, 'snapshots', input.snapshotId), { recursive: true, force: true });
    });
  }

  async listResources(input: { tags: Record<string, string> }, options?: CallOptions): Promise<CloudInventory> {
    await this.enter('listResources', options);
    const matches = (m: Record<string, string>) => Object.entries(input.tags).every(([k, v]) => m[k] === v);
    const all = await this.inventoryView();
    return { vms: all.vms.filter((v) => matches(v.metadata)), disks: all.disks.filter((d) => matches(d.metadata)) };
  }

  /** Stops every VM's process tree (unless `keep_vms_running`); they boot again when Slipway starts. */
  async destroy(): Promise<void> {
    await this.exclusive(async () => {
      // The host's ends of the VMs' control-plane relays live in this process: they end with it either way.
      await this.networks?.closeRelays();
      if (this.config.keep_vms_running) return;
      await Promise.all(
        Object.values(this.vms).map(async (vm) => {
          if (vm.state === 'terminated') return;
          await this.machine.kill(vm, STOP_GRACE_MS);
          vm.state = 'stopped';
          vm.initPid = undefined;
          vm.initStartTime = undefined;
        }),
      );
      this.inventory.save();
      // Whatever still carries this root's marker (a VM deleted from the inventory by hand) goes too.
      const strays = pidsUnderRoot(this.root);
      for (const pid of strays)
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      // Namespaces and the bridge are made again when the VMs boot on the next start; none is left on the host.
      if (this.networks) {
        for (const vm of Object.values(this.vms)) if (vm.namespace) await this.networks.detach(vm.id);
        await this.networks.removeBridge();
      }
    });
  }

  private async boot(vm: VmRecord): Promise<void> {
    const { pid, startTime } = await this.machine.boot(vm, await this.networkOf(vm));
    vm.initPid = pid;
    vm.initStartTime = startTime;
    vm.state = 'running';
    this.publishDisks(vm);
  }

  /**
   * Readies a namespaced VM's network before its processes start: namespace, veth and address, and (for a
   * control plane on the host's loopback, which a namespace cannot reach) the host's end of its relay.
   */
  private async networkOf(vm: VmRecord): Promise<{ namespace: string; relay?: string[] } | undefined> {
    if (!vm.namespace) return undefined;
    if (!this.networks) {
      throw localError(
        'VmCreationFailed',
        `VM ${vm.id} was made in a network namespace, which this driver no longer makes (network_namespaces is off or unavailable)`,
        'Set network_namespaces back to auto or on, or delete the VM.',
      );
    }
    await this.networks.attach(vm.id, vm.ip);
    const layout = vmLayout(this.root, vm.id);
    const settings = JSON.parse(await readFile(layout.userData, 'utf8')) as { controlPlane?: { url?: string } };
    const url = settings.controlPlane?.url ? new URL(settings.controlPlane.url) : undefined;
    if (!url || !/^(127\.|localhost$|\[::1\]$)/.test(url.hostname)) return { namespace: vm.namespace };
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const host = url.hostname === 'localhost' ? '127.0.0.1' : url.hostname.replace(/^\[|\]$/g, '');
    const socket = join(layout.dir, 'control-plane.sock');
    await this.networks.openRelay(vm.id, socket, { host, port });
    return { namespace: vm.namespace, relay: innerRelayArgs({ host, port }, socket) };
  }

  private terminate(vm: VmRecord): void {
    vm.state = 'terminated';
    vm.initPid = undefined;
    vm.initStartTime = undefined;
    for (const disk of Object.values(this.disks)) if (disk.attachedTo === vm.id) disk.attachedTo = null;
    this.inventory.save();
  }

  /** Tells the VM's agent (through its meta-data) where its attached disks are. */
  private publishDisks(vm: VmRecord): void {
    const disks: Record<string, DiskLocation> = {};
    for (const disk of Object.values(this.disks))
      if (disk.attachedTo === vm.id) disks[disk.id] = { kind: 'directory', path: diskDir(this.root, disk.id) };
    this.machine.writeMetaData(vm, disks);
  }

  /** Takes a disk away from a VM: out of its meta-data, and its agent's link to it removed (a forced detach). */
  private async unplug(vmId: string, diskId: string): Promise<void> {
    const vm = this.vms[vmId];
    if (!vm) return;
    this.publishDisks(vm);
    const store = join(vmLayout(this.root, vmId).fs, 'var', 'lib', 'slipway', 'store');
    const link = await lstat(store).catch(() => undefined);
    if (link?.isSymbolicLink() && (await readlink(store)) === diskDir(this.root, diskId))
      await unlink(store).catch(() => undefined);
  }

  private addressFor(requested: string, live: VmRecord[]): string {
    const inUse = new Set(live.map((v) => v.ip));
    if (this.networks?.holds(requested)) {
      if (inUse.has(requested)) {
        throw localError(
          'Conflict',
          `address ${requested} is in use by another local VM`,
          'Give each VM its own address (the network driver allocates them).',
        );
      }
      return requested;
    }
    if (this.config.network_namespaces === 'on' && this.networks) {
      // The control plane knows a VM by the address it asked for: a VM answering at another one would be lost.
      throw localError(
        'VmCreationFailed',
        `address ${requested} is not in the local driver's network_subnet ${this.networks.subnet}`,
        `With network_namespaces: on, give this target's range in the network driver the same CIDR (${this.networks.subnet}).`,
      );
    }
    if (isLoopback(requested)) {
      if (inUse.has(requested)) {
        throw localError(
          'Conflict',
          `address ${requested} is in use by another local VM`,
          'Give each VM its own address (the network driver allocates them).',
        );
      }
      return requested;
    }
    // Not a loopback address: this machine cannot give it, so the VM gets one of its own, as DHCP would.
    return pickLoopback(this.config.address_pool ?? DEFAULT_ADDRESS_POOL, inUse);
  }

  private async inventoryView(): Promise<CloudInventory> {
    return {
      vms: Object.values(this.vms)
        .filter((v) => v.state !== 'terminated')
        .map((v) => ({ vmId: v.id, metadata: { ...v.metadata }, state: v.state })),
      disks: Object.values(this.disks).map((d) => ({
        diskId: d.id,
        vmId: d.attachedTo ?? undefined,
        metadata: { ...d.metadata },
        sizeMb: d.sizeMb,
      })),
    };
  }

  private byRequest(options?: CallOptions): string | undefined {
    return options?.requestId ? this.data.requests[options.requestId] : undefined;
  }

  private remember(options: CallOptions | undefined, id: string): void {
    if (options?.requestId) this.data.requests[options.requestId] = id;
  }

  /** One change of the inventory at a time: it is a single file, and 50 concurrent creates must not lose one. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** What every call meets on its way to the machine: the signal, rehearsed latency and injected host faults. */
  private async enter(verb: string, options?: CallOptions): Promise<void> {
    try {
      throwIfAborted(options?.signal);
    } catch (error) {
      throw new SlipwayError('Cancelled', `local: ${verb} was aborted`, { cause: error, plugin: PLUGIN });
    }
    const faults = this.faults.read();
    if (faults.latencyMs) {
      try {
        await delay(faults.latencyMs, undefined, { signal: options?.signal });
      } catch (error) {
        throw new SlipwayError('Cancelled', `local: ${verb} was aborted`, { cause: error, plugin: PLUGIN });
      }
    }
    const queued = this.faults.take(verb);
    if (queued) throw hostError(verb, HostFaults.errorOf(verb, queued.kind, queued.message));
    const roll = Math.random();
    const throttle = faults.rates?.throttle ?? 0;
    if (roll < throttle) throw hostError(verb, HostFaults.errorOf(verb, 'throttle'));
    if (roll < throttle + (faults.rates?.serverError ?? 0)) throw hostError(verb, HostFaults.errorOf(verb, 'server'));
  }
}

function newId(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}
