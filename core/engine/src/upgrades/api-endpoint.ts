import { inject, injectable } from 'tsyringe';
import type { Clock } from '@slipway/contracts';
import { isoNow } from '../clock.js';
import { KUBERNETES_API_PORT } from '../lifecycle/cluster-tasks.js';
import { label } from '../lifecycle/provisioner.js';
import type { PluginSet } from '../plugins/plugin-set.js';
import type { InstanceRow, Store } from '../store/index.js';
import { CLOCK, PLUGINS, STORE } from '../tokens.js';

/**
 * Keeps a cluster's API endpoint on masters that run. A network with a load balancer gets every master
 * (running ones first); a flat network answers with the first one, so the order matters there.
 */
@injectable()
export class ApiEndpoint {
  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(PLUGINS) private readonly plugins: PluginSet,
    @inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Before `leaving` goes down on purpose: points the endpoint at the other running masters. */
  async moveAway(
    clusterUuid: string,
    leaving: InstanceRow,
    signal: AbortSignal,
    log?: (m: string) => void,
  ): Promise<void> {
    const cluster = await this.store.clusters.findByUuid(clusterUuid);
    const others = (await this.masters(clusterUuid)).filter((m) => m.id !== leaving.id && m.state === 'running');
    if (this.plugins.networkCapabilities.includes('lb')) {
      // Behind a load balancer the VIP stays; the leaving master leaves the pool first, so no new connection
      // reaches it while it is replaced. The task's api-endpoint step puts every master back.
      if (!others.length) return;
      await this.plugins.network.ensureApiEndpoint(
        { clusterId: clusterUuid, port: KUBERNETES_API_PORT, masters: others.map((m) => m.ip!) },
        { signal },
      );
      log?.(`${label(leaving)} left the API load balancer's pool while it is replaced`);
      return;
    }
    if (!cluster?.api_address || cluster.api_address !== leaving.ip) return;
    if (!others.length) {
      log?.(`no other master runs: the Kubernetes API is unavailable while ${label(leaving)} is replaced`);
      return;
    }
    const { address } = await this.plugins.network.ensureApiEndpoint(
      { clusterId: clusterUuid, port: KUBERNETES_API_PORT, masters: others.map((m) => m.ip!) },
      { signal },
    );
    await this.store.clusters.update(clusterUuid, { api_address: address, updated_at: isoNow(this.clock) });
    log?.(`API endpoint moved off ${label(leaving)} to ${address}`);
  }

  /** Points the endpoint at every master, running ones first; returns the address clients use. */
  async repoint(clusterUuid: string, signal: AbortSignal): Promise<string | undefined> {
    const masters = await this.masters(clusterUuid);
    if (!masters.length) return undefined;
    const ordered = [...masters.filter((m) => m.state === 'running'), ...masters.filter((m) => m.state !== 'running')];
    const { address } = await this.plugins.network.ensureApiEndpoint(
      { clusterId: clusterUuid, port: KUBERNETES_API_PORT, masters: ordered.map((m) => m.ip!) },
      { signal },
    );
    await this.store.clusters.update(clusterUuid, { api_address: address, updated_at: isoNow(this.clock) });
    return address;
  }

  private async masters(clusterUuid: string): Promise<InstanceRow[]> {
    return (await this.store.instances.ofCluster(clusterUuid)).filter(
      (i) => i.group_name === 'master' && i.ip && i.desired !== 'absent',
    );
  }
}
