import { inject, injectable } from 'tsyringe';
import { SlipwayError, type Clock } from '@slipway/contracts';
import { AgentRegistry } from '../agents/agent-registry.js';
import { DrainFailureLog, describeDrainReport, drainReportOf } from '../agents/drain-watch.js';
import { isoNow } from '../clock.js';
import type { PlanConfig, SlipwayConfig } from '../config/schema.js';
import { label, Provisioner } from '../lifecycle/provisioner.js';
import { PlanCatalog } from '../plans.js';
import type { IaasTargetRuntime, PluginSet } from '../plugins/plugin-set.js';
import type { ClusterRow, InstanceRow, Store } from '../store/index.js';
import { CLOCK, CONFIG, PLUGINS, STORE } from '../tokens.js';
import { describeAll, parseProcesses } from '../health/process-report.js';
import { InstanceSpecs } from './instance-specs.js';
import type { WatchTime } from './update-strategy.js';
import { parseStemcell, type Stemcell } from './version-catalog.js';

/**
 * AgentRegistry.waitForCluster keeps polling after its signal fired (its wake-up listener is added to an
 * already-aborted signal); checks call this first so a cancel or shutdown ends the wait at once.
 */
export function stopIfAborted(signal: AbortSignal): void {
  if (signal.aborted)
    throw new SlipwayError('Cancelled', 'the wait was aborted (task cancelled or control plane stopping)', {
      cause: signal.reason,
    });
}

/** `0.5 s`, `600 s`: a bound as the operator wrote it. */
export function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/** What a replacement step reports as it goes: task log lines and what it waits for. */
export interface ReplaceProgress {
  signal: AbortSignal;
  log(message: string): void;
  waitingFor(text: string | null): void;
}

/**
 * The moves of replacing one instance's VM, shared by the resurrector, the rolling update and the doctor:
 * drain, detach the persistent disk and delete the VM (retire), create the new VM with the same disk and
 * address (recreate), wait until it is healthy. Each move is idempotent, so a resumed task repeats it safely.
 */
@injectable()
export class InstanceReplacer {
  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(PLUGINS) private readonly plugins: PluginSet,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(CONFIG) private readonly config: SlipwayConfig,
    @inject(Provisioner) private readonly provisioner: Provisioner,
    @inject(AgentRegistry) private readonly agents: AgentRegistry,
    @inject(PlanCatalog) private readonly plans: PlanCatalog,
  ) {}

  /** A cloud call with the engine's retry policy. */
  call<T>(
    target: IaasTargetRuntime,
    what: string,
    fn: (o: { signal: AbortSignal }) => Promise<T>,
    signal: AbortSignal,
    log?: (m: string) => void,
  ): Promise<T> {
    return this.provisioner.call(target, what, (o) => fn({ signal: o.signal ?? signal }), { signal }, log);
  }

  async hasVm(target: IaasTargetRuntime, vmId: string, signal: AbortSignal): Promise<boolean> {
    return this.call(target, `hasVm ${vmId}`, (o) => target.driver.hasVm({ vmId }, o), signal);
  }

  /**
   * What an instance's next VM is made of when it is recreated as it was (resurrection, repair): the spec it
   * last ran, so a half-rolled cluster stays as it was, on the cluster's plan.
   */
  async currentSpec(
    cluster: ClusterRow,
    row: InstanceRow,
    progress: ReplaceProgress,
  ): Promise<{ plan: PlanConfig; stemcellId: string }> {
    const plan = this.plans.get(cluster.plan_name);
    const specs = await new InstanceSpecs(this.store.db).ofCluster(
      cluster,
      (g) => (g === 'master' ? plan.master_vm : plan.worker_vm),
      [row],
    );
    const spec = specs.get(row.id)!;
    const stemcellId = await this.ensureStemcell(
      this.plugins.iaasTarget(cluster.iaas),
      parseStemcell(spec.stemcell),
      progress,
    );
    return {
      plan: { ...plan, ...(row.group_name === 'master' ? { master_vm: spec.vmType } : { worker_vm: spec.vmType }) },
      stemcellId,
    };
  }

  /** A stemcell of the catalog on a target, uploaded once (through the provisioner, as every other upload). */
  async ensureStemcell(target: IaasTargetRuntime, stemcell: Stemcell, progress: ReplaceProgress): Promise<string> {
    return this.provisioner.ensureStemcell(target, progress.signal, progress.log, stemcell);
  }

  /**
   * Drains a worker through its agent's drain hook: desired `drain`, then waits for the agent's drained
   * flag. On timeout the task stops naming the node and what blocked it, unless `force`.
   */
  async drain(
    cluster: ClusterRow,
    instance: InstanceRow,
    options: { timeoutMs: number; force: boolean },
    progress: ReplaceProgress,
  ): Promise<void> {
    const started = this.clock.now();
    await this.agents.setDesired(instance.id, 'drain');
    const name = label(instance);
    const since = new Date(started).toISOString().slice(11, 19);
    const failures = new DrainFailureLog((m) => progress.log(m));
    try {
      await this.agents.waitForCluster(
        cluster.uuid,
        (rows) => {
          stopIfAborted(progress.signal);
          const row = rows.find((r) => r.id === instance.id);
          if (!row || row.drained) return null;
          // The node died while draining: there is nothing left to drain, and its agent will never say so.
          if (row.state === 'missing' || row.state === 'unresponsive') return null;
          failures.observe([row], label);
          const said = describeDrainReport(drainReportOf(row));
          return `drain of ${name} (its agent to report drained; since ${since} UTC${Number.isFinite(options.timeoutMs) ? `, timeout ${seconds(options.timeoutMs)}` : ''}${said ? `; ${said}` : ''})`;
        },
        {
          timeoutMs: Number.isFinite(options.timeoutMs) ? options.timeoutMs : 2 ** 31,
          signal: progress.signal,
          onWaiting: (w) => progress.waitingFor(w),
        },
      );
      const row = await this.store.instances.get(instance.id);
      if (row && !row.drained && (row.state === 'missing' || row.state === 'unresponsive'))
        progress.log(`${name}: went ${row.state} while draining; replacing it without a finished drain`);
      else progress.log(`${name}: drained in ${((this.clock.now() - started) / 1000).toFixed(1)} s`);
    } catch (e) {
      if (!SlipwayError.is(e, 'Timeout')) throw e;
      const row = await this.store.instances.get(instance.id);
      const heard = row?.last_heartbeat_at
        ? `last heartbeat ${((this.clock.now() - Date.parse(row.last_heartbeat_at)) / 1000).toFixed(1)} s ago`
        : 'no heartbeat yet';
      const said = describeDrainReport(drainReportOf(row));
      const why = `drain of ${name} (VM ${instance.vm_cid}) did not finish within ${seconds(options.timeoutMs)}: its agent has not reported drained${said ? `; ${said}` : ''} (${heard}; ${describeAll(parseProcesses(row?.processes ?? null))})`;
      if (options.force) {
        progress.log(`${why}; going on because force was chosen`);
        return;
      }
      throw new SlipwayError('Timeout', why, {
        retryable: false,
        details: { instance: name, vm_cid: instance.vm_cid, blocked_by: 'drain' },
        hint: `Find what keeps the node from draining (a PodDisruptionBudget, a pod without a controller), then run the command again; or run it again with --force-drain (upgrade-cluster, update-cluster, upgrade-clusters), or set update.force: true in plan ${cluster.plan_name}, to replace the node without a finished drain.`,
      });
    } finally {
      progress.waitingFor(null);
    }
  }

  /**
   * Detaches the instance's persistent disk (bounded by `detachTimeoutMs`) and deletes its VM. The instance
   * keeps its vm_cid and turns `stopped`, so `recreate` gives the next VM a new agent identity. Idempotent.
   */
  async retire(
    cluster: ClusterRow,
    instance: InstanceRow,
    options: { detachTimeoutMs: number; force: boolean },
    progress: ReplaceProgress,
  ): Promise<void> {
    const target = this.plugins.iaasTarget(cluster.iaas);
    const name = label(instance);
    const vmId = instance.vm_cid;
    if (!vmId) return;
    const disk = await this.store.instances.diskOf(instance.id);
    if (disk?.disk_cid && disk.attached_vm_cid) {
      await this.detach(target, name, vmId, disk.disk_cid, options, progress);
      await this.store.instances.upsertDisk({
        ...disk,
        attached_vm_cid: null,
        state: 'detached',
        updated_at: isoNow(this.clock),
      });
    }
    await this.provisioner.call(
      target,
      `deleteVm ${vmId}`,
      (o) => target.driver.deleteVm({ vmId }, o),
      { signal: progress.signal },
      progress.log,
    );
    await this.store.instances.update(instance.id, { state: 'stopped', updated_at: isoNow(this.clock) });
    progress.log(`${name}: VM ${vmId} deleted${disk?.disk_cid ? ` (disk ${disk.disk_cid} kept)` : ''}`);
  }

  private async detach(
    target: IaasTargetRuntime,
    name: string,
    vmId: string,
    diskId: string,
    options: { detachTimeoutMs: number; force: boolean },
    progress: ReplaceProgress,
  ): Promise<void> {
    const deadline = AbortSignal.timeout(options.detachTimeoutMs);
    const signal = AbortSignal.any([progress.signal, deadline]);
    const since = new Date(this.clock.now()).toISOString().slice(11, 19);
    progress.waitingFor(
      `the cloud to detach disk ${diskId} from ${name} (VM ${vmId}; since ${since} UTC, timeout ${seconds(options.detachTimeoutMs)})`,
    );
    try {
      await this.provisioner.call(
        target,
        `detachDisk ${diskId}`,
        (o) => target.driver.detachDisk({ vmId, diskId }, o),
        { signal },
        progress.log,
      );
      // Some clouds accept a detach and finish it later: it counts once the VM no longer lists the disk.
      for (;;) {
        const exists = await this.provisioner.call(
          target,
          `hasVm ${vmId}`,
          (o) => target.driver.hasVm({ vmId }, o),
          { signal },
          progress.log,
        );
        if (!exists) break;
        const attached = await this.provisioner.call(
          target,
          `getDisks ${vmId}`,
          (o) => target.driver.getDisks({ vmId }, o),
          { signal },
          progress.log,
        );
        if (!attached.includes(diskId)) break;
        await this.clock.sleep(500, signal);
      }
      progress.log(`${name}: disk ${diskId} detached from VM ${vmId}`);
    } catch (e) {
      if (!deadline.aborted || progress.signal.aborted) throw e;
      const why = `detaching persistent disk ${diskId} from ${name} (VM ${vmId}) did not finish within ${seconds(options.detachTimeoutMs)}: the cloud has not confirmed the detach`;
      if (options.force) {
        progress.log(`${why}; deleting the VM anyway because force was chosen (deleting a VM detaches its disks)`);
        return;
      }
      throw new SlipwayError('Timeout', why, {
        retryable: false,
        cause: e,
        details: { instance: name, vm_cid: vmId, disk_cid: diskId, blocked_by: 'volume-detach' },
        hint: 'Check the volume in the cloud console (a stuck attachment, an I/O-busy mount); re-run the task, or with force to delete the VM with the disk still attached.',
      });
    } finally {
      progress.waitingFor(null);
    }
  }

  /** Creates the instance's VM from `plan` and `stemcellId`, reattaching its persistent disk, at its address. */
  async recreate(
    cluster: ClusterRow,
    instance: InstanceRow,
    plan: PlanConfig,
    stemcellId: string,
    progress: ReplaceProgress,
  ): Promise<InstanceRow> {
    let row = (await this.store.instances.get(instance.id))!;
    if (row.desired !== 'present') await this.agents.setDesired(row.id, 'present');
    // The same owner gets the same address back: the network keeps it across VM incarnations.
    const allocation = await this.plugins.network.allocateAddress(
      { clusterId: cluster.uuid, owner: row.id, iaas: cluster.iaas },
      { signal: progress.signal },
    );
    if (row.ip && allocation.ip !== row.ip) {
      throw new SlipwayError(
        'Conflict',
        `the network gave ${label(row)} ${allocation.ip}, not its address ${row.ip}; the new VM would be unreachable at the old address`,
        { hint: "Run slipway doctor CLUSTER; check the network driver's allocations." },
      );
    }
    if (!row.ip) await this.store.instances.update(row.id, { ip: allocation.ip, updated_at: isoNow(this.clock) });
    row = (await this.store.instances.get(instance.id))!;
    const created = await this.provisioner.ensureVm(cluster, row, plan, stemcellId, progress.signal, progress.log);
    const disk = await this.store.instances.diskOf(row.id);
    progress.log(
      `${label(row)}: VM ${created.vm_cid} at ${created.ip}${disk?.disk_cid ? `, disk ${disk.disk_cid} attached` : ''}`,
    );
    return created;
  }

  /**
   * Waits until each instance's new agent has applied its desired state (bounded by the boot timeout), then
   * watches it: waits `low`, then checks until every process runs or `high` passes.
   */
  async waitHealthy(clusterUuid: string, ids: string[], watch: WatchTime, progress: ReplaceProgress): Promise<void> {
    if (!ids.length) return;
    const wanted = new Set(ids);
    const names = async () =>
      (await this.store.instances.ofCluster(clusterUuid))
        .filter((i) => wanted.has(i.id))
        .map(label)
        .join(', ');
    const list = await names();
    try {
      await this.agents.waitForCluster(
        clusterUuid,
        (rows) => {
          stopIfAborted(progress.signal);
          const pending = rows.filter(
            (r) => wanted.has(r.id) && !(r.state === 'running' && r.applied_generation >= r.desired_generation),
          );
          return pending.length
            ? `the new agent${pending.length > 1 ? 's' : ''} of ${pending.map(label).join(', ')} to report running`
            : null;
        },
        {
          timeoutMs: this.config.agents.boot_timeout_seconds * 1000,
          signal: progress.signal,
          onWaiting: (w) => progress.waitingFor(w),
        },
      );
    } catch (e) {
      if (!SlipwayError.is(e, 'Timeout')) throw e;
      const rows = (await this.store.instances.ofCluster(clusterUuid)).filter((r) => wanted.has(r.id));
      throw new SlipwayError(
        'Timeout',
        `the new VM of ${rows.map((r) => `${label(r)} (${r.vm_cid}: ${r.state}; ${describeAll(parseProcesses(r.processes))})`).join(', ')} did not report running within ${this.config.agents.boot_timeout_seconds} s`,
        {
          retryable: false,
          cause: e,
          hint: 'Look at the VM (slipway cluster NAME --details); raise agents.boot_timeout_seconds if VMs boot slowly.',
        },
      );
    }
    if (watch.lowMs > 0) {
      progress.waitingFor(`watch of ${list}: ${watch.lowMs} ms before the health check`);
      await this.clock.sleep(watch.lowMs, progress.signal);
    }
    try {
      await this.agents.waitForCluster(
        clusterUuid,
        (rows) => {
          stopIfAborted(progress.signal);
          const bad = rows.filter((r) => wanted.has(r.id) && r.state !== 'running');
          return bad.length ? `${bad.map((r) => `${label(r)} (${r.state})`).join(', ')} to be healthy again` : null;
        },
        {
          timeoutMs: Math.max(0, watch.highMs - watch.lowMs),
          signal: progress.signal,
          onWaiting: (w) => progress.waitingFor(w),
        },
      );
    } catch (e) {
      if (!SlipwayError.is(e, 'Timeout')) throw e;
      const rows = (await this.store.instances.ofCluster(clusterUuid)).filter(
        (r) => wanted.has(r.id) && r.state !== 'running',
      );
      throw new SlipwayError(
        'Timeout',
        `${rows.map((r) => `${label(r)} (${r.state}: ${describeAll(parseProcesses(r.processes))})`).join(', ')} did not stay healthy within its watch time of ${watch.highMs} ms`,
        {
          retryable: false,
          cause: e,
          hint: 'Look at its processes (slipway cluster NAME --details); the roll stopped so the rest of the cluster keeps running what worked.',
        },
      );
    } finally {
      progress.waitingFor(null);
    }
  }
}
