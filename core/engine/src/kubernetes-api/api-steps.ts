import { inject, injectable } from 'tsyringe';
import { SlipwayError, throwIfAborted, type Clock } from '@slipway/contracts';
import type { StepContext } from '../tasks/model.js';
import type { Store } from '../store/index.js';
import { CLOCK, STORE } from '../tokens.js';
import { ClusterApi, describeAbsence } from './cluster-api.js';
import { describeUnavailable } from './job-report.js';
import { drainerClusterRole, drainerClusterRoleBinding, userRoleBinding } from './rbac.js';

const READYZ_POLL_MS = 1000;

/**
 * The steps that make a cluster's state honest and its API usable: a create or update succeeds only when its
 * Kubernetes jobs can run and the API answered /readyz (unless the plan says `kubernetes.require_api:
 * false`), and the cluster's creator and the drainer get their RBAC once it answers.
 */
@injectable()
export class KubernetesApiSteps {
  constructor(
    @inject(ClusterApi) private readonly api: ClusterApi,
    @inject(STORE) private readonly store: Store,
    @inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** The `kubernetes-api` step: unavailable jobs fail the task with the agents' reasons; then /readyz, bounded. */
  async awaitApi(ctx: StepContext): Promise<void> {
    const cluster = (await this.store.clusters.findByUuid(ctx.cluster.uuid)) ?? ctx.cluster;
    const absence = await this.api.absence(cluster);
    if (absence?.kind === 'not-required') {
      const unavailable = absence.unavailable.length
        ? `; jobs that cannot run: ${describeUnavailable(absence.unavailable)}`
        : '';
      await ctx.log(
        'warn',
        `the Kubernetes API of ${cluster.name} was not checked: plan ${cluster.plan_name} says kubernetes.require_api: false${unavailable}`,
      );
      await ctx.detail(`skipped: ${describeAbsence(absence)}`);
      return;
    }
    if (absence?.kind === 'unavailable') {
      throw new SlipwayError(
        'NotFound',
        `the Kubernetes jobs of cluster ${cluster.name} cannot run: ${describeUnavailable(absence.unavailable)}`,
        {
          hint: `Install the binaries on the VMs (the agent's --bin-dir, or the stemcell's packages) and run the update again; for an etcd-only rehearsal set kubernetes: { require_api: false } in plan ${cluster.plan_name}.`,
          details: { unavailable: absence.unavailable },
        },
      );
    }
    if (absence)
      throw new SlipwayError(
        'Conflict',
        `the Kubernetes API of cluster ${cluster.name} cannot be checked: ${describeAbsence(absence)}`,
      );

    const client = await this.api.client(cluster, 'admin', { timeoutMs: 5000 });
    const timeoutMs = this.api.readyTimeoutMs;
    const deadline = this.clock.now() + timeoutMs;
    let last = '';
    for (;;) {
      throwIfAborted(ctx.signal);
      const answer = await client.readyz(ctx.signal);
      if (answer.ready) break;
      if (answer.detail !== last) {
        last = answer.detail;
        await ctx.waitingFor(`the API at ${client.url} to answer /readyz (${answer.detail})`);
      }
      if (this.clock.now() >= deadline) {
        throw new SlipwayError(
          'Timeout',
          `the Kubernetes API of cluster ${cluster.name} did not become ready within ${Math.round(timeoutMs / 1000)} s: ${last}`,
          {
            hint: 'Look at kube-apiserver and etcd on the masters (`slipway cluster NAME --details`); raise kubernetes.api_ready_timeout_seconds if they start slowly.',
          },
        );
      }
      await sleep(Math.min(READYZ_POLL_MS, Math.max(0, deadline - this.clock.now())), ctx.signal);
    }
    await ctx.waitingFor(null);
    await ctx.detail(
      `/readyz answered at ${client.url} (admin client certificate, server verified against the cluster CA)`,
    );
  }

  /**
   * The `rbac` step: `cluster-admin` for the cluster's creator (the CN of the certificate their kubeconfig
   * carries), and the drainer's ClusterRole and binding. Skipped, with the reason, where there is no API.
   */
  async applyRbac(ctx: StepContext): Promise<void> {
    const cluster = (await this.store.clusters.findByUuid(ctx.cluster.uuid)) ?? ctx.cluster;
    const absence = await this.api.absence(cluster);
    if (absence) {
      const reason = describeAbsence(absence);
      await ctx.log(
        'warn',
        `RBAC of ${cluster.name} not applied (the creator's cluster-admin binding, the drainer's role): ${reason}`,
      );
      await ctx.detail(`skipped: ${reason}`);
      return;
    }
    const client = await this.api.client(cluster);
    const objects = [
      userRoleBinding(cluster.owner, 'cluster-admin'),
      drainerClusterRole(),
      drainerClusterRoleBinding(),
    ];
    for (const object of objects) await client.apply(object, ctx.signal);
    await ctx.detail(`applied ${objects.map((o) => `${o.kind} ${o.metadata.name}`).join(', ')}`);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
