import { inject, injectable } from 'tsyringe';
import {
  SlipwayError,
  type CallOptions,
  type Clock,
  type EnsureProjectInput,
  type RegistryDriver,
  type RobotAccount,
  type UserValue,
} from '@slipway/contracts';
import { ENGINE_ACTOR } from '../agents/agent-identity.js';
import { isoNow } from '../clock.js';
import { clusterCredentialPath, userActor } from '../cluster-pki.js';
import { KUBERNETES_API_PORT } from '../kubernetes.js';
import type { PlanRegistryConfig, SlipwayConfig } from '../config/schema.js';
import { PlanCatalog } from '../plans.js';
import type { PluginSet } from '../plugins/plugin-set.js';
import { withRetry } from '../retry.js';
import type { ClusterRow, Store } from '../store/index.js';
import type { StepContext } from '../tasks/model.js';
import { CLOCK, CONFIG, PLUGINS, STORE } from '../tokens.js';
import { registryProjectName, robotCredentialNames, robotNames } from './naming.js';
import { apiAnswers, applyPullSecret, dockerConfigSecret, PULL_SECRET_NAME } from './pull-secret.js';

const GIB = 1024 ** 3;

/**
 * The cluster's side of the image registry, as PKS wired Harbor: a project (per cluster or per owner) with
 * the plan's policy and the owner as maintainer, a pull robot for the nodes and, when the plan asks, a
 * push robot for CI. Robot secrets go into the credential store the moment the registry hands them out;
 * a robot whose secret the store lost is refreshed, never renamed. Every step converges, so a re-run after a
 * crash changes nothing that is already right.
 */
@injectable()
export class ClusterRegistrySteps {
  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(PLUGINS) private readonly plugins: PluginSet,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(CONFIG) private readonly config: SlipwayConfig,
    @inject(PlanCatalog) private readonly plans: PlanCatalog,
  ) {}

  /** Whether a registry plugin is configured: without one, the registry steps are not part of any task. */
  get configured(): boolean {
    return this.plugins.registry !== undefined;
  }

  async ensure(ctx: StepContext): Promise<void> {
    const registry = this.driver();
    const cluster = ctx.cluster;
    const settings = this.settings(cluster);
    const project = registryProjectName(cluster, settings.project);
    const robots = robotNames(cluster.uuid);
    const info = await this.call(ctx, 'info', (o) => registry.info(o));
    await this.ensureProject(ctx, registry, this.projectInput(ctx, project, settings));
    const pull = await this.ensureRobot(ctx, project, robots.pull, 'pull', robotCredentialNames(cluster.uuid).pull);
    let push: RobotAccount | undefined;
    if (settings.push_robot) {
      push = await this.ensureRobot(ctx, project, robots.push, 'push-pull', robotCredentialNames(cluster.uuid).push);
      // The owner's CI pushes with it: readable by the owner on exactly this name (not the cluster's whole path).
      // A cluster whose owner was deleted before owners were kept by id has none to grant to.
      if (cluster.owner_id !== null) {
        const grant = {
          actor: userActor({ id: cluster.owner_id }),
          path: robotCredentialNames(cluster.uuid).push,
          operations: ['read' as const],
        };
        await this.plugins.credentials.grant?.(grant, ENGINE_ACTOR);
      }
    }
    const existing = await this.store.registry.find(cluster.uuid);
    await this.store.registry.upsert({
      cluster_uuid: cluster.uuid,
      project,
      endpoint: info.endpoint,
      ca_pem: info.caPem ?? null,
      pull_robot: pull.name,
      push_robot: push?.name ?? null,
      secrets_rotated_at: existing?.secrets_rotated_at ?? null,
      updated_at: isoNow(this.clock),
    });
    await ctx.detail(
      `project ${project} on ${info.endpoint}; pull robot ${pull.name}${push ? `, push robot ${push.name}` : ''}`,
    );
  }

  /** Robots always; the project when nothing else uses it, it is empty, and the plan does not keep it. */
  async teardown(ctx: StepContext): Promise<void> {
    const registry = this.driver();
    const row = await this.store.registry.find(ctx.cluster.uuid);
    const settings = this.settings(ctx.cluster);
    const project = row?.project ?? registryProjectName(ctx.cluster, settings.project);
    const robots = robotNames(ctx.cluster.uuid);
    for (const robot of [robots.pull, robots.push])
      await this.call(ctx, `deleteRobot ${robot}`, (o) => registry.deleteRobot({ project, robot }, o));
    const names = robotCredentialNames(ctx.cluster.uuid);
    for (const name of [names.pull, names.push])
      await this.plugins.credentials.delete(name, ENGINE_ACTOR).catch((e) => ignoreNotFound(e));
    await this.plugins.credentials.revoke?.({ path: names.push }, ENGINE_ACTOR);
    let outcome: string;
    const sharing = await this.store.registry.sharing(project, ctx.cluster.uuid);
    if (settings.keep_project) {
      outcome = 'kept (plan registry.keep_project)';
    } else if (sharing.length > 0) {
      outcome = `kept (used by ${sharing.length} other cluster${sharing.length > 1 ? 's' : ''})`;
    } else {
      const result = await this.call(ctx, `deleteProject ${project}`, (o) => registry.deleteProject({ project }, o));
      outcome = result.deleted ? 'deleted' : 'kept: it holds images (delete them in the registry, then the project)';
      if (!result.deleted)
        await ctx.log(
          'warn',
          `registry project ${project} holds images and was kept; delete it in the registry when it is no longer needed`,
        );
    }
    await this.store.registry.remove(ctx.cluster.uuid);
    await ctx.detail(`robots deleted; project ${project} ${outcome}`);
  }

  /** New secrets for the cluster's robots (rotate-certificates, or on demand); nodes get the new pull secret at their next sync. */
  async rotate(ctx: StepContext): Promise<void> {
    const registry = this.driver();
    const row = await this.store.registry.find(ctx.cluster.uuid);
    if (!row) {
      await ctx.detail('the cluster has no registry project; nothing to rotate');
      return;
    }
    const robots = robotNames(ctx.cluster.uuid);
    const names = robotCredentialNames(ctx.cluster.uuid);
    const rotated: string[] = [];
    for (const [robot, credential, present] of [
      [robots.pull, names.pull, row.pull_robot],
      [robots.push, names.push, row.push_robot],
    ] as const) {
      if (!present) continue;
      const account = await this.call(ctx, `rotateRobotSecret ${robot}`, (o) =>
        registry.rotateRobotSecret({ project: row.project, robot }, o),
      );
      await this.storeSecret(credential, account.name, account.secret);
      rotated.push(account.name);
    }
    await this.store.registry.update(ctx.cluster.uuid, {
      secrets_rotated_at: isoNow(this.clock),
      updated_at: isoNow(this.clock),
    });
    await ctx.detail(`new secrets for ${rotated.join(', ')}`);
  }

  /**
   * The `slipway-registry` dockerconfigjson Secret for the default service account, for clients that want an
   * imagePullSecret. It needs a Kubernetes API that answers; where none does (no kube-apiserver binaries on the
   * nodes), the step says it skipped and why: nodes pull through containerd's registry config regardless.
   */
  async pullSecret(ctx: StepContext): Promise<void> {
    const row = await this.store.registry.find(ctx.cluster.uuid);
    const cluster = await this.store.clusters.findByUuid(ctx.cluster.uuid);
    if (!row || !cluster?.api_address) {
      await ctx.detail(
        row ? 'skipped: the cluster has no API address yet' : 'skipped: the cluster has no registry project',
      );
      return;
    }
    const path = clusterCredentialPath(cluster.uuid);
    const admin = (await this.plugins.credentials.get(`${path}/admin`, ENGINE_ACTOR)).value as {
      certificate: string;
      private_key: string;
      ca: string | null;
    };
    const ca = (await this.plugins.credentials.get(`${path}/kubernetes-ca`, ENGINE_ACTOR)).value as {
      certificate: string;
    };
    const api = {
      url: `https://${cluster.api_address}:${KUBERNETES_API_PORT}`,
      caPem: admin.ca ?? ca.certificate,
      clientCertificate: admin.certificate,
      clientKey: admin.private_key,
    };
    const answer = await apiAnswers(api, 3000, ctx.signal);
    if (!answer.ok) {
      await ctx.log(
        'info',
        `secret ${PULL_SECRET_NAME} not applied: the Kubernetes API at ${api.url} does not answer (${answer.reason}); ` +
          "nodes pull through containerd's registry config without it",
      );
      await ctx.detail(`skipped: the Kubernetes API at ${api.url} does not answer; nodes pull without a secret`);
      return;
    }
    const login = (await this.plugins.credentials.get(robotCredentialNames(cluster.uuid).pull, ENGINE_ACTOR))
      .value as UserValue;
    await applyPullSecret(api, dockerConfigSecret(row.endpoint, login.username, login.password), ctx.signal);
    await ctx.detail(`secret ${PULL_SECRET_NAME} applied and added to the default service account's imagePullSecrets`);
  }

  private async ensureRobot(
    ctx: StepContext,
    project: string,
    robot: string,
    access: 'pull' | 'push-pull',
    credential: string,
  ): Promise<RobotAccount> {
    const registry = this.driver();
    if (access === 'push-pull' && !this.has('robot.push')) {
      const message = `the registry plugin cannot make push robots (capability robot.push); set registry.push_robot: false in plan ${ctx.cluster.plan_name}`;
      throw new SlipwayError('Unsupported', message, {
        field: `plans.${ctx.cluster.plan_name}.registry.push_robot`,
      });
    }
    const description = `slipway cluster ${ctx.cluster.name} (${ctx.cluster.uuid})`;
    const account = await this.call(ctx, `ensureRobot ${robot}`, (o) =>
      registry.ensureRobot({ project, robot, access, description }, o),
    );
    if (account.secret) {
      await this.storeSecret(credential, account.name, account.secret);
      return account;
    }
    const stored = await this.plugins.credentials.get(credential, ENGINE_ACTOR).catch((e) => ignoreNotFound(e));
    if (stored && (stored.value as UserValue).username === account.name) return account;
    // The robot exists but its secret never reached the store (a crash between the two): refresh it.
    const refreshed = await this.call(ctx, `rotateRobotSecret ${robot}`, (o) =>
      registry.rotateRobotSecret({ project, robot }, o),
    );
    await this.storeSecret(credential, refreshed.name, refreshed.secret);
    return refreshed;
  }

  /**
   * The project, with the owner as maintainer when the registry knows the owner. A registry with its own user
   * database may not (a Slipway user is not a Harbor user): then the project is made without the member and
   * the task log says so, rather than failing the cluster.
   */
  private async ensureProject(ctx: StepContext, registry: RegistryDriver, input: EnsureProjectInput): Promise<void> {
    try {
      await this.call(ctx, `ensureProject ${input.project}`, (o) => registry.ensureProject(input, o));
    } catch (error) {
      const memberRefused =
        input.members?.length && (SlipwayError.is(error, 'NotFound') || SlipwayError.is(error, 'InvalidInput'));
      if (!memberRefused) throw error;
      await ctx.log(
        'warn',
        `registry project ${input.project}: the registry refused ${input.members!.map((m) => m.username).join(', ')} as maintainer ` +
          `(${(error as SlipwayError).message}); made without the member: add the user to the registry, then update the cluster`,
      );
      await this.call(ctx, `ensureProject ${input.project}`, (o) =>
        registry.ensureProject({ ...input, members: [] }, o),
      );
    }
  }

  private async storeSecret(name: string, username: string, password: string): Promise<void> {
    await this.plugins.credentials.set(
      { name, type: 'user', value: { username, password }, metadata: { kind: 'registry-robot' } },
      ENGINE_ACTOR,
    );
  }

  private projectInput(ctx: StepContext, project: string, settings: PlanRegistryConfig): EnsureProjectInput {
    const warn = (what: string, capability: string) =>
      void ctx.log(
        'warn',
        `plan ${ctx.cluster.plan_name} asks for ${what}, but the registry plugin lacks capability ${capability}; not set`,
      );
    const metadata: EnsureProjectInput['metadata'] = { public: false };
    if (
      settings.prevent_vulnerable !== undefined ||
      settings.severity !== undefined ||
      settings.auto_scan !== undefined
    ) {
      if (this.has('vulnerability')) {
        if (settings.prevent_vulnerable !== undefined) metadata.preventVulnerable = settings.prevent_vulnerable;
        if (settings.severity !== undefined) metadata.severity = settings.severity;
        if (settings.auto_scan !== undefined) metadata.autoScan = settings.auto_scan;
      } else warn('a vulnerability policy', 'vulnerability');
    }
    if (settings.cosign !== undefined) {
      if (this.has('cosign')) metadata.contentTrustCosign = settings.cosign;
      else warn('cosign content trust', 'cosign');
    }
    let storageLimitBytes: number | undefined;
    if (settings.storage_limit_gb !== undefined) {
      if (this.has('quota')) storageLimitBytes = Math.round(settings.storage_limit_gb * GIB);
      else warn('a storage quota', 'quota');
    }
    return {
      project,
      owner: settings.project === 'per-owner' ? ctx.cluster.owner : ctx.cluster.uuid,
      metadata,
      ...(storageLimitBytes !== undefined ? { storageLimitBytes } : {}),
      ...(this.has('members') ? { members: [{ username: ctx.cluster.owner, role: 'maintainer' as const }] } : {}),
    };
  }

  private settings(cluster: ClusterRow): PlanRegistryConfig {
    try {
      return this.plans.get(cluster.plan_name).registry ?? {};
    } catch {
      // A plan removed from slipway.yaml: its clusters are still torn down with the defaults.
      return {};
    }
  }

  private has(capability: string): boolean {
    return this.registryCapabilities().includes(capability);
  }

  private registryCapabilities(): readonly string[] {
    return this.plugins.registryCapabilities ?? [];
  }

  private driver(): RegistryDriver {
    const registry = this.plugins.registry;
    if (!registry) throw new SlipwayError('Internal', 'a registry step ran without a registry plugin');
    return registry;
  }

  /** A registry call with the engine's retry policy, each attempt under the step's signal. */
  private call<T>(ctx: StepContext, what: string, fn: (options: CallOptions) => Promise<T>): Promise<T> {
    // The task id travels as X-Request-Id (Harbor logs it), so a registry operator can find the task's calls.
    const requestId = `slipway-task-${ctx.task.id}`;
    return withRetry(`registry: ${what}`, () => fn({ signal: ctx.signal, requestId }), {
      clock: this.clock,
      signal: ctx.signal,
      policy: { attempts: this.config.tasks.retry_attempts, baseMs: 200, maxMs: 10_000 },
      onRetry: (error, attempt, waitMs) =>
        void ctx.log(
          'warn',
          `registry ${what}: ${error.message} (retryable; attempt ${attempt}, next in ${waitMs} ms)`,
        ),
    });
  }
}

function ignoreNotFound(error: unknown): undefined {
  if (SlipwayError.is(error, 'NotFound')) return undefined;
  throw error;
}
