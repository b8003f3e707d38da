import { inject, injectable } from 'tsyringe';
import type { Clock, JobProperties, PodRouting } from '@slipway/contracts';
import type { PluginSet } from '../plugins/plugin-set.js';
import type { InstanceRow, Store } from '../store/index.js';
import { CLOCK, PLUGINS, STORE } from '../tokens.js';
import { ENGINE_ACTOR } from './agent-identity.js';
import { buildJobProperties, KUBERNETES_API_PORT } from './job-properties.js';
import { registrySettings } from '../registry/node-settings.js';

/** How long built properties are reused: syncs arrive every heartbeat, credentials change rarely. */
const CACHE_MS = 30_000;

/**
 * The AgentRegistry's source of DesiredState.properties: builds them per instance from the store and the
 * credential provider, and keeps them briefly, keyed by everything they depend on in the store (the
 * instance's incarnation and generation, the cluster's addresses), so heartbeats do not read every PEM.
 */
@injectable()
export class JobPropertiesBuilder {
  private readonly cache = new Map<string, { key: string; at: number; properties: Promise<JobProperties> }>();

  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(PLUGINS) private readonly plugins: PluginSet,
    @inject(CLOCK) private readonly clock: Clock,
  ) {}

  async propertiesFor(instance: InstanceRow): Promise<JobProperties> {
    const found = await this.store.clusters.findByUuid(instance.cluster_uuid);
    if (!found) return {};
    // A node runs the version of its own spec: during an upgrade, the replaced nodes the new one and the others
    // the old one, and when the cluster's version flips at the end no running node is told something new.
    const spec = await this.store.db
      .selectFrom('instance_specs')
      .select('k8s_version')
      .where('instance_id', '=', instance.id)
      .executeTakeFirst();
    const cluster = { ...found, k8s_version: spec?.k8s_version ?? found.k8s_version };
    const instances = await this.store.instances.ofCluster(instance.cluster_uuid);
    const registry = await this.store.registry.find(instance.cluster_uuid);
    const podRouting = await this.podRoutingOf(cluster.network_profile);
    const key = JSON.stringify([
      instance.agent_id,
      instance.desired_generation,
      cluster.api_address,
      cluster.k8s_version,
      instances.filter((i) => i.desired !== 'absent').map((i) => [i.group_name, i.idx, i.ip, i.pod_cidr]),
      // A rotated robot secret reaches nodes at their next sync.
      registry?.updated_at ?? null,
      podRouting,
    ]);
    const cached = this.cache.get(instance.id);
    if (cached && cached.key === key && this.clock.now() - cached.at < CACHE_MS) return cached.properties;
    const properties = buildJobProperties(this.plugins.credentials, ENGINE_ACTOR, {
      cluster,
      instances,
      instance,
      apiPort: KUBERNETES_API_PORT,
      podRouting,
    }).then(async (built) =>
      registry?.pull_robot ? { ...built, registry: await registrySettings(this.plugins.credentials, registry) } : built,
    );
    this.cache.set(instance.id, { key, at: this.clock.now(), properties });
    // A failure is not kept: the next sync tries again.
    properties.catch(() => {
      if (this.cache.get(instance.id)?.properties === properties) this.cache.delete(instance.id);
    });
    return properties;
  }

  /**
   * Who routes pods between this cluster's nodes. The network profile's `cni_configurations.type` (TKGI's
   * switch) names a CNI that routes on its own (`antrea`, `flannel`: `none` for Slipway) or NSX-T's NCP; without
   * one, a network driver with the `pod-routing` capability (NSX-T) routes them, else the agents' host routes.
   */
  private async podRoutingOf(profileName: string | null | undefined): Promise<PodRouting> {
    if (profileName) {
      const row = await this.store.db
        .selectFrom('network_profiles')
        .select('parameters')
        .where('name', '=', profileName)
        .executeTakeFirst();
      const cni = row
        ? (JSON.parse(row.parameters) as { cni_configurations?: { type?: string } }).cni_configurations?.type
        : undefined;
      if (cni === 'antrea' || cni === 'flannel') return 'none';
      if (cni === 'nsxt') return 'network-driver';
    }
    return (this.plugins.networkCapabilities ?? []).includes('pod-routing') ? 'network-driver' : 'host-routes';
  }

  forget(instanceId: string): void {
    this.cache.delete(instanceId);
  }
}
