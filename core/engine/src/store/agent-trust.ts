import type { Db } from './open.js';
import type { AgentBootstrapTokenRow, AgentCertificateRow } from './schema.js';

/** Outstanding tokens one agent id may have: enough for a few crash-and-resume runs of its create step. */
const TOKENS_PER_AGENT = 5;

/** Agents' bootstrap tokens (hashes) and the serials of the client certificates signed for them. */
export class AgentTrustRepository {
  constructor(private readonly db: Db) {}

  /** Stores a token's hash; keeps at most the newest TOKENS_PER_AGENT unused ones of the agent. */
  async insertToken(row: AgentBootstrapTokenRow): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.insertInto('agent_bootstrap_tokens').values(row).execute();
      const stale = await tx
        .selectFrom('agent_bootstrap_tokens')
        .select('token_hash')
        .where('agent_id', '=', row.agent_id)
        .orderBy('created_at', 'desc')
        .orderBy('token_hash')
        .offset(TOKENS_PER_AGENT)
        .limit(1000)
        .execute();
      if (stale.length)
        await tx
          .deleteFrom('agent_bootstrap_tokens')
          .where(
            'token_hash',
            'in',
            stale.map((s) => s.token_hash),
          )
          .execute();
    });
  }

  async tokenByHash(tokenHash: string): Promise<AgentBootstrapTokenRow | undefined> {
    return this.db
      .selectFrom('agent_bootstrap_tokens')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
  }

  /**
   * Burns the token (and every other token of its agent) and records the certificate, in one transaction.
   * False when the token was used meanwhile: a concurrent bootstrap with the same token won.
   */
  async redeemToken(tokenHash: string, certificate: AgentCertificateRow): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const burned = await tx
        .updateTable('agent_bootstrap_tokens')
        .set({ used_at: certificate.issued_at, issued_serial: certificate.serial })
        .where('token_hash', '=', tokenHash)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      if (Number(burned.numUpdatedRows) !== 1) return false;
      await tx
        .updateTable('agent_bootstrap_tokens')
        .set({ used_at: certificate.issued_at })
        .where('agent_id', '=', certificate.agent_id)
        .where('used_at', 'is', null)
        .execute();
      await tx.insertInto('agent_certificates').values(certificate).execute();
      return true;
    });
  }

  async certificate(serial: string): Promise<AgentCertificateRow | undefined> {
    return this.db.selectFrom('agent_certificates').selectAll().where('serial', '=', serial).executeTakeFirst();
  }

  /**
   * Records a renewed certificate (`renewed_from` set). Earlier renewals of the same certificate the agent
   * never used (their answer was lost) are retired at once; the renewed one stays active until the new one
   * is first used, so a lost answer costs nothing.
   */
  async insertRenewal(certificate: AgentCertificateRow): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx
        .updateTable('agent_certificates')
        .set({
          state: 'retired',
          ended_at: certificate.issued_at,
          reason: 'superseded by a later renewal before first use',
        })
        .where('renewed_from', '=', certificate.renewed_from)
        .where('state', '=', 'active')
        .where('first_used_at', 'is', null)
        .execute();
      await tx.insertInto('agent_certificates').values(certificate).execute();
    });
  }

  /** Marks the first use of a certificate; a renewal's first use retires the certificate it renewed. */
  async firstUse(certificate: AgentCertificateRow, at: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const marked = await tx
        .updateTable('agent_certificates')
        .set({ first_used_at: at })
        .where('serial', '=', certificate.serial)
        .where('first_used_at', 'is', null)
        .executeTakeFirst();
      if (Number(marked.numUpdatedRows) !== 1 || !certificate.renewed_from) return;
      await tx
        .updateTable('agent_certificates')
        .set({ state: 'retired', ended_at: at, reason: `renewed (serial ${certificate.serial})` })
        .where('serial', '=', certificate.renewed_from)
        .where('state', '=', 'active')
        .execute();
    });
  }

  async insertCertificate(certificate: AgentCertificateRow): Promise<void> {
    await this.db
      .insertInto('agent_certificates')
      .values(certificate)
      .onConflict((oc) => oc.column('serial').doNothing())
      .execute();
  }

  /** Whether the agent id ever had a token or a certificate recorded (false only for agents from before 0004). */
  async knowsAgent(agentId: string): Promise<boolean> {
    const token = await this.db
      .selectFrom('agent_bootstrap_tokens')
      .select('agent_id')
      .where('agent_id', '=', agentId)
      .executeTakeFirst();
    if (token) return true;
    return Boolean(
      await this.db
        .selectFrom('agent_certificates')
        .select('agent_id')
        .where('agent_id', '=', agentId)
        .executeTakeFirst(),
    );
  }

  /** The VM incarnation is over: its tokens go, its certificates are refused from now on. Returns how many were revoked. */
  async revokeAgent(agentId: string, reason: string, at: string): Promise<number> {
    return this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('agent_bootstrap_tokens').where('agent_id', '=', agentId).execute();
      const revoked = await tx
        .updateTable('agent_certificates')
        .set({ state: 'revoked', ended_at: at, reason })
        .where('agent_id', '=', agentId)
        .where('state', '=', 'active')
        .executeTakeFirst();
      return Number(revoked.numUpdatedRows);
    });
  }

  /** Forgets certificates that expired before `before` (they are refused by TLS anyway) and tokens expired then. */
  async prune(before: string): Promise<void> {
    await this.db.deleteFrom('agent_certificates').where('not_after', '<', before).execute();
    await this.db.deleteFrom('agent_bootstrap_tokens').where('expires_at', '<', before).execute();
  }
}
