import type { CertificateValue, CredentialProvider } from '@slipway/contracts';
import { ENGINE_ACTOR } from '../agents/agent-identity.js';
import type { SlipwayConfig } from '../config/schema.js';
import { SERVER_CERT, servingCertificateParameters, type ControlPlaneTls } from '../control-plane-tls.js';

export interface ServingKeyPair {
  cert: string;
  key: string;
}

/**
 * The API's serving certificate while the control plane runs. Renewal writes a new version to the
 * credential store and tells each listener (the HTTPS server calls `setSecureContext`), so new connections
 * get the new certificate without a restart; connections already open keep theirs until they close.
 */
export class ServingCertificate {
  private readonly listeners = new Set<(pair: ServingKeyPair) => void>();

  constructor(
    private readonly tls: ControlPlaneTls,
    private readonly credentials: CredentialProvider,
    private readonly config: SlipwayConfig,
    /** The URL agents of existing VMs dial (see advertise-url.ts): a renewal keeps it among the names. */
    private readonly advertisedBefore?: string,
  ) {}

  get current(): ServingKeyPair {
    return { cert: this.tls.cert, key: this.tls.key };
  }

  /** Calls `listener` after every renewal; returns the function that stops it. */
  onRenewed(listener: (pair: ServingKeyPair) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Issues a new serving certificate (same names, same CA) and hands it to the listeners. */
  async renew(): Promise<ServingKeyPair> {
    const credential = await this.credentials.generate(
      {
        name: SERVER_CERT,
        type: 'certificate',
        mode: 'overwrite',
        parameters: servingCertificateParameters(this.config, this.advertisedBefore),
      },
      ENGINE_ACTOR,
    );
    const value = credential.value as CertificateValue;
    // engine.tls is what later readers (a restart of the HTTPS server in tests) start from.
    this.tls.cert = value.certificate;
    this.tls.key = value.private_key;
    for (const listener of this.listeners) listener(this.current);
    return this.current;
  }
}
