import { inject, injectable } from 'tsyringe';
import { SlipwayError, type Clock } from '@slipway/contracts';
import { seesAllClusters, type Principal } from '../auth/roles.js';
import { findCluster } from '../clusters/cluster-access.js';
import type { PluginSet } from '../plugins/plugin-set.js';
import type { Store } from '../store/index.js';
import { CLOCK, PLUGINS, STORE } from '../tokens.js';
import { clusterCertificates, type CertificateEntry } from './certificate-inventory.js';

export interface ClusterCertificates {
  cluster: string;
  /** The control plane's time the days are counted from. */
  checked_at: string;
  certificates: CertificateEntry[];
}

/**
 * `slipway certificates CLUSTER` (TKGI's command): every certificate of a cluster with its expiry, with the
 * access of the cluster routes (another tenant's cluster is reported missing). Only public facts leave:
 * names, subjects, SANs, serials and validity. A user who may not see every cluster sees no other user's
 * kubeconfig certificate (their names would say who holds credentials).
 */
@injectable()
export class CertificateService {
  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(PLUGINS) private readonly plugins: PluginSet,
    @inject(CLOCK) private readonly clock: Clock,
  ) {}

  async list(principal: Principal, name: string, options: { days?: number } = {}): Promise<ClusterCertificates> {
    if (options.days !== undefined && (!Number.isInteger(options.days) || options.days < 0 || options.days > 36_500)) {
      throw new SlipwayError(
        'InvalidInput',
        `days must be a whole number of days from 0 to 36500; got ${options.days}`,
        { field: 'days' },
      );
    }
    const cluster = await findCluster(this.store, principal, name, 'read');
    const now = this.clock.now();
    const all = await clusterCertificates(this.plugins.credentials, cluster.uuid, now);
    const own = (c: CertificateEntry) => c.name === `users/${principal.id}` || c.name === `users/${principal.name}`;
    const visible = all
      .filter((c) => c.kind !== 'user' || seesAllClusters(principal) || own(c))
      .filter((c) => options.days === undefined || c.days_left <= options.days);
    const certificates = await this.withUserNames(visible);
    return { cluster: cluster.name, checked_at: new Date(now).toISOString(), certificates };
  }

  /**
   * Kubeconfig certificates are stored under the user's immutable id (`users/7`); people read names, so the
   * list says `users/alice`, or `users/7 (deleted user)` for one whose user is gone.
   */
  private async withUserNames(entries: CertificateEntry[]): Promise<CertificateEntry[]> {
    if (!entries.some((c) => c.kind === 'user')) return entries;
    const names = new Map((await this.store.users.list()).map((u) => [String(u.id), u.name]));
    return entries.map((c) => {
      const key = c.kind === 'user' ? /^users\/(\d+)$/.exec(c.name)?.[1] : undefined;
      if (key === undefined) return c;
      const user = names.get(key);
      return { ...c, name: user ? `users/${user}` : `users/${key} (deleted user)` };
    });
  }
}
