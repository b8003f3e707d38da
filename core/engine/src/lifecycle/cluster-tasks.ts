import { randomUUID } from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import { SlipwayError, type Clock } from '@slipway/contracts';
import { AgentIdentity, ENGINE_ACTOR } from '../agents/agent-identity.js';
import { AgentRegistry } from '../agents/agent-registry.js';
import { isoNow } from '../clock.js';
import {
  clusterCredentialPath,
  grantClusterAccess,
  issueClusterPki,
  removeNodeCredentials,
  revokeClusterAccess,
} from '../cluster-pki.js';
import { DEFAULT_POD_CIDR, nodeNameOf } from '../agents/job-properties.js';
import { nextFreePodCidr } from '../agents/pod-cidrs.js';
import type { SlipwayConfig } from '../config/schema.js';
import { PlanCatalog } from '../plans.js';
import type { PluginSet } from '../plugins/plugin-set.js';
import { forEachLimit, withRetry } from '../retry.js';
import type { ClusterRow, InstanceRow, Store } from '../store/index.js';
import type { StepContext, TaskDefinition } from '../tasks/model.js';
import { CLOCK, CONFIG, PLUGINS, STORE } from '../tokens.js';
import { KUBERNETES_API_PORT } from '../kubernetes.js';
import { label, Provisioner } from './provisioner.js';
import { registrySteps, runRegistryStep, type ClusterRegistrySteps } from '../registry/task-steps.js';
import { requireNetworkProfile } from '../network-profiles/profile-store.js';
import { parseStemcell } from '../upgrades/version-catalog.js';
import type { KubernetesApiSteps } from '../kubernetes-api/api-steps.js';
import { DrainFailureLog, describeDrainReport, drainReportOf } from '../agents/drain-watch.js';
import { resolveStrategy } from '../upgrades/update-strategy.js';

export interface CreateParams {
  workers: number;
}
export interface ResizeParams {
  workers: number /** update-cluster --network-profile */;
  network_profile?: string;
}

export { KUBERNETES_API_PORT } from '../kubernetes.js';

/**
 * The steps of the cluster lifecycle tasks (create, resize, delete). Each step reads the persisted state
 * and does only what is still missing, so re-running it after a crash is safe.
 */
@injectable()
export class ClusterSteps {
  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(PLUGINS) private readonly plugins: PluginSet,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(CONFIG) private readonly config: SlipwayConfig,
    @inject(PlanCatalog) private readonly plans: PlanCatalog,
    @inject(Provisioner) private readonly provisioner: Provisioner,
    @inject(AgentRegistry) private readonly agents: AgentRegistry,
    @inject(AgentIdentity) private readonly identity: AgentIdentity,
  ) {}

  /** Makes the instance rows match the desired worker count: new rows for growth, `drain` for shrinking. */
  async planInstances(cluster: ClusterRow, workers: number): Promise<void> {
    const existing = await this.store.instances.ofCluster(cluster.uuid);
    const now = isoNow(this.clock);
    const rows: InstanceRow[] = [];
    // Pod CIDRs held by rows that exist; a removed instance's row is gone, so its range is free again.
    const podCidrs = new Set(existing.map((i) => i.pod_cidr));
    const want = (group: 'master' | 'worker', count: number) => {
      for (let idx = 0; idx < count; idx++) {
        if (existing.some((i) => i.group_name === group && i.idx === idx)) continue;
        const podCidr = nextFreePodCidr(DEFAULT_POD_CIDR, podCidrs);
        podCidrs.add(podCidr);
        rows.push({
          id: randomUUID(),
          cluster_uuid: cluster.uuid,
          group_name: group,
          idx,
          agent_id: randomUUID(),
          vm_cid: null,
          ip: null,
          zone: null,
          desired: 'present',
          state: 'starting',
          last_heartbeat_at: null,
          processes: null,
          desired_generation: 1,
          applied_generation: 0,
          drained: 0,
          drain_report: null,
          mounted_disk_cid: null,
          pod_cidr: podCidr,
          created_at: now,
          updated_at: now,
        });
      }
    };
    want('master', cluster.master_instances);
    want('worker', workers);
    await this.store.instances.insert(rows);
    for (const instance of existing) {
      if (instance.group_name !== 'worker') continue;
      if (instance.idx >= workers && instance.desired === 'present') await this.agents.setDesired(instance.id, 'drain');
      // A resize up that follows an unfinished resize down keeps the worker instead of replacing it.
      if (instance.idx < workers && instance.desired === 'drain') await this.agents.setDesired(instance.id, 'present');
    }
  }

  async allocateAddresses(ctx: StepContext): Promise<void> {
    const cluster = (await this.store.clusters.findByUuid(ctx.cluster.uuid)) ?? ctx.cluster;
    const profile = cluster.network_profile
      ? await requireNetworkProfile(this.store.db, cluster.network_profile, 'network_profile_name')
      : undefined;
    // Replicas allocate from one database at once: a lost race comes back Retryable and is run again here.
    const retry = { clock: this.clock, signal: ctx.signal };
    await withRetry(
      `prepareCluster ${cluster.name}`,
      () =>
        this.plugins.network.prepareCluster(
          { clusterId: cluster.uuid, clusterName: cluster.name, iaas: cluster.iaas, ...(profile ? { profile } : {}) },
          { signal: ctx.signal },
        ),
      retry,
    );
    const instances = (await this.store.instances.ofCluster(cluster.uuid)).filter(
      (i) => i.desired === 'present' && !i.ip,
    );
    let done = 0;
    for (const instance of instances) {
      const allocation = await withRetry(
        `allocateAddress ${instance.group_name}/${instance.idx}`,
        () =>
          this.plugins.network.allocateAddress(
            { clusterId: cluster.uuid, owner: instance.id, iaas: cluster.iaas },
            { signal: ctx.signal },
          ),
        retry,
      );
      await this.store.instances.update(instance.id, { ip: allocation.ip, updated_at: isoNow(this.clock) });
      done++;
    }
    // With a load balancer the VIP exists before any VM: the API server's certificate names it and workers
    // and kubeconfigs point at it from their first boot, so nothing has to move when master-0 dies.
    const vip = this.plugins.networkCapabilities.includes('lb') ? await this.ensureVip(ctx) : undefined;
    await ctx.detail(`${done} addresses allocated${vip ? `; API VIP ${vip}` : ''}`);
  }

  private async ensureVip(ctx: StepContext): Promise<string | undefined> {
    const masters = (await this.store.instances.ofCluster(ctx.cluster.uuid)).filter(
      (i) => i.group_name === 'master' && i.ip && i.desired !== 'absent',
    );
    if (!masters.length) return undefined;
    const { address } = await this.plugins.network.ensureApiEndpoint(
      { clusterId: ctx.cluster.uuid, port: KUBERNETES_API_PORT, masters: masters.map((m) => m.ip!) },
      { signal: ctx.signal },
    );
    await this.store.clusters.update(ctx.cluster.uuid, { api_address: address, updated_at: isoNow(this.clock) });
    return address;
  }

  /**
   * Issues the cluster's PKI for every present node (converge: a resize adds only the new nodes'
   * certificates) and lets the cluster's owner read its credentials.
   */
  async issueCredentials(ctx: StepContext): Promise<void> {
    const present = (await this.store.instances.ofCluster(ctx.cluster.uuid)).filter(
      (i) => i.desired === 'present' && i.ip,
    );
    const node = (i: InstanceRow) => ({ name: nodeNameOf(i), ip: i.ip! });
    const vip = this.plugins.networkCapabilities.includes('lb')
      ? (await this.store.clusters.findByUuid(ctx.cluster.uuid))?.api_address
      : null;
    const names = await issueClusterPki(this.plugins.credentials, ENGINE_ACTOR, {
      clusterId: ctx.cluster.uuid,
      externalHostname: ctx.cluster.external_hostname,
      ...(vip ? { apiAddresses: [vip] } : {}),
      masters: present.filter((i) => i.group_name === 'master').map(node),
      workers: present.filter((i) => i.group_name === 'worker').map(node),
    });
    const owner = (await this.store.clusters.findByUuid(ctx.cluster.uuid))?.owner_id;
    if (owner != null)
      await grantClusterAccess(this.plugins.credentials, ENGINE_ACTOR, ctx.cluster.uuid, { id: owner });
    await ctx.detail(`${names.length} credentials under ${clusterCredentialPath(ctx.cluster.uuid)}`);
  }

  /**
   * The cluster's current stemcell on its target (what create recorded, or what the last upgrade moved it
   * to), never the config's default: a cluster patched to 1.601 must not grow nodes on 1.600.
   */
  async stemcell(ctx: StepContext): Promise<string> {
    const cluster = (await this.store.clusters.findByUuid(ctx.cluster.uuid)) ?? ctx.cluster;
    const target = this.plugins.iaasTarget(cluster.iaas);
    const stemcell = parseStemcell(cluster.stemcell);
    const id = await this.provisioner.ensureStemcell(target, ctx.signal, (m) => void ctx.log('warn', m), stemcell);
    await ctx.detail(`stemcell ${cluster.stemcell} is ${id}`);
    return id;
  }

  /** Creates the VMs of a group that should exist and do not; masters and workers run in parallel batches. */
  async createVms(ctx: StepContext, group: 'master' | 'worker'): Promise<void> {
    const cluster = (await this.store.clusters.findByUuid(ctx.cluster.uuid))!;
    const plan = this.plans.get(cluster.plan_name);
    const stemcellId = await this.stemcell(ctx);
    const instances = (await this.store.instances.ofCluster(cluster.uuid)).filter(
      (i) => i.group_name === group && i.desired === 'present',
    );
    let done = 0;
    await ctx.detail(`0 of ${instances.length} ${group} VMs`);
    await forEachLimit(instances, this.config.tasks.max_concurrent_vm_calls, async (instance) => {
      await this.provisioner.ensureVm(cluster, instance, plan, stemcellId, ctx.signal, (m) => void ctx.log('info', m));
      done++;
      await ctx.detail(`${done} of ${instances.length} ${group} VMs`);
    });
  }

  /** Waits until every present instance's agent reports all its processes running. */
  async waitForAgents(ctx: StepContext): Promise<void> {
    await this.agents.waitForCluster(
      ctx.cluster.uuid,
      (instances) => {
        const pending = instances.filter(
          (i) => i.desired === 'present' && !(i.state === 'running' && i.applied_generation >= i.desired_generation),
        );
        if (pending.length === 0) return null;
        const names =
          pending.slice(0, 5).map(label).join(', ') + (pending.length > 5 ? ` and ${pending.length - 5} more` : '');
        return `agents of ${pending.length} VM${pending.length > 1 ? 's' : ''} to report running (${names})`;
      },
      {
        timeoutMs: this.config.agents.boot_timeout_seconds * 1000,
        signal: ctx.signal,
        onWaiting: (what) => void ctx.waitingFor(what).then(() => ctx.detail(`waiting for ${what}`)),
      },
    );
    await ctx.waitingFor(null);
    const present = (await this.store.instances.ofCluster(ctx.cluster.uuid)).filter(
      (i) => i.desired === 'present',
    ).length;
    await ctx.detail(`${present} of ${present} agents running`);
  }

  async apiEndpoint(ctx: StepContext): Promise<void> {
    const masters = (await this.store.instances.ofCluster(ctx.cluster.uuid)).filter(
      (i) => i.group_name === 'master' && i.ip,
    );
    const { address } = await this.plugins.network.ensureApiEndpoint(
      { clusterId: ctx.cluster.uuid, port: KUBERNETES_API_PORT, masters: masters.map((m) => m.ip!) },
      { signal: ctx.signal },
    );
    await this.store.clusters.update(ctx.cluster.uuid, { api_address: address, updated_at: isoNow(this.clock) });
    await ctx.detail(`https://${ctx.cluster.external_hostname}:${KUBERNETES_API_PORT} → ${address}`);
  }

  /**
   * Drains the workers marked `drain` (resize down), waiting for each agent to confirm, within the plan's
   * update.drain_timeout_seconds. Each failed attempt the agents report goes to the task log with the drain
   * command's message; on timeout the task fails with that message, unless the plan's update.force says go on.
   */
  async drain(ctx: StepContext): Promise<void> {
    const leaving = (await this.store.instances.ofCluster(ctx.cluster.uuid)).filter((i) => i.desired === 'drain');
    if (!leaving.length) {
      await ctx.detail('nothing to drain');
      return;
    }
    const cluster = (await this.store.clusters.findByUuid(ctx.cluster.uuid)) ?? ctx.cluster;
    const plan = this.config.plans.find((p) => p.name === cluster.plan_name);
    const strategy = resolveStrategy(plan?.update, {}, Math.max(1, cluster.worker_instances));
    const failures = new DrainFailureLog((m) => void ctx.log('warn', m));
    const pendingOf = (instances: InstanceRow[]) =>
      instances.filter((i) => i.desired === 'drain' && i.vm_cid && !i.drained);
    try {
      await this.agents.waitForCluster(
        ctx.cluster.uuid,
        (instances) => {
          const pending = pendingOf(instances);
          failures.observe(pending, label);
          if (!pending.length) return null;
          return `drain of ${pending
            .map((i) => {
              const said = describeDrainReport(drainReportOf(i));
              return said ? `${label(i)} (${said})` : label(i);
            })
            .join(', ')}`;
        },
        {
          timeoutMs: Number.isFinite(strategy.drainTimeoutMs) ? strategy.drainTimeoutMs : 2 ** 31,
          signal: ctx.signal,
          onWaiting: (what) => void ctx.waitingFor(what),
        },
      );
    } catch (error) {
      if (!SlipwayError.is(error, 'Timeout')) throw error;
      const pending = pendingOf(await this.store.instances.ofCluster(ctx.cluster.uuid));
      const said = pending
        .map((i) => `${label(i)}: ${describeDrainReport(drainReportOf(i)) ?? 'its agent reported no drain attempt'}`)
        .join('; ');
      const why = `drain did not finish within ${Math.round(strategy.drainTimeoutMs / 1000)} s (plan ${cluster.plan_name} update.drain_timeout_seconds): ${said}`;
      if (strategy.force) {
        await ctx.log('warn', `${why}; going on because plan ${cluster.plan_name} says update.force: true`);
      } else {
        throw new SlipwayError('Timeout', why, {
          retryable: false,
          details: { blocked_by: 'drain', instances: pending.map(label) },
          hint: `Fix what blocks the drain (a PodDisruptionBudget, a pod without a controller) and run the resize again; or set update.force: true in plan ${cluster.plan_name} to remove the node without a finished drain (resize takes no --force-drain flag).`,
        });
      }
    } finally {
      await ctx.waitingFor(null);
    }
    await ctx.detail(`drained ${leaving.map(label).join(', ')}`);
  }

  /** Deletes the VMs, disks, addresses and identities of instances leaving the cluster. */
  async removeInstances(ctx: StepContext, which: (i: InstanceRow) => boolean): Promise<void> {
    const cluster = (await this.store.clusters.findByUuid(ctx.cluster.uuid))!;
    const leaving = (await this.store.instances.ofCluster(cluster.uuid)).filter(which);
    let done = 0;
    await forEachLimit(leaving, this.config.tasks.max_concurrent_vm_calls, async (instance) => {
      if (instance.desired !== 'absent') await this.agents.setDesired(instance.id, 'absent');
      await this.provisioner.deleteVm(cluster, instance, ctx.signal, (m) => void ctx.log('info', m));
      await this.provisioner.deleteDisk(cluster, instance, ctx.signal, (m) => void ctx.log('info', m));
      await this.plugins.network.releaseAddress(
        { clusterId: cluster.uuid, owner: instance.id },
        { signal: ctx.signal },
      );
      await removeNodeCredentials(this.plugins.credentials, ENGINE_ACTOR, cluster.uuid, nodeNameOf(instance));
      await this.store.instances.remove(instance.id);
      done++;
      await ctx.detail(`${done} of ${leaving.length} removed`);
    });
  }

  async releaseCluster(ctx: StepContext): Promise<void> {
    await this.plugins.network.teardownCluster({ clusterId: ctx.cluster.uuid }, { signal: ctx.signal });
    const path = clusterCredentialPath(ctx.cluster.uuid);
    const names = await this.plugins.credentials.find({ path }, ENGINE_ACTOR);
    for (const { name } of names) await this.plugins.credentials.delete(name, ENGINE_ACTOR);
    await revokeClusterAccess(this.plugins.credentials, ENGINE_ACTOR, ctx.cluster.uuid);
    const owner = (await this.store.clusters.findByUuid(ctx.cluster.uuid))?.owner_id;
    if (owner != null)
      await revokeClusterAccess(this.plugins.credentials, ENGINE_ACTOR, ctx.cluster.uuid, { id: owner });
    await ctx.detail(`released the network and ${names.length} credentials`);
  }

  async markDeleted(ctx: StepContext): Promise<void> {
    const remaining = await this.store.instances.ofCluster(ctx.cluster.uuid);
    if (remaining.length) throw new SlipwayError('Internal', `${remaining.length} instances remain after deletion`);
    await this.store.clusters.update(ctx.cluster.uuid, {
      status: 'deleted',
      live: null,
      updated_at: isoNow(this.clock),
    });
  }

  async touch(ctx: StepContext, patch: Partial<ClusterRow> = {}): Promise<void> {
    await this.store.clusters.update(ctx.cluster.uuid, { ...patch, updated_at: isoNow(this.clock) });
  }
}

export function createClusterTask(
  steps: ClusterSteps,
  registry?: ClusterRegistrySteps,
  kubernetes?: KubernetesApiSteps,
): TaskDefinition<CreateParams> {
  return {
    type: 'CREATE',
    // The registry's project and robots come after the credentials (their secrets go into the store) and
    // before the VMs (whose nodes pull with them); the pull secret waits for an API that answers.
    // `kubernetes-api` makes the state honest (jobs that cannot run fail the create; /readyz must answer),
    // and `rbac` needs that answer.
    steps: () => [
      'plan',
      'network',
      'credentials',
      ...registrySteps(registry, ['registry']),
      'stemcell',
      'masters',
      'workers',
      'agents',
      'api-endpoint',
      ...(kubernetes ? ['kubernetes-api', 'rbac'] : []),
      ...registrySteps(registry, ['registry-pull-secret']),
    ],
    async run(step, ctx) {
      if (step.startsWith('registry')) return runRegistryStep(registry, step, ctx);
      if (step === 'kubernetes-api') return kubernetes!.awaitApi(ctx);
      if (step === 'rbac') return kubernetes!.applyRbac(ctx);
      switch (step) {
        case 'plan':
          return steps.planInstances(ctx.cluster, ctx.params.workers);
        case 'network':
          return steps.allocateAddresses(ctx);
        case 'credentials':
          return steps.issueCredentials(ctx);
        case 'stemcell':
          return void (await steps.stemcell(ctx));
        case 'masters':
          return steps.createVms(ctx, 'master');
        case 'workers':
          return steps.createVms(ctx, 'worker');
        case 'agents':
          return steps.waitForAgents(ctx);
        case 'api-endpoint':
          return steps.apiEndpoint(ctx);
        default:
          throw new SlipwayError('Internal', `unknown CREATE step ${step}`);
      }
    },
  };
}

export function resizeClusterTask(steps: ClusterSteps, kubernetes?: KubernetesApiSteps): TaskDefinition<ResizeParams> {
  return {
    type: 'UPDATE',
    steps: () => [
      'plan',
      'network',
      'credentials',
      'stemcell',
      'workers',
      'drain',
      'remove-workers',
      'agents',
      ...(kubernetes ? ['kubernetes-api'] : []),
    ],
    async run(step, ctx) {
      if (step === 'kubernetes-api') return kubernetes!.awaitApi(ctx);
      switch (step) {
        case 'plan':
          await steps.touch(ctx, {
            worker_instances: ctx.params.workers,
            ...(ctx.params.network_profile !== undefined ? { network_profile: ctx.params.network_profile } : {}),
          });
          return steps.planInstances(ctx.cluster, ctx.params.workers);
        case 'network':
          return steps.allocateAddresses(ctx);
        case 'credentials':
          return steps.issueCredentials(ctx);
        case 'stemcell':
          return void (await steps.stemcell(ctx));
        case 'workers':
          return steps.createVms(ctx, 'worker');
        case 'drain':
          return steps.drain(ctx);
        case 'remove-workers':
          return steps.removeInstances(ctx, (i) => i.desired !== 'present');
        case 'agents':
          return steps.waitForAgents(ctx);
        default:
          throw new SlipwayError('Internal', `unknown UPDATE step ${step}`);
      }
    },
  };
}

export function deleteClusterTask(
  steps: ClusterSteps,
  registry?: ClusterRegistrySteps,
): TaskDefinition<Record<string, never>> {
  return {
    type: 'DELETE',
    // Robots go before the credentials that hold their secrets; the VMs that pull with them are gone by then.
    steps: () => [
      'vms-and-disks',
      ...registrySteps(registry, ['registry-teardown']),
      'network-and-credentials',
      'finalize',
    ],
    async run(step, ctx) {
      if (step.startsWith('registry')) return runRegistryStep(registry, step, ctx);
      switch (step) {
        case 'vms-and-disks':
          return steps.removeInstances(ctx, () => true);
        case 'network-and-credentials':
          return steps.releaseCluster(ctx);
        case 'finalize':
          return steps.markDeleted(ctx);
        default:
          throw new SlipwayError('Internal', `unknown DELETE step ${step}`);
      }
    },
  };
}
