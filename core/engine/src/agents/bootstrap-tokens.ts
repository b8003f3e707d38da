import { createHash, randomBytes } from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import type { AgentBootstrapToken, Clock } from '@slipway/contracts';
import { isoNow } from '../clock.js';
import type { SlipwayConfig } from '../config/schema.js';
import type { InstanceRow, Store } from '../store/index.js';
import { CLOCK, CONFIG, STORE } from '../tokens.js';

/** Prefix that makes a leaked token recognizable to a secret scanner (and to a human reading user data). */
const TOKEN_PREFIX = 'slipway-bootstrap.';

/** SHA-256 of a bootstrap token: what the store keeps. 256 random bits need no salt or slow hash. */
export function bootstrapTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Issues one-time bootstrap tokens: 256 random bits, bound to one agent id (one VM incarnation), valid for
 * `agents.bootstrap_token_ttl_seconds`, stored only as a hash. Nothing but the VM's user data holds the token.
 */
@injectable()
export class BootstrapTokens {
  private readonly ttlMs: number;

  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(CONFIG) config: SlipwayConfig,
  ) {
    this.ttlMs = config.agents.bootstrap_token_ttl_seconds * 1000;
  }

  async issue(instance: Pick<InstanceRow, 'id' | 'cluster_uuid' | 'agent_id'>): Promise<AgentBootstrapToken> {
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const now = this.clock.now();
    const expiresAt = new Date(now + this.ttlMs).toISOString();
    await this.store.agentTrust.insertToken({
      token_hash: bootstrapTokenHash(token),
      agent_id: instance.agent_id,
      instance_id: instance.id,
      cluster_uuid: instance.cluster_uuid,
      expires_at: expiresAt,
      used_at: null,
      issued_serial: null,
      created_at: isoNow(this.clock),
    });
    return { token, expiresAt };
  }
}
