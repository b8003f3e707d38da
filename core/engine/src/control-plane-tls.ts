import { writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { CertificateParameters, CertificateValue, CredentialProvider } from '@slipway/contracts';
import { ENGINE_ACTOR } from './agents/agent-identity.js';
import type { SlipwayConfig } from './config/schema.js';

export const CONTROL_PLANE_CA = '/slipway/control-plane/ca';
export const AGENT_CA = '/slipway/control-plane/agent-ca';
export const SERVER_CERT = '/slipway/control-plane/server';

export interface ControlPlaneTls {
  /** The serving certificate chain and key. */
  cert: string;
  key: string;
  /** The CA users and agents trust (written to $SLIPWAY_HOME/ca.pem). */
  caPem: string;
  /** The CA whose client certificates identify agents. */
  agentCaPem: string;
}

/** The API's serving certificate: every name the API is reached at. Renewal reissues it with these. */
export function servingCertificateParameters(config: SlipwayConfig, advertisedBefore?: string): CertificateParameters {
  const names = new Set(['localhost', '127.0.0.1', config.api.bind, ...config.api.hostnames]);
  // Agents of existing VMs dial the URL advertised before (see advertise-url.ts): it stays a valid name.
  for (const advertised of [config.api.advertise_url, advertisedBefore])
    if (advertised) names.add(new URL(advertised).hostname.replace(/^\[|\]$/g, ''));
  names.delete('0.0.0.0');
  return {
    common_name: 'slipway-api',
    alternative_names: [...names].filter((n) => n && (isIP(n) || /^[a-z0-9.-]+$/i.test(n))),
    ca: CONTROL_PLANE_CA,
    extended_key_usage: ['server_auth'],
    key_usage: ['digital_signature', 'key_encipherment'],
    duration: 730,
  };
}

/**
 * The control plane's own PKI, kept in the credential provider like every other secret: a CA for the API's
 * serving certificate and a separate CA for agents' client certificates (so a user's kubeconfig
 * certificate can never pass as an agent). Converge mode: the first start generates, later starts reuse.
 */
export async function ensureControlPlaneTls(
  credentials: CredentialProvider,
  config: SlipwayConfig,
  caPath: string,
  advertisedBefore?: string,
): Promise<ControlPlaneTls> {
  const [ca, agentCa] = await Promise.all([
    credentials.generate(
      {
        name: CONTROL_PLANE_CA,
        type: 'certificate',
        mode: 'converge',
        parameters: {
          common_name: 'Slipway control plane CA',
          organization: 'Slipway',
          is_ca: true,
          self_sign: true,
          duration: 3650,
        },
      },
      ENGINE_ACTOR,
    ),
    credentials.generate(
      {
        name: AGENT_CA,
        type: 'certificate',
        mode: 'converge',
        parameters: {
          common_name: 'Slipway agent CA',
          organization: 'Slipway',
          is_ca: true,
          self_sign: true,
          duration: 3650,
        },
      },
      ENGINE_ACTOR,
    ),
  ]);
  const server = await credentials.generate(
    {
      name: SERVER_CERT,
      type: 'certificate',
      mode: 'converge',
      parameters: servingCertificateParameters(config, advertisedBefore),
    },
    ENGINE_ACTOR,
  );
  const caPem = (ca.value as CertificateValue).certificate;
  await writeFile(caPath, caPem, { mode: 0o644 });
  const serverValue = server.value as CertificateValue;
  return {
    cert: serverValue.certificate,
    key: serverValue.private_key,
    caPem,
    agentCaPem: (agentCa.value as CertificateValue).certificate,
  };
}
