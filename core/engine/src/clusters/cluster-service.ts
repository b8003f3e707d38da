import { randomUUID } from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import { SlipwayError, type Clock } from '@slipway/contracts';
import { ENGINE_ACTOR } from '../agents/agent-identity.js';
import { mayAccessCluster, requireRole, seesAllClusters, type Principal } from '../auth/roles.js';
import { isoNow } from '../clock.js';
import { clusterTrustBundle, issueUserCertificate } from '../cluster-pki.js';
import type { SlipwayConfig } from '../config/schema.js';
import { KUBERNETES_API_PORT } from '../lifecycle/cluster-tasks.js';
import type { RotationMode } from '../lifecycle/rotate-certificates.js';
import { PlanCatalog } from '../plans.js';
import type { PluginSet } from '../plugins/plugin-set.js';
import type { ClusterWithTask, Store } from '../store/index.js';
import { QuotaService } from '../quotas/index.js';
import { TaskRunner } from '../tasks/task-runner.js';
import { CLOCK, CONFIG, CONTROL_PLANE, PLUGINS, STORE, type ControlPlaneIdentity } from '../tokens.js';
import { findCluster } from './cluster-access.js';
import { checkProfileUpdate, findNetworkProfile, requireNetworkProfile } from '../network-profiles/index.js';
import { buildKubeconfig, type Kubeconfig } from './kubeconfig.js';
import { ClusterApi, describeAbsence } from '../kubernetes-api/cluster-api.js';
import { userRoleBinding } from '../kubernetes-api/rbac.js';
import { SmokeTest, type SmokeTestReport } from '../kubernetes-api/smoke-test.js';
import { clusterView, eventView, instanceView, planView, taskView, type ClusterView } from './views.js';

/** The fewest workers a cluster may have (PKS refused zero). */
export const MIN_WORKERS = 1;

const NAME = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;
/** A ClusterRole name (a path segment: no `/`, `%`, spaces). */
const CLUSTER_ROLE = /^[a-zA-Z0-9][a-zA-Z0-9:._-]{0,252}$/;
const HOSTNAME =
  /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

/**
 * What users do with clusters, with the access rules of PKS's scopes. Long work is handed to the task
 * runner; this class only validates, authorizes, records intent and answers.
 */
@injectable()
export class ClusterService {
  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(PlanCatalog) private readonly plans: PlanCatalog,
    @inject(TaskRunner) private readonly tasks: TaskRunner,
    @inject(PLUGINS) private readonly plugins: PluginSet,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(CONFIG) private readonly config: SlipwayConfig,
    @inject(CONTROL_PLANE) private readonly controlPlane: ControlPlaneIdentity,
    @inject(QuotaService) private readonly quotas: QuotaService,
    @inject(ClusterApi) private readonly kubernetes: ClusterApi,
    @inject(SmokeTest) private readonly smoke: SmokeTest,
  ) {}

  /** TKGI's smoke-test errand on one cluster: check by check, what passed, what failed, what could not be checked. */
  async smokeTest(principal: Principal, name: string): Promise<SmokeTestReport> {
    const row = await this.find(principal, name, 'write');
    return this.smoke.run(row);
  }

  listPlans() {
    return this.plans.list().map((p) => planView(p, this.plans.kubernetesVersion(p)));
  }

  async list(principal: Principal): Promise<ClusterView[]> {
    if (!seesAllClusters(principal) && !principal.roles.includes('clusters.manage')) return [];
    const rows = await this.store.clusters.list(seesAllClusters(principal) ? undefined : principal.id);
    const masters = await this.masterIpsOf(rows.map((r) => r.uuid));
    return rows.map((r) =>
      clusterView(r, masters.get(r.uuid) ?? [], this.controlPlane.version, this.kubernetes.requiresApi(r)),
    );
  }

  async get(principal: Principal, name: string): Promise<ClusterView> {
    const row = await this.find(principal, name, 'read');
    const view = clusterView(
      row,
      await this.store.instances.masterIps(row.uuid),
      this.controlPlane.version,
      this.kubernetes.requiresApi(row),
    );
    const registry = await this.store.registry.find(row.uuid);
    if (registry)
      view.registry = {
        project: registry.project,
        endpoint: registry.endpoint,
        pull_robot: registry.pull_robot,
        push_robot: registry.push_robot,
      };
    return view;
  }

  async details(principal: Principal, name: string) {
    const row = await this.find(principal, name, 'read');
    const instances = await this.store.instances.ofCluster(row.uuid);
    const disks = new Map(
      (await this.store.instances.disksOfCluster(row.uuid))
        .filter((d) => d.state !== 'deleted')
        .map((d) => [d.instance_id, d]),
    );
    const events = await this.store.events.ofCluster(row.uuid, 50);
    const names = new Map(instances.map((i) => [i.id, `${i.group_name}/${i.idx}`]));
    return {
      instances: instances.map((i) => instanceView(i, disks.get(i.id))),
      events: events.map((e) => eventView(e, names)),
    };
  }

  async create(
    principal: Principal,
    input: {
      name: string;
      plan_name: string;
      network_profile_name?: string;
      parameters: { kubernetes_master_host: string; kubernetes_worker_instances?: number };
    },
  ): Promise<ClusterView> {
    requireRole(principal, ['clusters.admin', 'clusters.manage'], 'create clusters');
    if (!NAME.test(input.name)) {
      throw new SlipwayError(
        'InvalidInput',
        `cluster name "${input.name}" is not valid: 1-40 lowercase letters, digits and dashes, starting and ending with a letter or digit`,
        { field: 'name' },
      );
    }
    const host = input.parameters.kubernetes_master_host;
    if (!HOSTNAME.test(host)) {
      throw new SlipwayError('InvalidInput', `"${host}" is not a valid host name for the Kubernetes API`, {
        field: 'parameters.kubernetes_master_host',
      });
    }
    const plan = this.plans.get(input.plan_name);
    const workers = input.parameters.kubernetes_worker_instances ?? plan.worker_instances;
    this.checkWorkers(workers, plan.max_worker_instances, 'parameters.kubernetes_worker_instances', input.plan_name);
    // Names are unique per owner: only the caller's own clusters are looked at, so the answer says nothing of
    // other tenants' names.
    const taken = () =>
      new SlipwayError('AlreadyExists', `you already have a cluster named "${input.name}"`, {
        field: 'name',
        hint: 'Pick another name, or delete your existing cluster first.',
      });
    if (await this.store.clusters.findOwned(principal.id, input.name)) throw taken();
    if (input.network_profile_name !== undefined)
      await requireNetworkProfile(this.store.db, input.network_profile_name, 'network_profile_name');
    const uuid = randomUUID();
    const now = isoNow(this.clock);
    // The quota check and the cluster row's insert run under the owner's admission lock: two creates racing for
    // the last free slot cannot both pass.
    await this.quotas.admit(
      principal,
      { action: 'create', cluster: input.name, plan, masters: plan.master_instances, workers },
      () =>
        this.tasks.submit({
          type: 'CREATE',
          cluster: { uuid, name: input.name },
          user: principal.name,
          description: `create cluster ${input.name}`,
          params: { workers },
          prepare: async () => {
            // Two creates of one name racing: the unique index on (owner_id, name, live) decides.
            const inserted = await this.store.clusters.insert({
              uuid,
              name: input.name,
              owner: principal.name,
              owner_id: principal.id,
              plan_name: plan.name,
              iaas: plan.iaas,
              external_hostname: host,
              k8s_version: this.plans.kubernetesVersion(plan),
              stemcell: `${this.config.kubernetes.stemcell.name}/${this.config.kubernetes.stemcell.version}`,
              master_instances: plan.master_instances,
              worker_instances: workers,
              api_address: null,
              status: 'active',
              live: 1,
              created_at: now,
              updated_at: now,
              network_profile: input.network_profile_name ?? null,
            });
            if (!inserted) throw taken();
          },
        }),
    );
    return this.getByUuid(uuid);
  }

  async resize(
    principal: Principal,
    name: string,
    workers: number | undefined,
    networkProfile?: string,
  ): Promise<ClusterView> {
    const row = await this.find(principal, name, 'write');
    const plan = this.plans.get(row.plan_name);
    const count = workers ?? row.worker_instances;
    this.checkWorkers(count, plan.max_worker_instances, 'kubernetes_worker_instances', plan.name);
    let description = `resize cluster ${row.name} to ${count} workers`;
    if (networkProfile !== undefined && networkProfile !== row.network_profile) {
      const next = await requireNetworkProfile(this.store.db, networkProfile, 'network_profile_name');
      const current = row.network_profile ? await findNetworkProfile(this.store.db, row.network_profile) : undefined;
      const changed = checkProfileUpdate(current, next);
      description =
        workers === undefined
          ? `update cluster ${row.name} to network profile ${networkProfile} (${changed.join(', ') || 'no field changes'})`
          : `${description} with network profile ${networkProfile}`;
    }
    const params = { workers: count, ...(networkProfile !== undefined ? { network_profile: networkProfile } : {}) };
    await this.quotas.admit(
      principal,
      { action: 'resize', cluster: row.name, uuid: row.uuid, plan, masters: row.master_instances, workers: count },
      () => this.tasks.submit({ type: 'UPDATE', cluster: row, user: principal.name, description, params }),
    );
    return this.getByUuid(row.uuid);
  }

  /** Rotates the cluster's certificates without downtime: a new CA in three phases, or new leaves only. */
  async rotateCertificates(principal: Principal, name: string, mode: RotationMode): Promise<ClusterView> {
    const row = await this.find(principal, name, 'write');
    if (mode === 'registry' && !this.plugins.registry) {
      throw new SlipwayError(
        'InvalidInput',
        `this Slipway has no registry plugin, so cluster ${name} has no registry robots to rotate`,
        {
          field: 'registry_only',
          hint: 'Configure registry: in slipway.yaml, or rotate certificates without --registry-only.',
        },
      );
    }
    const what =
      mode === 'ca'
        ? 'CAs, certificates and registry robot secrets'
        : mode === 'leaf'
          ? 'leaf certificates and registry robot secrets'
          : 'registry robot secrets';
    await this.tasks.submit({
      type: 'ROTATE',
      cluster: row,
      user: principal.name,
      description: `rotate the ${what} of cluster ${row.name}`,
      params: { mode },
    });
    return this.getByUuid(row.uuid);
  }

  async delete(principal: Principal, name: string): Promise<ClusterView> {
    const row = await this.find(principal, name, 'write');
    await this.tasks.submit({
      type: 'DELETE',
      cluster: row,
      user: principal.name,
      description: `delete cluster ${row.name}`,
      params: {},
    });
    return this.getByUuid(row.uuid);
  }

  /**
   * A kubeconfig with a fresh, short-lived client certificate (kubernetes.user_certificate_days) signed by the
   * cluster's CA: for the caller (CN = user name), or, for an admin, for another user (`user`). It binds
   * nothing in the cluster unless `bind` names a ClusterRole, which is then bound to that user through the
   * cluster's API (the creator's cluster-admin binding is applied by the create task itself).
   */
  async bind(principal: Principal, name: string, options: { user?: string; bind?: string } = {}): Promise<Kubeconfig> {
    const row = await this.find(principal, name, 'write');
    if (row.task_type === 'CREATE' && row.task_state !== 'done') {
      throw new SlipwayError(
        'Conflict',
        `cluster "${name}" is still being created (task ${row.task_id}); get credentials when it has succeeded`,
        { hint: `Run: slipway task ${row.task_id}` },
      );
    }
    const subject = await this.credentialSubject(principal, options.user);
    if (options.bind !== undefined) {
      if (!subject.other) requireRole(principal, ['clusters.admin'], 'bind a ClusterRole with get-credentials');
      if (!CLUSTER_ROLE.test(options.bind)) {
        throw new SlipwayError('InvalidInput', `bind: "${options.bind}" is not a ClusterRole name`, {
          field: 'bind',
          hint: 'Name a ClusterRole, e.g. cluster-admin, admin, edit or view.',
        });
      }
      const absence = await this.kubernetes.absence(row);
      if (absence)
        throw new SlipwayError(
          'Conflict',
          `cannot bind ${options.bind} to ${subject.user.name} in cluster "${row.name}": ${describeAbsence(absence)}`,
          { field: 'bind' },
        );
      const client = await this.kubernetes.client(row);
      await client.apply(userRoleBinding(subject.user.name, options.bind));
    }
    const groups = subject.user.roles.includes('clusters.admin') ? ['system:masters'] : [];
    const certificate = await issueUserCertificate(
      this.plugins.credentials,
      ENGINE_ACTOR,
      row.uuid,
      subject.user,
      groups,
      {
        durationDays: this.config.kubernetes.user_certificate_days ?? 7,
        fresh: true,
      },
    );
    // The trust bundle, not just the current CA: during a CA rotation it holds both, so this kubeconfig keeps
    // trusting the API server across the switch.
    const caPem = await clusterTrustBundle(this.plugins.credentials, ENGINE_ACTOR, row.uuid);
    // Behind a load balancer the kubeconfig names the VIP (in the API certificate's SANs), so it works before
    // DNS maps the external host name to it and keeps working whichever master dies.
    const masterIps = await this.store.instances.masterIps(row.uuid);
    const vip = row.api_address && !masterIps.includes(row.api_address) ? row.api_address : undefined;
    return buildKubeconfig({
      cluster: row.name,
      server: `https://${vip ?? row.external_hostname}:${KUBERNETES_API_PORT}`,
      caPem,
      user: subject.user.name,
      certificate: certificate.value,
    });
  }

  /** Whose certificate get-credentials issues: the caller's, or (admins only) another user's. */
  private async credentialSubject(
    principal: Principal,
    user: string | undefined,
  ): Promise<{ user: Principal; other: boolean }> {
    if (user === undefined || user === principal.name) return { user: principal, other: false };
    requireRole(principal, ['clusters.admin'], `get credentials for another user (${user})`);
    const row = await this.store.users.byName(user);
    if (!row)
      throw new SlipwayError('NotFound', `user "${user}" does not exist`, {
        field: 'user',
        hint: 'List users with `slipway users`.',
      });
    return { user: { id: row.id, name: row.name, roles: JSON.parse(row.roles) as Principal['roles'] }, other: true };
  }

  async listTasks(principal: Principal, options: { limit?: number; cluster?: string }) {
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 1000);
    // A tenant sees the tasks of the clusters it owns (a deleted one's history too), filtered, never refused:
    // another tenant's cluster name and a name nobody uses both give an empty list.
    if (!seesAllClusters(principal) && !principal.roles.includes('clusters.manage')) return [];
    const rows = await this.store.tasks.list({
      limit,
      clusterName: options.cluster,
      ownerId: seesAllClusters(principal) ? undefined : principal.id,
    });
    const steps = await this.store.tasks.stepsOf(rows.map((r) => r.id));
    return rows.map((t) =>
      taskView(
        t,
        steps.filter((s) => s.task_id === t.id),
      ),
    );
  }

  async getTask(principal: Principal, id: number) {
    const task = await this.visibleTask(principal, id, 'read');
    return taskView(task, await this.store.tasks.steps(id), await this.store.tasks.logs(id));
  }

  async cancelTask(principal: Principal, id: number) {
    await this.visibleTask(principal, id, 'write');
    const task = await this.tasks.cancel(id, principal.name);
    return taskView(task, await this.store.tasks.steps(id));
  }

  private async visibleTask(principal: Principal, id: number, access: 'read' | 'write') {
    const task = await this.store.tasks.get(id);
    const ownerId = task?.cluster_uuid
      ? ((await this.store.clusters.findByUuid(task.cluster_uuid))?.owner_id ?? null)
      : null;
    if (!task || !mayAccessCluster(principal, ownerId, 'read')) {
      // Someone else's task is reported as missing: names of other tenants' work do not leak.
      throw new SlipwayError('NotFound', `task ${id} does not exist`, {
        hint: 'List your tasks with `slipway tasks`.',
      });
    }
    if (!mayAccessCluster(principal, ownerId, access)) {
      throw new SlipwayError(
        'Forbidden',
        `${principal.name} (${principal.roles.join(', ')}) may see but not cancel task ${id}`,
        { hint: "Ask an admin (clusters.admin) or the cluster's owner." },
      );
    }
    return task;
  }

  private async getByUuid(uuid: string): Promise<ClusterView> {
    const row = await this.store.clusters.findByUuid(uuid);
    if (!row) throw new SlipwayError('NotFound', `cluster ${uuid} does not exist`);
    return clusterView(
      row,
      await this.store.instances.masterIps(row.uuid),
      this.controlPlane.version,
      this.kubernetes.requiresApi(row),
    );
  }

  private find(principal: Principal, name: string, access: 'read' | 'write'): Promise<ClusterWithTask> {
    return findCluster(this.store, principal, name, access);
  }

  private checkWorkers(workers: number, max: number, field: string, plan: string): void {
    // As PKS: a cluster without workers has nowhere to run its pods (masters carry a NoSchedule taint), so
    // zero is refused rather than accepted and left looking healthy.
    if (Number.isInteger(workers) && workers < MIN_WORKERS) {
      throw new SlipwayError(
        'InvalidInput',
        `${field} must be at least ${MIN_WORKERS}; got ${workers} (a cluster needs a worker to run its pods)`,
        {
          field,
          hint: `Ask for 1 to ${max} workers (the maximum of plan "${plan}").`,
        },
      );
    }
    if (!Number.isInteger(workers) || workers > max) {
      throw new SlipwayError(
        'InvalidInput',
        `${field} must be an integer from ${MIN_WORKERS} to ${max} (the maximum of plan "${plan}"); got ${workers}`,
        { field },
      );
    }
  }

  private async masterIpsOf(uuids: string[]): Promise<Map<string, string[]>> {
    const map = new Map<string, string[]>();
    if (!uuids.length) return map;
    // One query for all clusters: the list stays a constant number of queries at 1,000 clusters.
    const rows = await this.store.db
      .selectFrom('instances')
      .select(['cluster_uuid', 'ip'])
      .where('group_name', '=', 'master')
      .where('ip', 'is not', null)
      .where(
        'cluster_uuid',
        'in',
        uuids.length > 500 ? this.store.db.selectFrom('clusters').select('uuid').where('status', '=', 'active') : uuids,
      )
      .orderBy('cluster_uuid')
      .orderBy('idx')
      .execute();
    for (const r of rows) {
      const list = map.get(r.cluster_uuid) ?? [];
      list.push(r.ip!);
      map.set(r.cluster_uuid, list);
    }
    return map;
  }
}
