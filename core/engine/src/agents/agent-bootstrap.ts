import { X509Certificate } from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import {
  SlipwayError,
  type AgentBootstrapRequest,
  type AgentCertificateGrant,
  type Clock,
  type Logger,
} from '@slipway/contracts';
import type { SignedRequest } from '@slipway/pki';
import { isoNow } from '../clock.js';
import type { AgentCertificateOrigin, AgentCertificateRow, InstanceRow, Store } from '../store/index.js';
import { CLOCK, LOGGER, STORE } from '../tokens.js';
import { AgentCertificateAuthority } from './agent-certificate-authority.js';
import { bootstrapTokenHash } from './bootstrap-tokens.js';

/** The client certificate an agent presented, as the TLS layer verified it against the agent CA. */
export interface AgentPeer {
  /** The certificate's CN. */
  agentId: string;
  /** Upper-case hex. */
  serial: string;
  /** Validity as the certificate states it (only needed for certificates from before bootstrap tokens). */
  validFrom?: string;
  validTo?: string;
}

/** How often one refusal (same agent, same reason) is logged: a refused agent retries every few seconds. */
const REFUSAL_LOG_INTERVAL_MS = 60_000;
const REFUSAL_LOG_MEMORY = 1_000;

/**
 * The control plane's side of agent identity (kubelet-style TLS bootstrap): trades a one-time token and a
 * CSR for a short-lived client certificate, renews certificates over mTLS, and decides whether a presented
 * certificate may use the agent channel (its serial is recorded, active, not expired, and its agent id is
 * still its instance's). Every refusal is logged once a minute per agent and reason, never with the token.
 */
@injectable()
export class AgentBootstrap {
  private readonly logger: Logger;
  private readonly refusalsLogged = new Map<string, number>();

  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(LOGGER) logger: Logger,
    @inject(AgentCertificateAuthority) private readonly ca: AgentCertificateAuthority,
  ) {
    this.logger = logger.child({ component: 'agent-bootstrap' });
  }

  /** `POST /agent/v1/bootstrap`: the token must exist, be unused, unexpired and issued to this agent id. */
  async bootstrap(input: AgentBootstrapRequest, from?: string): Promise<AgentCertificateGrant> {
    const { agentId } = input;
    const refuse = (reason: string): never =>
      this.refuse(
        'agent bootstrap refused',
        agentId,
        reason,
        from,
        `the bootstrap token is not valid for agent ${agentId} (unknown, already used, expired, or issued to another agent)`,
        'A bootstrap token works once, for its own VM, until it expires: recreate the VM (slipway doctor CLUSTER) to give it a fresh one.',
      );
    const tokenHash = bootstrapTokenHash(input.token);
    const token = await this.store.agentTrust.tokenByHash(tokenHash);
    if (!token) return refuse('unknown bootstrap token: never issued, or its VM was recreated or deleted since');
    if (token.agent_id !== agentId) return refuse(`foreign bootstrap token: it was issued to agent ${token.agent_id}`);
    const request = this.ca.parse(input.csr);
    if (token.used_at) {
      const repeated = await this.repeatedBootstrap(token.issued_serial, agentId, request.publicKeyPem);
      if (repeated) return repeated;
      return refuse(
        `bootstrap token already used at ${token.used_at} (a replay, or a sibling token of this agent was used)`,
      );
    }
    if (Date.parse(token.expires_at) <= this.clock.now())
      return refuse(`bootstrap token expired at ${token.expires_at}`);
    if (request.commonName !== agentId) {
      this.logRefusal(
        'agent bootstrap refused',
        agentId,
        `the CSR asks for CN ${JSON.stringify(request.commonName ?? '')}, not the agent id`,
        from,
      );
      throw new SlipwayError('InvalidInput', `csr: its subject CN must be the agent id ${agentId}`, { field: 'csr' });
    }
    const instance = await this.store.instances.byAgentId(agentId);
    if (!instance || instance.id !== token.instance_id) return refuse('its instance has a newer VM or is gone');
    const signed = await this.ca.sign(request, agentId, instance.cluster_uuid);
    const row = this.rowOf(signed, instance, 'bootstrap');
    if (!(await this.store.agentTrust.redeemToken(tokenHash, row)))
      return refuse('bootstrap token used by a concurrent request');
    this.logger.info('agent bootstrapped', {
      agentId,
      instance: `${instance.group_name}/${instance.idx}`,
      serial: row.serial,
      notAfter: row.not_after,
    });
    return grantOf(signed);
  }

  /**
   * An agent that died after its bootstrap was answered but before it kept the certificate asks again with
   * the same key (it keeps the key before it asks): it gets the same certificate back. Only the holder of that
   * key can sign such a CSR, so a replayed token still gets nothing.
   */
  private async repeatedBootstrap(
    serial: string | null,
    agentId: string,
    publicKeyPem: string,
  ): Promise<AgentCertificateGrant | undefined> {
    const issued = serial ? await this.store.agentTrust.certificate(serial) : undefined;
    if (!issued?.certificate || issued.agent_id !== agentId || issued.state !== 'active' || issued.first_used_at)
      return undefined;
    const issuedKey = new X509Certificate(issued.certificate).publicKey
      .export({ type: 'spki', format: 'pem' })
      .toString();
    if (issuedKey !== publicKeyPem) return undefined;
    this.logger.info('agent bootstrap repeated with the key it was answered for; the same certificate again', {
      agentId,
      serial: issued.serial,
    });
    return {
      certificate: issued.certificate,
      serial: issued.serial,
      notBefore: issued.not_before,
      notAfter: issued.not_after,
    };
  }

  /** `POST /agent/v1/renew` over mTLS: a new certificate for a new key; the presented one retires once the new one is used. */
  async renew(peer: AgentPeer, csrPem: string, from?: string): Promise<AgentCertificateGrant> {
    const current = await this.authenticate(peer, from);
    const request = this.ca.parse(csrPem);
    if (request.commonName !== peer.agentId)
      throw new SlipwayError('InvalidInput', `csr: its subject CN must be the agent id ${peer.agentId}`, {
        field: 'csr',
      });
    const instance = await this.currentInstance(peer, from);
    const signed = await this.ca.sign(request, peer.agentId, instance.cluster_uuid);
    const row = { ...this.rowOf(signed, instance, 'renewal'), renewed_from: current.serial };
    await this.store.agentTrust.insertRenewal(row);
    this.logger.info('agent certificate renewed', {
      agentId: peer.agentId,
      serial: row.serial,
      previous: current.serial,
      notAfter: row.not_after,
    });
    return grantOf(signed);
  }

  /**
   * Whether the presented certificate may use the agent channel now; throws `Unauthenticated` saying why
   * not. The first use of a renewed certificate retires the one it renewed.
   */
  async authenticate(peer: AgentPeer, from?: string): Promise<AgentCertificateRow> {
    const refuse = (reason: string): never =>
      this.refuse(
        'agent certificate refused',
        peer.agentId,
        reason,
        from,
        `the client certificate of agent ${peer.agentId} (serial ${peer.serial}) is not accepted: ${reason}`,
        'The VM of this agent was replaced or its certificate expired; the control plane recreates unresponsive VMs (slipway doctor CLUSTER).',
      );
    let row = await this.store.agentTrust.certificate(peer.serial);
    if (!row)
      row =
        (await this.adoptLegacy(peer, from)) ?? refuse('its serial was never issued to an agent by this control plane');
    if (row.agent_id !== peer.agentId) return refuse(`its serial belongs to agent ${row.agent_id}`);
    switch (row.state) {
      case 'active':
        break;
      case 'retired':
        return refuse(`retired at ${row.ended_at} (${row.reason})`);
      case 'revoked':
        return refuse(`revoked at ${row.ended_at} (${row.reason})`);
      default:
        return assertNever(row.state);
    }
    if (Date.parse(row.not_after) <= this.clock.now()) return refuse(`expired at ${row.not_after}`);
    if (!row.first_used_at) await this.store.agentTrust.firstUse(row, isoNow(this.clock));
    return row;
  }

  private async currentInstance(peer: AgentPeer, from?: string): Promise<InstanceRow> {
    const instance = await this.store.instances.byAgentId(peer.agentId);
    if (instance) return instance;
    return this.refuse(
      'agent certificate refused',
      peer.agentId,
      'its instance has a newer VM or is gone',
      from,
      `agent ${peer.agentId} is not known (its VM may have been deleted)`,
      undefined,
      'NotFound',
    );
  }

  /**
   * A certificate signed before bootstrap tokens existed (the engine made the key then): accepted, and
   * recorded so it is revoked like any other when its VM is recreated, only while its agent id is current
   * and never had a token or a recorded certificate. A new agent id always has a token, so this cannot
   * admit a certificate the engine did not sign for that very VM.
   */
  private async adoptLegacy(peer: AgentPeer, from?: string): Promise<AgentCertificateRow | undefined> {
    if (await this.store.agentTrust.knowsAgent(peer.agentId)) return undefined;
    const instance = await this.store.instances.byAgentId(peer.agentId);
    if (!instance || !peer.validFrom || !peer.validTo) return undefined;
    const row: AgentCertificateRow = {
      serial: peer.serial,
      agent_id: peer.agentId,
      instance_id: instance.id,
      cluster_uuid: instance.cluster_uuid,
      state: 'active',
      origin: 'legacy',
      not_before: new Date(peer.validFrom).toISOString(),
      not_after: new Date(peer.validTo).toISOString(),
      issued_at: isoNow(this.clock),
      renewed_from: null,
      first_used_at: null,
      ended_at: null,
      reason: null,
      certificate: null,
    };
    await this.store.agentTrust.insertCertificate(row);
    this.logger.warn(
      'agent uses a certificate from before bootstrap tokens; recreate its VM to move it to an on-VM key',
      { agentId: peer.agentId, serial: peer.serial, from },
    );
    return (await this.store.agentTrust.certificate(peer.serial)) ?? row;
  }

  private rowOf(signed: SignedRequest, instance: InstanceRow, origin: AgentCertificateOrigin): AgentCertificateRow {
    return {
      serial: signed.serial,
      agent_id: instance.agent_id,
      instance_id: instance.id,
      cluster_uuid: instance.cluster_uuid,
      state: 'active',
      origin,
      not_before: signed.notBefore.toISOString(),
      not_after: signed.notAfter.toISOString(),
      issued_at: isoNow(this.clock),
      renewed_from: null,
      first_used_at: null,
      ended_at: null,
      reason: null,
      certificate: signed.certificatePem,
    };
  }

  private refuse(
    what: string,
    agentId: string,
    reason: string,
    from: string | undefined,
    message: string,
    hint?: string,
    code: 'Unauthenticated' | 'NotFound' = 'Unauthenticated',
  ): never {
    this.logRefusal(what, agentId, reason, from);
    throw new SlipwayError(code, message, { hint });
  }

  private logRefusal(what: string, agentId: string, reason: string, from: string | undefined): void {
    const key = `${what}\u0000${agentId}\u0000${reason}`;
    const now = this.clock.now();
    const last = this.refusalsLogged.get(key);
    if (last !== undefined && now - last < REFUSAL_LOG_INTERVAL_MS) return;
    if (this.refusalsLogged.size >= REFUSAL_LOG_MEMORY) this.refusalsLogged.clear();
    this.refusalsLogged.set(key, now);
    this.logger.warn(what, { agentId, reason, ...(from ? { from } : {}) });
  }
}

function grantOf(signed: SignedRequest): AgentCertificateGrant {
  return {
    certificate: signed.certificatePem,
    serial: signed.serial,
    notBefore: signed.notBefore.toISOString(),
    notAfter: signed.notAfter.toISOString(),
  };
}

function assertNever(value: never): never {
  throw new SlipwayError('Internal', `unexpected certificate state ${String(value)}`);
}
