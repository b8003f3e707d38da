import { SlipwayError, type AgentSettings, type Clock, type Logger } from '@slipway/contracts';
import { requestBootstrap, type AgentChannel } from '../channel-client.js';
import { createKeyAndRequest } from './csr.js';
import { credentialsOf, type AgentCredentials, type AgentCredentialStore } from './identity-store.js';

/** Renew once two thirds of a certificate's life have passed, as kubelet does (70-90%). */
const RENEW_AT_FRACTION = 2 / 3;

/**
 * The agent's own identity: a key made on this VM and the client certificate the control plane signed
 * for it. First boot trades the settings' one-time token for a certificate; later boots reuse the kept
 * one; before it expires it is renewed over the mTLS channel with a fresh key.
 */
export class NodeIdentity {
  private current: AgentCredentials | undefined;
  /**
   * When this agent received the current certificate, by its own clock. Renewal is timed from it rather than
   * from the certificate's notBefore (the control plane's clock), so a VM clock far ahead of the control
   * plane's does not renew on every sync.
   */
  private receivedAt: number | undefined;

  constructor(
    private readonly settings: AgentSettings,
    private readonly store: AgentCredentialStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly requestTimeoutMs: number,
  ) {}

  get credentials(): AgentCredentials | undefined {
    return this.current;
  }

  /** The credentials to dial with: kept ones of this agent id that have not expired, else a bootstrap. */
  async ensure(signal: AbortSignal): Promise<AgentCredentials> {
    if (this.current) return this.current;
    const kept = await this.store.load();
    if (kept && kept.agentId === this.settings.agentId && kept.notAfter > this.clock.now()) {
      this.logger.info('using the client certificate kept on this VM', {
        serial: kept.serial,
        notAfter: new Date(kept.notAfter).toISOString(),
      });
      this.current = kept;
      this.receivedAt = undefined;
      return kept;
    }
    if (kept) {
      const why =
        kept.agentId !== this.settings.agentId
          ? `it belongs to agent ${kept.agentId}`
          : `it expired at ${new Date(kept.notAfter).toISOString()}`;
      this.logger.warn('not using the kept client certificate; bootstrapping with the token from the user data', {
        why,
      });
    }
    const expiresAt = Date.parse(this.settings.bootstrap?.expiresAt ?? '');
    if (!this.settings.bootstrap?.token) {
      throw new SlipwayError(
        'InvalidConfig',
        'the settings carry no bootstrap token and no certificate is kept on this VM; the control plane must recreate it',
        { retryable: true },
      );
    }
    // The key is kept before the CSR leaves: if this agent dies before it keeps the answer, the next one asks
    // again with the same key and gets the same certificate (the token is spent by then).
    const pendingKey = await this.store.loadPendingKey();
    const { keyPem, csrPem } = await createKeyAndRequest(this.settings.agentId, pendingKey);
    if (!pendingKey) await this.store.savePendingKey(keyPem);
    let grant;
    try {
      grant = await requestBootstrap(this.settings, csrPem, { requestTimeoutMs: this.requestTimeoutMs, signal });
    } catch (error) {
      const err = SlipwayError.from(error);
      if (err.code === 'Unauthenticated' && Number.isFinite(expiresAt) && expiresAt <= this.clock.now()) {
        throw new SlipwayError(
          'Unauthenticated',
          `${err.message} (the token expired at ${this.settings.bootstrap.expiresAt})`,
          { cause: err, retryable: true },
        );
      }
      throw err;
    }
    const credentials = credentialsOf(grant.certificate, keyPem);
    await this.store.save(credentials);
    this.current = credentials;
    this.receivedAt = this.clock.now();
    this.logger.info("bootstrapped: the control plane signed this VM's client certificate", {
      serial: credentials.serial,
      notAfter: new Date(credentials.notAfter).toISOString(),
    });
    return credentials;
  }

  /** When the current certificate should be renewed (ms since the epoch); undefined before `ensure`. */
  renewAt(): number | undefined {
    const c = this.current;
    return c ? (this.receivedAt ?? c.notBefore) + (c.notAfter - c.notBefore) * RENEW_AT_FRACTION : undefined;
  }

  /** A new key and certificate through `channel` (authenticated by the current certificate), kept before it is used. */
  async renew(channel: AgentChannel, signal: AbortSignal): Promise<AgentCredentials> {
    const previous = this.current;
    const { keyPem, csrPem } = await createKeyAndRequest(this.settings.agentId);
    const grant = await channel.renew(csrPem, signal);
    const credentials = credentialsOf(grant.certificate, keyPem);
    await this.store.save(credentials);
    this.current = credentials;
    this.receivedAt = this.clock.now();
    this.logger.info('renewed the client certificate', {
      serial: credentials.serial,
      previous: previous?.serial,
      notAfter: new Date(credentials.notAfter).toISOString(),
    });
    return credentials;
  }
}
