import { SlipwayError } from '@slipway/contracts';
import type { SlipwayConfig } from '../config/schema.js';

/**
 * How replicas share the store. `exclusive`: one process owns the store (SQLite under the home lock), so
 * every unfinished task and the leader role are its own at once. `shared`: several replicas on one
 * PostgreSQL; work moves between them only through lapsed leases.
 */
export type ReplicaMode = 'exclusive' | 'shared';

export interface ReplicaSettings {
  mode: ReplicaMode;
  leaseMs: number;
  renewMs: number;
  claimMs: number;
}

export const REPLICA_DEFAULTS = { lease_seconds: 10, renew_interval_seconds: 3, claim_interval_seconds: 2 } as const;

export function replicaSettingsOf(config: Pick<SlipwayConfig, 'replicas'>, mode: ReplicaMode): ReplicaSettings {
  const r = { ...REPLICA_DEFAULTS, ...config.replicas };
  if (r.renew_interval_seconds * 2 > r.lease_seconds) {
    throw new SlipwayError(
      'InvalidConfig',
      `replicas.renew_interval_seconds (${r.renew_interval_seconds}) must be at most half of replicas.lease_seconds (${r.lease_seconds}): a lease renewed less often lapses under a single slow renewal`,
      {
        field: 'replicas.renew_interval_seconds',
        hint: 'Lower replicas.renew_interval_seconds to a third of replicas.lease_seconds.',
      },
    );
  }
  return {
    mode,
    leaseMs: r.lease_seconds * 1000,
    renewMs: r.renew_interval_seconds * 1000,
    claimMs: r.claim_interval_seconds * 1000,
  };
}
