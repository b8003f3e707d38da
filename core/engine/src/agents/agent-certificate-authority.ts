import { inject, injectable } from 'tsyringe';
import { SlipwayError, type CertificateValue, type Clock } from '@slipway/contracts';
import {
  parseCertificationRequest,
  signCertificationRequest,
  type CertificationRequest,
  type SignedRequest,
} from '@slipway/pki';
import type { SlipwayConfig } from '../config/schema.js';
import { ENGINE_ACTOR } from './agent-identity.js';
import type { PluginSet } from '../plugins/plugin-set.js';
import { CLOCK, CONFIG, CONTROL_PLANE, PLUGINS, type ControlPlaneIdentity } from '../tokens.js';

/** Five minutes of slack for clocks of VMs that boot before NTP has set them. */
const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * Signs agents' client certificates with the agent CA. The CA's private key is read from the credential
 * provider as the engine (no user's actor can read it) for each signature and never leaves this process.
 */
@injectable()
export class AgentCertificateAuthority {
  private readonly days: number;

  constructor(
    @inject(PLUGINS) private readonly plugins: PluginSet,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(CONFIG) config: SlipwayConfig,
    @inject(CONTROL_PLANE) private readonly controlPlane: ControlPlaneIdentity,
  ) {
    this.days = config.agents.certificate_days;
  }

  /** Parses and verifies a CSR; `InvalidInput` naming the field `csr` when it is not a good one. */
  parse(csrPem: unknown): CertificationRequest {
    if (typeof csrPem !== 'string' || csrPem.length === 0)
      throw new SlipwayError('InvalidInput', 'csr: must be a PEM certificate request', { field: 'csr' });
    let request: CertificationRequest;
    try {
      request = parseCertificationRequest(csrPem);
    } catch (error) {
      throw new SlipwayError('InvalidInput', `csr: ${(error as Error).message}`, { field: 'csr' });
    }
    if (!['ec-prime256v1', 'rsa-2048', 'rsa-3072', 'rsa-4096'].includes(request.keyDescription)) {
      throw new SlipwayError(
        'InvalidInput',
        `csr: the key is ${request.keyDescription}; agents use ECDSA P-256 (or RSA of 2048 bits or more)`,
        { field: 'csr' },
      );
    }
    return request;
  }

  /** A client certificate for the agent: CN = agent id, O = slipway:agents, OU = its cluster, client auth only. */
  async sign(request: CertificationRequest, agentId: string, clusterUuid: string): Promise<SignedRequest> {
    const ca = (await this.plugins.credentials.get(this.controlPlane.agentCaName, ENGINE_ACTOR))
      .value as CertificateValue;
    return signCertificationRequest(
      request,
      {
        subject: { commonName: agentId, organization: 'slipway:agents', organizationalUnit: `cluster:${clusterUuid}` },
        extendedKeyUsage: ['client_auth'],
        keyUsage: ['digital_signature'],
        // Valid from the earlier of the engine's clock and the host's: TLS checks the certificate against the
        // host's clock, the agent channel against the engine's (the same two, except on a test's moved clock).
        notBefore: new Date(Math.min(this.clock.now(), Date.now()) - CLOCK_SKEW_MS),
        notAfter: new Date(this.clock.now() + this.days * 86_400_000),
      },
      { certificatePem: ca.certificate, privateKeyPem: ca.private_key },
    );
  }
}
