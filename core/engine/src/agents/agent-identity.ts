import { inject, injectable } from 'tsyringe';
import type { AgentSettings, Clock } from '@slipway/contracts';
import { isoNow } from '../clock.js';
import type { SlipwayConfig } from '../config/schema.js';
import type { PluginSet } from '../plugins/plugin-set.js';
import type { ClusterRow, InstanceRow, Store } from '../store/index.js';
import { CLOCK, CONFIG, CONTROL_PLANE, PLUGINS, STORE, type ControlPlaneIdentity } from '../tokens.js';
import { BootstrapTokens } from './bootstrap-tokens.js';

export const ENGINE_ACTOR = { actor: 'slipway:engine' } as const;

/**
 * Where Slipway before bootstrap tokens kept each VM's engine-made client certificate and key. Nothing
 * writes it any more; `forget` still deletes what an older version left there.
 */
export function legacyAgentCredentialName(clusterUuid: string, agentId: string): string {
  return `/slipway/clusters/${clusterUuid}/agents/${agentId}`;
}

/**
 * Gives each VM incarnation its identity: the bootstrap settings the IaaS driver delivers as user data,
 * with a fresh one-time bootstrap token and no key (the agent makes its key on the VM and gets its
 * certificate from POST /agent/v1/bootstrap). A re-run after a crash issues another token: the store keeps
 * every unused one of the agent until one is used or they expire, so the VM an idempotent createVm returns
 * can bootstrap with the token it was made with.
 */
@injectable()
export class AgentIdentity {
  constructor(
    @inject(PLUGINS) private readonly plugins: PluginSet,
    @inject(CONTROL_PLANE) private readonly controlPlane: ControlPlaneIdentity,
    @inject(CONFIG) private readonly config: SlipwayConfig,
    @inject(STORE) private readonly store: Store,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(BootstrapTokens) private readonly tokens: BootstrapTokens,
  ) {}

  async settingsFor(
    cluster: ClusterRow,
    instance: InstanceRow,
    persistentDiskId?: string,
    copyFromDiskId?: string,
  ): Promise<AgentSettings> {
    const bootstrap = await this.tokens.issue(instance);
    return {
      agentId: instance.agent_id,
      clusterId: cluster.uuid,
      instanceId: instance.id,
      group: instance.group_name,
      index: instance.idx,
      controlPlane: { url: this.controlPlane.agentUrl, caPem: this.controlPlane.caPem },
      bootstrap,
      network: { ip: instance.ip ?? '' },
      persistentDiskId,
      ...(copyFromDiskId ? { persistentDiskCopyFrom: copyFromDiskId } : {}),
      heartbeatIntervalMs: Math.round(this.config.agents.heartbeat_interval_seconds * 1000),
    };
  }

  /**
   * The VM incarnation `agentId` is over (recreated or deleted): its unused tokens go and its certificates
   * are refused on the agent channel from now on.
   */
  async forget(clusterUuid: string, agentId: string, reason = 'its VM was replaced or deleted'): Promise<void> {
    const at = isoNow(this.clock);
    await this.store.agentTrust.revokeAgent(agentId, reason, at);
    await this.store.agentTrust.prune(new Date(this.clock.now() - 86_400_000).toISOString());
    await this.plugins.credentials.delete(legacyAgentCredentialName(clusterUuid, agentId), ENGINE_ACTOR);
  }
}
