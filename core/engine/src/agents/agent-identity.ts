import { inject, injectable } from 'tsyringe';
import type { AgentSettings } from '@slipway/contracts';
import type { SlipwayConfig } from '../config/schema.js';
import type { PluginSet } from '../plugins/plugin-set.js';
import type { ClusterRow, InstanceRow } from '../store/index.js';
import { CONFIG, CONTROL_PLANE, PLUGINS, type ControlPlaneIdentity } from '../tokens.js';

export const ENGINE_ACTOR = { actor: 'slipway:engine' } as const;

/** Name of the credential holding a VM agent's client certificate. */
export function agentCredentialName(clusterUuid: string, agentId: string): string {
  return `/slipway/clusters/${clusterUuid}/agents/${agentId}`;
}

/**
 * Issues each VM incarnation its identity (an ECDSA client certificate from the agent CA, CN = agent id)
 * and composes the bootstrap settings the IaaS driver delivers as user data. Converge mode makes this
 * idempotent: a resumed task gets the same certificate back.
 */
@injectable()
export class AgentIdentity {
  constructor(
    @inject(PLUGINS) private readonly plugins: PluginSet,
    @inject(CONTROL_PLANE) private readonly controlPlane: ControlPlaneIdentity,
    @inject(CONFIG) private readonly config: SlipwayConfig,
  ) {}

  async settingsFor(cluster: ClusterRow, instance: InstanceRow, persistentDiskId?: string): Promise<AgentSettings> {
    const credential = await this.plugins.credentials.generate({
      name: agentCredentialName(cluster.uuid, instance.agent_id),
      type: 'certificate',
      parameters: {
        common_name: instance.agent_id,
        organization: 'slipway:agents',
        organization_unit: `cluster:${cluster.uuid}`,
        ca: this.controlPlane.agentCaName,
        key_algorithm: 'ecdsa-p256',
        extended_key_usage: ['client_auth'],
        key_usage: ['digital_signature', 'key_agreement'],
        duration: 730,
      },
      mode: 'converge',
    }, ENGINE_ACTOR);
    return {
      agentId: instance.agent_id,
      clusterId: cluster.uuid,
      instanceId: instance.id,
      group: instance.group_name,
      index: instance.idx,
      controlPlane: { url: this.controlPlane.agentUrl, caPem: this.controlPlane.caPem },
      tls: { certPem: credential.value.certificate, keyPem: credential.value.private_key },
      network: { ip: instance.ip ?? '' },
      persistentDiskId,
      heartbeatIntervalMs: Math.round(this.config.agents.heartbeat_interval_seconds * 1000),
    };
  }

  async forget(clusterUuid: string, agentId: string): Promise<void> {
    await this.plugins.credentials.delete(agentCredentialName(clusterUuid, agentId), ENGINE_ACTOR);
  }
}
