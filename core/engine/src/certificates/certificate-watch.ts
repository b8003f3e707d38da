import { inject, injectable } from 'tsyringe';
import { SlipwayError, type Clock, type Credential, type Logger } from '@slipway/contracts';
import { ENGINE_ACTOR } from '../agents/agent-identity.js';
import { isoNow } from '../clock.js';
import type { SlipwayConfig } from '../config/schema.js';
import { AGENT_CA, CONTROL_PLANE_CA, SERVER_CERT } from '../control-plane-tls.js';
import { AlertDispatcher } from '../health/alerts.js';
import type { RotateParams, RotationMode } from '../lifecycle/rotate-certificates.js';
import type { PluginSet } from '../plugins/plugin-set.js';
import { ACTIVE_TASK_STATES, type ClusterWithTask, type Store } from '../store/index.js';
import { TaskRunner } from '../tasks/task-runner.js';
import { CLOCK, CONFIG, LOGGER, PLUGINS, SERVING_CERTIFICATE, STORE } from '../tokens.js';
import { certificateEntry, clusterCertificates, factOf, type CertificateEntry } from './certificate-inventory.js';
import { ExpiryAlerts } from './expiry-alerts.js';
import type { ServingCertificate } from './serving-certificate.js';
import { certificateSettingsOf, type CertificateSettings } from './settings.js';
import { recordEngineDecision } from '../audit/audit-trail.js';

export const CONTROL_PLANE_SCOPE = 'control-plane';

/**
 * Watches every certificate's expiry, driven by the health monitor's loop every
 * `certificates.check_interval_seconds`: alerts at each threshold (ExpiryAlerts), renews the API's serving
 * certificate in place, and gives a cluster whose leaves come within `renew_before_days` a leaf rotation, or
 * whose CAs come within `ca_renew_before_days` a three-phase CA rotation. A rotation is the ordinary ROTATE
 * task (persisted, resumed after a restart, rolled without downtime), started for the cluster's owner with
 * `automatic: true`; at most `max_concurrent_renewals` run at once, and a cluster busy with another task is
 * left for a later check. Agents' own certificates are theirs to renew and are not counted.
 */
@injectable()
export class CertificateWatch {
  readonly settings: CertificateSettings;
  private readonly expiry: ExpiryAlerts;
  private readonly logger: Logger;
  private lastCheckMs = Number.NEGATIVE_INFINITY;
  private checking: Promise<void> | undefined;

  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(PLUGINS) private readonly plugins: PluginSet,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(LOGGER) logger: Logger,
    @inject(CONFIG) config: SlipwayConfig,
    @inject(AlertDispatcher) alerts: AlertDispatcher,
    @inject(TaskRunner) private readonly tasks: TaskRunner,
    @inject(SERVING_CERTIFICATE) private readonly serving: ServingCertificate,
  ) {
    this.settings = certificateSettingsOf(config);
    this.logger = logger.child({ component: 'certificates' });
    this.expiry = new ExpiryAlerts(store, alerts, clock, this.settings.alertDays);
  }

  /** Starts a check in the background when one is due and none runs (each health pass calls this). */
  poll(): void {
    const now = this.clock.now();
    if (this.checking || now - this.lastCheckMs < this.settings.checkIntervalMs) return;
    this.lastCheckMs = now;
    this.checking = this.check()
      .catch((e) => this.logger.error('certificate check failed', { error: (e as Error).message }))
      .finally(() => {
        this.checking = undefined;
      });
  }

  /** Waits for a check in progress (shutdown, tests). */
  async settle(): Promise<void> {
    await this.checking;
  }

  /** One check of every cluster and of the control plane. */
  async check(): Promise<void> {
    // One time for the whole check: days left, renewal decisions and alerts all count from it.
    const now = this.clock.now();
    await this.checkControlPlane(now);
    const clusters = await this.store.clusters.list();
    await this.store.db
      .deleteFrom('certificate_alerts')
      .where('scope', 'not in', [CONTROL_PLANE_SCOPE, ...clusters.map((c) => c.uuid)])
      .execute();
    let running = await this.automaticRotations();
    for (const cluster of clusters) {
      try {
        const all = await clusterCertificates(this.plugins.credentials, cluster.uuid, now);
        // Agents' and users' certificates are short-lived by design (renewed over the agent channel; a user runs
        // get-credentials again): their expiry is no reason to alert or to roll the cluster.
        const entries = all.filter((e) => e.kind !== 'agent' && e.kind !== 'user' && !e.transitional);
        await this.expiry.check(
          { scope: cluster.uuid, clusterUuid: cluster.uuid, label: `cluster ${cluster.name}`, certificates: entries },
          now,
        );
        const mode = this.renewalDue(entries);
        if (!mode) continue;
        if (running >= this.settings.maxConcurrentRenewals) {
          this.logger.info('certificate renewal waits for a running one to finish', {
            cluster: cluster.name,
            mode,
            running,
          });
          continue;
        }
        if (await this.renew(cluster, mode, entries)) running++;
      } catch (e) {
        this.logger.warn('could not check the certificates of a cluster; next check retries', {
          cluster: cluster.name,
          error: (e as Error).message,
        });
      }
    }
  }

  /** `ca` when a CA is within ca_renew_before_days, else `leaf` when a leaf is within renew_before_days. */
  renewalDue(entries: CertificateEntry[]): RotationMode | undefined {
    const soonest = (kinds: string[]) =>
      Math.min(...entries.filter((e) => kinds.includes(e.kind)).map((e) => e.days_left));
    if (soonest(['ca']) <= this.settings.caRenewBeforeDays) return 'ca';
    if (soonest(['leaf']) <= this.settings.renewBeforeDays) return 'leaf';
    return undefined;
  }

  private async renew(cluster: ClusterWithTask, mode: RotationMode, entries: CertificateEntry[]): Promise<boolean> {
    // A cluster still being created, or busy with any task, is left for the next check.
    if (await this.store.tasks.activeForCluster(cluster.uuid)) return false;
    if (cluster.task_type === 'CREATE' && cluster.task_state !== 'done') return false;
    const first = entries.find((e) => (mode === 'ca' ? e.kind === 'ca' : e.kind !== 'ca'))!;
    const what = mode === 'ca' ? 'CAs and certificates' : 'leaf certificates';
    const params: RotateParams = { mode, automatic: true };
    try {
      const task = await this.tasks.submit({
        type: 'ROTATE',
        cluster,
        user: cluster.owner,
        params,
        description: `renew the ${what} of cluster ${cluster.name} (automatic: ${first.name} expires ${first.not_after.slice(0, 10)})`,
      });
      this.logger.info('certificate renewal started', {
        cluster: cluster.name,
        mode,
        task: task.id,
        first: first.name,
        days_left: first.days_left,
      });
      await recordEngineDecision(
        this.store,
        isoNow(this.clock),
        'certificates.renew',
        `cluster:${cluster.name}`,
        cluster.uuid,
        { task_id: task.id, mode, first: first.name, days_left: first.days_left },
      );
      await this.store.events.record({
        at: isoNow(this.clock),
        cluster_uuid: cluster.uuid,
        instance_id: null,
        kind: 'certificates.renewal',
        severity: 'info',
        message:
          `renewing the ${what} (task ${task.id}): ${first.name} expires ${first.not_after} (${first.days_left} days); ` +
          `users run \`slipway get-credentials ${cluster.name}\` again afterwards`,
      });
      return true;
    } catch (e) {
      if (SlipwayError.is(e, 'Conflict')) return false; // a task got there first: next check
      throw e;
    }
  }

  private async automaticRotations(): Promise<number> {
    const rows = await this.store.db
      .selectFrom('tasks')
      .select('params')
      .where('type', '=', 'ROTATE')
      .where('state', 'in', ACTIVE_TASK_STATES)
      .execute();
    return rows.filter((r) => (JSON.parse(r.params) as Partial<RotateParams>).automatic === true).length;
  }

  /** The serving certificate is renewed in place; the control plane's CAs are alerted on only. */
  private async checkControlPlane(now: number): Promise<void> {
    const entries = async () => {
      const found: CertificateEntry[] = [];
      for (const name of [SERVER_CERT, CONTROL_PLANE_CA, AGENT_CA]) {
        let credential: Credential;
        try {
          credential = await this.plugins.credentials.get(name, ENGINE_ACTOR);
        } catch (e) {
          if (SlipwayError.is(e, 'NotFound')) continue;
          throw e;
        }
        found.push(certificateEntry(factOf(credential), '/slipway/control-plane', now));
      }
      return found.sort((a, b) => a.not_after.localeCompare(b.not_after));
    };
    let current = await entries();
    const server = current.find((e) => e.name === 'server');
    if (server && server.days_left <= this.settings.renewBeforeDays) {
      await this.serving.renew();
      this.logger.info('API serving certificate renewed and reloaded', { previous_not_after: server.not_after });
      current = await entries();
    }
    await this.expiry.check({ scope: CONTROL_PLANE_SCOPE, label: 'the control plane', certificates: current }, now);
  }
}
